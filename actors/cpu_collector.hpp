#pragma once

// CPU usage (total, per mode, per core), load average, uptime, model, core counts, frequency
// and temperature, every telemetry.interval. Usage needs two /proc/stat readings: the first
// is a baseline and the first section follows collector_first_delay later.

#include "actors/telemetry_collector.hpp"
#include "io/proc/cpu_info.hpp"
#include "io/proc/cpu_stat.hpp"
#include "io/proc/load_and_uptime.hpp"

#include <chrono>
#include <optional>

namespace vigil {

class cpu_sampler {
public:
  static constexpr telemetry_section section = telemetry_section::cpu;
  static constexpr const char* actor_name = "cpu_collector";
  static duration interval(const settings& s) { return s.telemetry.interval; }

  cpu_sampler(const collector_options& options, const settings& current);
  void configure(const settings&) {}
  cpu_section_ptr sample(wall_time now, std::chrono::steady_clock::time_point t);

private:
  proc::cpu_stat_reader stat_;
  proc::load_and_uptime_reader load_;
  proc::cpu_info_reader info_;
  proc::cpu_info static_info_; // model and core counts, read once
  counter_readings<proc::cpu_stat_sample> readings_;
  std::optional<double> mhz_;
  std::optional<std::chrono::steady_clock::time_point> mhz_at_;
};

telemetry_collector_actor spawn_cpu_collector(caf::actor_system& sys, collector_options options,
                                              settings_ptr current);

} // namespace vigil
