#pragma once

// Fake /proc and /sys trees for the io/proc readers: files written under a temp directory that
// is then passed as the readers' root.

#include "tests/support/temp_directory.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace vigil::test {

class proc_fixture {
public:
  const std::filesystem::path& root() const { return dir_.path(); }

  // Writes root/relative (creating directories), replacing any previous content.
  void write(std::string_view relative, std::string_view text) const {
    auto path = dir_.path() / relative;
    std::filesystem::create_directories(path.parent_path());
    rewrite_file(path, text);
  }

  void make_directory(std::string_view relative) const {
    std::filesystem::create_directories(dir_.path() / relative);
  }

  void remove(std::string_view relative) const {
    std::filesystem::remove_all(dir_.path() / relative);
  }

private:
  temp_directory dir_;
};

// /proc/[pid]/stat with the fields the reader uses; the others are plausible filler.
inline std::string stat_line(int pid, std::string_view comm, char state, int ppid,
                             std::uint64_t utime, std::uint64_t stime, int threads,
                             std::uint64_t start, std::uint64_t vsize, std::int64_t rss_pages) {
  return std::to_string(pid) + " (" + std::string(comm) + ") " + state + " " +
         std::to_string(ppid) + " " + std::to_string(pid) + " " + std::to_string(pid) +
         " 0 -1 4194560 1200 300 4 1 " + std::to_string(utime) + " " + std::to_string(stime) +
         " 0 0 20 0 " + std::to_string(threads) + " 0 " + std::to_string(start) + " " +
         std::to_string(vsize) + " " + std::to_string(rss_pages) +
         " 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0\n";
}

inline std::string status_text(std::string_view name, std::uint32_t uid) {
  auto u = std::to_string(uid);
  return "Name:\t" + std::string(name) + "\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t1\n" +
         "Pid:\t1\nPPid:\t0\nTracerPid:\t0\nUid:\t" + u + "\t" + u + "\t" + u + "\t" + u +
         "\nGid:\t0\t0\t0\t0\nThreads:\t1\n";
}

// /proc/[pid]/{stat,status,cmdline} of one process (parent 1).
inline void add_process(const proc_fixture& fx, int pid, std::string_view comm, char state,
                        std::uint32_t uid, std::uint64_t utime, std::uint64_t stime, int threads,
                        std::uint64_t start, std::int64_t rss_pages, std::string_view cmdline) {
  auto dir = "proc/" + std::to_string(pid) + "/";
  fx.write(dir + "stat",
           stat_line(pid, comm, state, 1, utime, stime, threads, start, 123456789, rss_pages));
  fx.write(dir + "status", status_text(comm, uid));
  fx.write(dir + "cmdline", cmdline);
}

} // namespace vigil::test
