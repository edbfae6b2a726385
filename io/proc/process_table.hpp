#pragma once

// The process table from /proc/[pid] and the per-process / per-user usage calculator over two
// walks.

#include "io/proc/proc_file.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace vigil::proc {

struct process_info {
  std::int32_t pid = 0;
  std::int32_t ppid = 0;
  std::string name; // comm: at most 15 characters, may contain spaces and ')'
  char state = '?'; // R running, S sleeping, D disk sleep, Z zombie, T/t stopped, I idle, X dead
  std::uint32_t uid = 0; // real user id
  std::string user;      // user name, or the uid in decimal when it has none
  std::uint32_t threads = 0;
  std::uint64_t rss_bytes = 0;     // resident set size
  std::uint64_t virtual_bytes = 0; // virtual memory size
  std::uint64_t cpu_ticks = 0;     // utime + stime, clock ticks (clock_ticks_per_second())
  std::uint64_t start_ticks = 0;   // start time after boot, clock ticks
  double start_time = 0;           // start time, seconds since the Unix epoch
  std::string cmdline; // arguments joined by spaces, secrets masked, at most cmdline_max_bytes;
                       // empty for kernel threads (and zombies)
  bool cmdline_truncated = false;
};

struct process_snapshot {
  std::vector<process_info> processes; // ascending pid
  double uptime_seconds = 0;           // system uptime when the walk started (0 if unknown)
};

struct process_table_options {
  std::size_t cmdline_max_bytes = 4096;
  bool read_command_lines = true;
  long clock_ticks_per_second = 0; // 0: sysconf(_SC_CLK_TCK)
  long page_size = 0;              // 0: sysconf(_SC_PAGESIZE)
  // uid → name; empty: getpwuid_r. Answers are cached. std::nullopt: shown as the number.
  std::function<std::optional<std::string>(std::uint32_t uid)> user_name;
  // The uid and command line of a process are read when it is first seen (new pid, or a reused
  // pid with another start time) and cached; later walks read only /proc/[pid]/stat. Both are
  // read again when comm changes (exec, PR_SET_NAME); the uid also every detail_refresh_walks
  // walks (spread over the walks by pid; 0: never), which bounds how long a setuid without exec
  // goes unseen. A command line rewritten in place (setproctitle) stays as first read until
  // refresh() is called for that process (process_sampler does for those it publishes).
  unsigned detail_refresh_walks = 10;
  // /proc/[pid]/stat files kept open between walks (one pread per process instead of
  // open/read/close), at most this many and at most a quarter of RLIMIT_NOFILE. 0: none.
  std::size_t max_open_stat_files = 2048;
};

class process_table_reader {
public:
  explicit process_table_reader(const std::filesystem::path& root = "/",
                                process_table_options options = {});
  ~process_table_reader();
  process_table_reader(const process_table_reader&) = delete;
  process_table_reader& operator=(const process_table_reader&) = delete;

  // Walks root/proc. Processes that vanish during the walk (ENOENT/ESRCH) or whose stat/status
  // cannot be read are skipped silently. Reuses the strings and vector of `out`. Throws
  // std::system_error naming root/proc when that cannot be listed.
  void read(process_snapshot& out);
  process_snapshot read();

  // Reads the uid (and user) and command line of a process of the last walk again, if it is
  // still the one that started at info.start_ticks, and updates the cache; false otherwise
  // (`info` is then unchanged). For the few processes a caller shows, so that those are current
  // whatever the refresh policy.
  bool refresh(process_info& info);

  // Cached uid → name.
  const std::string& user_name(std::uint32_t uid);

  // Processes whose uid and command line are cached (those of the last walk), and how many
  // stat files are held open.
  std::size_t cached_processes() const { return cache_.size(); }
  std::size_t open_stat_files() const { return open_stat_files_; }

private:
  struct cached_process {
    std::uint64_t start_ticks = 0;
    std::string name; // comm when the details were read: a change means exec or a rename
    std::uint32_t uid = 0;
    std::string cmdline;
    bool cmdline_truncated = false;
    bool valid = false;     // uid and cmdline were read for this start_ticks
    std::uint64_t seen = 0; // last walk that listed the pid
    int stat_fd = -1;       // /proc/[pid]/stat kept open, or -1
  };

  bool read_process(int proc_fd, const char* pid_name, process_info& info);
  bool read_stat(int proc_fd, const char* pid_name, cached_process& cached, process_info& info);
  bool read_details(int proc_fd, const char* pid_name, process_info& info, bool command_line);
  void close_stat(cached_process& cached);
  void clean_command_line(std::string_view raw, bool truncated, process_info& info);

  std::string proc_path_;
  std::string uptime_path_;
  std::string stat_path_;
  process_table_options options_;
  proc_file_reader file_;
  std::int64_t boot_time_ = -1; // btime, read once
  std::unordered_map<std::uint32_t, std::string> users_;
  std::unordered_map<std::int32_t, cached_process> cache_; // by pid
  std::uint64_t walk_ = 0;
  std::size_t max_open_stat_files_ = 0;
  std::size_t open_stat_files_ = 0;
};

// Per-process CPU % over the interval, aligned with current.processes: 100 = one CPU fully
// (a multithreaded process can exceed 100). Processes are matched by pid and start time (a
// reused pid is a new process). A process that started after the previous walk began counts
// all its CPU time; one that has no previous entry otherwise (first walk) gets std::nullopt.
// Both snapshots must be in ascending pid order (as read() returns them).
std::vector<std::optional<double>> compute_process_cpu(const process_snapshot& previous,
                                                       const process_snapshot& current,
                                                       std::chrono::duration<double> elapsed,
                                                       long clock_ticks_per_second = 0);

struct process_usage {
  std::int32_t pid = 0;
  std::string name;
  std::string user;
  char state = '?';
  double cpu_percent = 0; // 100 = one CPU
  std::uint64_t rss_bytes = 0;
  double memory_percent = 0; // rss / MemTotal, 0–100
  std::uint32_t threads = 0;
  std::string cmdline; // already scrubbed
};

struct user_usage {
  std::string user;
  std::uint32_t uid = 0;
  double cpu_percent = 0;    // sum over its processes, 100 = one CPU
  double memory_percent = 0; // sum of rss / MemTotal, 0–100
  std::uint64_t rss_bytes = 0;
  std::uint32_t processes = 0;
};

struct process_state_counts {
  std::uint32_t running = 0;    // R
  std::uint32_t sleeping = 0;   // S
  std::uint32_t disk_sleep = 0; // D
  std::uint32_t stopped = 0;    // T, t
  std::uint32_t zombie = 0;     // Z
  std::uint32_t idle = 0;       // I (kernel threads)
  std::uint32_t other = 0;
};

struct process_summary_options {
  std::size_t top_n = 5;
  long clock_ticks_per_second = 0; // 0: sysconf(_SC_CLK_TCK)
  // Per-user list: users below min_uid or named in excluded_users are left out; with a minimum
  // set, a user is listed when it reaches at least one of them.
  std::uint32_t min_uid = 0;
  std::vector<std::string> excluded_users;
  std::optional<double> min_user_cpu_percent;
  std::optional<double> min_user_memory_percent;
};

struct process_summary {
  std::uint32_t processes = 0;
  std::uint64_t threads = 0;
  process_state_counts states;
  std::vector<process_usage> top_by_cpu;    // highest first (ties: lower pid first); only processes
                                            // with a CPU value (none after a first walk)
  std::vector<process_usage> top_by_memory; // highest rss first (ties: lower pid first)
  std::vector<user_usage> users;            // highest cpu first, then memory
};

// Pure function of two walks (see compute_process_cpu); memory percentages are of
// memory_total_bytes (MemTotal), 0 when it is 0.
process_summary summarize_processes(const process_snapshot& previous,
                                    const process_snapshot& current,
                                    std::chrono::duration<double> elapsed,
                                    std::uint64_t memory_total_bytes,
                                    const process_summary_options& options = {});

} // namespace vigil::proc
