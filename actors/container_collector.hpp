#pragma once

// Docker containers (id, name, image, state, status), every telemetry.containers.interval,
// from the Engine API on telemetry.containers.socket (io/docker).
//
// The request is blocking, bounded by telemetry.containers.timeout, on a detached actor's own
// thread: one small request per interval does not need the agent's Asio threads (they serve
// the API), and the sampler shell then gives this section the same error and staleness
// handling as every other. No socket (no Docker installed) is not an error: the section says
// available: false with the reason, and the next tick tries again (one failed connect(2)).

#include "actors/telemetry_collector.hpp"

#include <string>

namespace vigil {

class container_sampler {
public:
  static constexpr telemetry_section section = telemetry_section::containers;
  static constexpr const char* actor_name = "container_collector";
  static duration interval(const settings& s) { return s.telemetry.containers.interval; }

  container_sampler(const collector_options& options, const settings& current);
  void configure(const settings& s) { config_ = s.telemetry.containers; }
  // Throws docker::engine_error on a timeout, an HTTP error or a malformed answer.
  containers_section_ptr sample(wall_time now, std::chrono::steady_clock::time_point t);

private:
  telemetry_containers_settings config_;
  std::string last_unavailable_reason_; // logged once per distinct reason
};

telemetry_collector_actor
spawn_container_collector(caf::actor_system& sys, collector_options options, settings_ptr current);

} // namespace vigil
