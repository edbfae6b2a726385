#pragma once

// Disk I/O rates from /proc/diskstats (whole disks; partitions are counted in their disk),
// every telemetry.interval. The first reading is a baseline.

#include "actors/telemetry_collector.hpp"
#include "io/proc/disk_stats.hpp"

namespace vigil {

class disk_sampler {
public:
  static constexpr telemetry_section section = telemetry_section::disk_io;
  static constexpr const char* actor_name = "disk_collector";
  static duration interval(const settings& s) { return s.telemetry.interval; }

  disk_sampler(const collector_options& options, const settings& current);
  void configure(const settings&) {}
  disk_io_section_ptr sample(wall_time now, std::chrono::steady_clock::time_point t);

private:
  proc::disk_stats_reader reader_;
  counter_readings<proc::disk_stats_sample> readings_;
};

telemetry_collector_actor spawn_disk_collector(caf::actor_system& sys, collector_options options,
                                               settings_ptr current);

} // namespace vigil
