#pragma once

// /proc/stat: CPU time counters (total and per core), context switches, tasks, boot time; and
// the usage calculator over two samples.

#include "io/proc/proc_file.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::proc {

// Time spent in each mode since boot, in clock ticks (USER_HZ, sysconf(_SC_CLK_TCK)). As in the
// kernel, `user` already contains `guest` and `nice` contains `guest_nice`.
struct cpu_times {
  std::uint64_t user = 0;
  std::uint64_t nice = 0;
  std::uint64_t system = 0;
  std::uint64_t idle = 0;
  std::uint64_t iowait = 0;
  std::uint64_t irq = 0;
  std::uint64_t softirq = 0;
  std::uint64_t steal = 0;
  std::uint64_t guest = 0;
  std::uint64_t guest_nice = 0;

  // Every tick once: guest time is not added again (it is inside user/nice).
  std::uint64_t total() const {
    return user + nice + system + idle + iowait + irq + softirq + steal;
  }
};

struct cpu_core_times {
  int id = 0; // N of "cpuN"; offline CPUs have no line
  cpu_times times;
};

struct cpu_stat_sample {
  cpu_times total;                     // the "cpu" line: all CPUs together
  std::vector<cpu_core_times> cores;   // "cpuN" lines in file order (ascending id)
  std::uint64_t context_switches = 0;  // "ctxt", since boot
  std::uint64_t processes_created = 0; // "processes" (forks), since boot
  std::uint32_t procs_running = 0;     // runnable tasks now
  std::uint32_t procs_blocked = 0;     // tasks blocked on I/O now
  std::int64_t boot_time = 0;          // "btime", seconds since the Unix epoch
};

// Parses the text of /proc/stat into `out` (its vectors are reused). Throws std::runtime_error
// naming `origin` when there is no well-formed "cpu" line.
void parse_cpu_stat(std::string_view text, cpu_stat_sample& out, std::string_view origin);

class cpu_stat_reader {
public:
  explicit cpu_stat_reader(const std::filesystem::path& root = "/");
  // Throws std::system_error / std::runtime_error naming the file.
  void read(cpu_stat_sample& out);
  cpu_stat_sample read();

private:
  std::string path_;
  proc_file_reader file_;
};

// Share of one interval's ticks per mode, in percent (0–100). The modes add up to 100:
// user + nice + system + irq + iowait + steal + guest + idle.
struct cpu_percentages {
  double usage = 0;  // everything but idle and iowait (100 − idle − iowait)
  double user = 0;   // user minus guest
  double nice = 0;   // nice minus guest_nice
  double system = 0; // kernel
  double irq = 0;    // irq + softirq
  double iowait = 0;
  double steal = 0; // taken by the hypervisor
  double guest = 0; // running guests (guest + guest_nice), counted once
  double idle = 0;
};

// Percentages between two readings of the same CPU. std::nullopt when no tick elapsed or a
// counter went backwards (CPU hot-unplugged and back, counter reset): that interval has no
// value rather than a garbage one. iowait alone may decrease (the kernel documents it as
// unreliable): a decrease counts as 0.
std::optional<cpu_percentages> cpu_percentages_between(const cpu_times& previous,
                                                       const cpu_times& current);

struct core_usage {
  int id = 0;
  std::optional<cpu_percentages> usage; // nullopt: new core, or counters went backwards
};

struct cpu_usage {
  std::optional<cpu_percentages> total;
  std::vector<core_usage> cores; // the cores of the current sample, in its order
  std::optional<double> context_switches_per_second;
  std::optional<double> processes_created_per_second;
};

// Pure function of two samples: cores are matched by id; a core that appeared has no value,
// one that disappeared is not listed. Rates need elapsed > 0.
cpu_usage compute_cpu_usage(const cpu_stat_sample& previous, const cpu_stat_sample& current,
                            std::chrono::duration<double> elapsed);

// sysconf(_SC_CLK_TCK), read once (100 on practically every Linux).
long clock_ticks_per_second();

} // namespace vigil::proc
