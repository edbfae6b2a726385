#pragma once

// RAM and swap from /proc/meminfo, every telemetry.interval.

#include "actors/telemetry_collector.hpp"
#include "io/proc/memory_info.hpp"

namespace vigil {

class memory_sampler {
public:
  static constexpr telemetry_section section = telemetry_section::memory;
  static constexpr const char* actor_name = "memory_collector";
  static duration interval(const settings& s) { return s.telemetry.interval; }

  memory_sampler(const collector_options& options, const settings& current);
  void configure(const settings&) {}
  memory_section_ptr sample(wall_time now, std::chrono::steady_clock::time_point t);

private:
  proc::memory_info_reader reader_;
};

telemetry_collector_actor spawn_memory_collector(caf::actor_system& sys, collector_options options,
                                                 settings_ptr current);

} // namespace vigil
