#pragma once

// /proc/loadavg and /proc/uptime.

#include "io/proc/proc_file.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace vigil::proc {

struct load_average {
  double one_minute = 0; // runnable + uninterruptible tasks, exponentially averaged
  double five_minutes = 0;
  double fifteen_minutes = 0;
  std::uint32_t running_tasks = 0; // runnable scheduling entities now
  std::uint32_t total_tasks = 0;   // scheduling entities (processes and threads) now
  std::int64_t last_pid = 0;       // most recently assigned PID
};

struct system_uptime {
  double uptime_seconds = 0; // since boot
  double idle_seconds = 0;   // summed over all CPUs, so it can exceed uptime_seconds
};

// Throw std::runtime_error naming `origin` on malformed text.
load_average parse_load_average(std::string_view text, std::string_view origin);
system_uptime parse_uptime(std::string_view text, std::string_view origin);

class load_and_uptime_reader {
public:
  explicit load_and_uptime_reader(const std::filesystem::path& root = "/");
  // Throw std::system_error / std::runtime_error naming the file.
  load_average read_load_average();
  system_uptime read_uptime();

private:
  std::string loadavg_path_;
  std::string uptime_path_;
  proc_file_reader file_;
};

} // namespace vigil::proc
