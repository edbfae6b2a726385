#pragma once

// A whole fake machine under a temp directory, in two states five seconds apart ("round 0"
// and "round 1"), with the values every telemetry test derives its expectations from:
//   cpu: 2 cores; round 0 → 1: 20 % busy (cpu0 25 %, cpu1 15 %), 5 % iowait, 1000 ctxt/s
//   load 1.50 0.75 0.25; uptime 4111.5 s → 4116.5 s; 45 °C (x86_pkg_temp)
//   memory: 2048000 kB total, 1536000 kB available (25 % used); swap 25 % used
//   disk sda: 1024000 B/s read, 2048000 B/s written, 150 IOPS, 50 % busy
//   network eth0: 100000 B/s in, 50000 B/s out; tcp: 2 listen, 3 established, 1 time_wait
//   mounts: / (ext4, 63.16 % used), /data (xfs, ro, 50 %), /proc (excluded)
//   processes (5 s apart, 100 ticks/s): systemd (root, 1 %), python3 (alice, 90 %, 19.53 %
//   memory, --password scrubbed), worker (bob, 10 %), postgres (uid 108, 20 %)

#include "tests/io_proc/proc_fixture.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <sys/statvfs.h>

namespace vigil::test {

inline std::optional<std::string> fixture_user_name(std::uint32_t uid) {
  static const std::map<std::uint32_t, std::string> names{
      {0, "root"}, {108, "postgres"}, {1000, "alice"}, {1001, "bob"}};
  auto it = names.find(uid);
  if (it == names.end())
    return std::nullopt;
  return it->second;
}

class fixture_machine {
public:
  fixture_machine() { write_round(0); }

  const std::filesystem::path& root() const { return fx_.root(); }
  const proc_fixture& files() const { return fx_; }

  void write_round(int round) const {
    using namespace std::string_view_literals;
    bool r1 = round > 0;
    fx_.write("proc/stat", r1 ? "cpu  1300 0 600 9500 200 0 0 0 0 0\n"
                                "cpu0 700 0 300 4700 100 0 0 0 0 0\n"
                                "cpu1 600 0 300 4800 100 0 0 0 0 0\n"
                                "ctxt 105000\nbtime 1700000000\nprocesses 5050\n"
                                "procs_running 3\nprocs_blocked 1\n"
                              : "cpu  1000 0 500 8000 100 0 0 0 0 0\n"
                                "cpu0 500 0 250 4000 50 0 0 0 0 0\n"
                                "cpu1 500 0 250 4000 50 0 0 0 0 0\n"
                                "ctxt 100000\nbtime 1700000000\nprocesses 5000\n"
                                "procs_running 2\nprocs_blocked 0\n");
    fx_.write("proc/loadavg", "1.50 0.75 0.25 2/300 12345\n");
    fx_.write("proc/uptime", r1 ? "4116.50 8000.00\n" : "4111.50 7990.00\n");
    std::string cpuinfo;
    for (int i = 0; i < 2; ++i)
      cpuinfo += "processor\t: " + std::to_string(i) +
                 "\nmodel name\t: Fixture CPU @ 2.40GHz\ncpu MHz\t\t: 2400.000\n"
                 "physical id\t: 0\ncore id\t\t: " +
                 std::to_string(i) + "\n\n";
    fx_.write("proc/cpuinfo", cpuinfo);
    fx_.write("sys/class/thermal/thermal_zone0/type", "x86_pkg_temp\n");
    fx_.write("sys/class/thermal/thermal_zone0/temp", "45000\n");
    fx_.write("proc/meminfo", "MemTotal:        2048000 kB\n"
                              "MemFree:          512000 kB\n"
                              "MemAvailable:    1536000 kB\n"
                              "Buffers:           10240 kB\n"
                              "Cached:           409600 kB\n"
                              "SReclaimable:      20480 kB\n"
                              "Shmem:             10240 kB\n"
                              "SwapTotal:       1024000 kB\n"
                              "SwapFree:         768000 kB\n");
    fx_.write("proc/diskstats",
              r1 ? "   8       0 sda 1500 0 30000 750 2250 0 60000 2000 0 4300 4500 0 0 0 0\n"
                   "   8       1 sda1 1500 0 30000 750 2250 0 60000 2000 0 4300 4500 0 0 0 0\n"
                   "   7       0 loop0 10 0 20 0 0 0 0 0 0 0 0 0 0 0 0\n"
                 : "   8       0 sda 1000 0 20000 500 2000 0 40000 1500 0 1800 2000 0 0 0 0\n"
                   "   8       1 sda1 1000 0 20000 500 2000 0 40000 1500 0 1800 2000 0 0 0 0\n"
                   "   7       0 loop0 10 0 20 0 0 0 0 0 0 0 0 0 0 0 0\n");
    std::string header =
        "Inter-|   Receive                                                |  Transmit\n"
        " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs "
        "drop fifo colls carrier compressed\n";
    fx_.write("proc/net/dev",
              header + (r1 ? "    lo: 2000 20 0 0 0 0 0 0 2000 20 0 0 0 0 0 0\n"
                             "  eth0: 5500000 4500 0 0 0 0 0 0 3250000 2250 0 0 0 0 0 0\n"
                           : "    lo: 1000 10 0 0 0 0 0 0 1000 10 0 0 0 0 0 0\n"
                             "  eth0: 5000000 4000 0 0 0 0 0 0 3000000 2000 0 0 0 0 0 0\n"));
    std::string tcp = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when "
                      "retrnsmt   uid  timeout inode\n";
    const char* states[] = {"0A", "0A", "01", "01", "01", "06"};
    for (int i = 0; i < 6; ++i)
      tcp += "   " + std::to_string(i) + ": 0100007F:1F90 0100007F:C350 " + states[i] +
             " 00000000:00000000 00:00000000 00000000  1000        0 12345 1 0000000000000000 20 "
             "4 30 10 -1\n";
    fx_.write("proc/net/tcp", tcp);
    fx_.write("proc/self/mounts", "/dev/sda1 / ext4 rw,relatime 0 0\n"
                                  "/dev/sdb1 /data xfs ro,relatime 0 0\n"
                                  "proc /proc proc rw 0 0\n");
    // pid, comm, state, uid, utime and stime per round, threads, start ticks, rss pages, cmdline
    add_process(fx_, 1, "systemd", 'S', 0, r1 ? 205 : 200, 0, 1, 5, 3000, "/sbin/init\0splash\0"sv);
    add_process(fx_, 100, "python3", 'R', 1000, r1 ? 1450 : 1000, 0, 4, 1000, 100000,
                "python3\0app.py\0--password\0hunter2\0"sv);
    add_process(fx_, 200, "worker", 'S', 1001, r1 ? 150 : 100, 0, 2, 2000, 2000,
                "worker\0--fast\0"sv);
    add_process(fx_, 300, "postgres", 'S', 108, r1 ? 400 : 300, 0, 6, 3000, 50000,
                "postgres: main\0"sv);
  }

  // statvfs answers for the fixture's mounts (paths arrive as root + mount point).
  int statvfs(const std::string& path, struct ::statvfs& out) const {
    auto mount = path.substr(root().string().size());
    out = {};
    out.f_bsize = out.f_frsize = 4096;
    if (mount == "/" || mount.empty()) {
      out.f_blocks = 1000000;
      out.f_bfree = 400000;
      out.f_bavail = 350000;
      out.f_files = 65536;
      out.f_ffree = 60000;
      return 0;
    }
    if (mount == "/data") {
      out.f_blocks = 500;
      out.f_bfree = 250;
      out.f_bavail = 250;
      return 0;
    }
    return ENOENT;
  }

private:
  proc_fixture fx_;
};

} // namespace vigil::test
