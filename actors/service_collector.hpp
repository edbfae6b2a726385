#pragma once

// The state of systemd units (ViWorks' services list), every telemetry.services.interval:
// the configured units, or the well-known services systemd has loaded (docker, ssh, nginx,
// databases, ...) when none are configured. Read over D-Bus with sd-bus (io/systemd).
//
// sd-bus calls block (bounded by telemetry.services.timeout), so this collector runs as a
// detached actor: its own thread, never a scheduler thread. No systemd or no bus is not an
// error: the section says available: false with the reason, and the next tick tries again
// (connecting to an absent socket costs one failed connect(2)).

#include "actors/telemetry_collector.hpp"
#include "io/systemd/unit_states.hpp"

#include <memory>
#include <string>

namespace vigil {

class service_sampler {
public:
  static constexpr telemetry_section section = telemetry_section::services;
  static constexpr const char* actor_name = "service_collector";
  static duration interval(const settings& s) { return s.telemetry.services.interval; }

  service_sampler(const collector_options& options, const settings& current);
  void configure(const settings& s);
  // Throws systemd::bus_error when systemd answers wrongly or not in time.
  services_section_ptr sample(wall_time now, std::chrono::steady_clock::time_point t);

private:
  telemetry_services_settings config_;
  std::unique_ptr<systemd::unit_state_reader> reader_;
  std::string last_unavailable_reason_; // logged once per distinct reason
};

telemetry_collector_actor spawn_service_collector(caf::actor_system& sys, collector_options options,
                                                  settings_ptr current);

} // namespace vigil
