#pragma once

// Interface traffic from /proc/net/dev every telemetry.interval (the first reading is a
// baseline), and TCP connection counts from /proc/net/tcp{,6} at most every
// tcp_refresh_interval: the kernel walks its whole socket hash table for each read, about
// 1 ms of CPU per file even with a handful of sockets.

#include "actors/telemetry_collector.hpp"
#include "io/proc/network_stats.hpp"
#include "io/proc/tcp_states.hpp"

#include <optional>

namespace vigil {

class network_sampler {
public:
  static constexpr telemetry_section section = telemetry_section::network;
  static constexpr const char* actor_name = "network_collector";
  static duration interval(const settings& s) { return s.telemetry.interval; }

  network_sampler(const collector_options& options, const settings& current);
  void configure(const settings&) {}
  network_section_ptr sample(wall_time now, std::chrono::steady_clock::time_point t);

private:
  proc::network_stats_reader reader_;
  proc::tcp_states_reader tcp_;
  counter_readings<proc::network_sample> readings_;
  std::optional<tcp_connection_counts> tcp_counts_;
  std::optional<std::chrono::steady_clock::time_point> tcp_at_;
};

constexpr std::chrono::seconds tcp_refresh_interval{10};

telemetry_collector_actor spawn_network_collector(caf::actor_system& sys, collector_options options,
                                                  settings_ptr current);

} // namespace vigil
