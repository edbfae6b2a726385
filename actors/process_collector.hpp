#pragma once

// Processes and users from /proc/[pid], every telemetry.slow_interval: totals and states, the
// top telemetry.top_processes by CPU and by memory (pid, name, user, scrubbed command line),
// and per-user CPU %, memory % and process count after the telemetry.users filters. CPU needs
// two walks: the first is a baseline and the first section follows collector_first_delay
// later. How long users stay above a threshold is tracked by the hub.

#include "actors/telemetry_collector.hpp"
#include "io/proc/memory_info.hpp"
#include "io/proc/process_table.hpp"

#include <cstdint>
#include <vector>

namespace vigil {

class process_sampler {
public:
  static constexpr telemetry_section section = telemetry_section::processes;
  static constexpr const char* actor_name = "process_collector";
  static duration interval(const settings& s) { return s.telemetry.slow_interval; }

  process_sampler(const collector_options& options, const settings& current);
  void configure(const settings& s);
  processes_section_ptr sample(wall_time now, std::chrono::steady_clock::time_point t);

private:
  void refresh_published(proc::process_summary& summary);

  proc::process_table_reader table_;
  proc::memory_info_reader memory_;
  proc::process_summary_options summary_options_;
  counter_readings<proc::process_snapshot> readings_;
  std::vector<std::int32_t> refreshed_; // pids refreshed for the current section
};

// The filters of telemetry.users and telemetry.top_processes as io/proc takes them.
proc::process_summary_options process_summary_options_from(const settings& s);

telemetry_collector_actor spawn_process_collector(caf::actor_system& sys, collector_options options,
                                                  settings_ptr current);

} // namespace vigil
