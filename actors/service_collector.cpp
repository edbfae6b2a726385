#include "actors/service_collector.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

namespace vigil {

namespace {

std::unique_ptr<systemd::unit_state_reader> make_reader(const telemetry_services_settings& c) {
  return std::make_unique<systemd::unit_state_reader>(c.bus_address, c.timeout);
}

bool same_connection(const telemetry_services_settings& a, const telemetry_services_settings& b) {
  return a.bus_address == b.bus_address && a.timeout == b.timeout;
}

} // namespace

service_sampler::service_sampler(const collector_options&, const settings& current)
    : config_(current.telemetry.services)
    , reader_(make_reader(config_)) {}

void service_sampler::configure(const settings& s) {
  auto reconnect = !same_connection(config_, s.telemetry.services);
  config_ = s.telemetry.services;
  if (reconnect)
    reader_ = make_reader(config_);
}

services_section_ptr service_sampler::sample(wall_time now, std::chrono::steady_clock::time_point) {
  auto out = std::make_shared<services_section>();
  out->sampled_at = now;
  if (!config_.enabled) {
    out->unavailable_reason = "disabled (telemetry.services.enabled is false)";
    return out;
  }
  auto listing = reader_->read(config_.units);
  if (!listing.reachable) {
    if (listing.reason != last_unavailable_reason_)
      spdlog::info("{}: {}; the services section says available: false until it is reachable",
                   actor_name, listing.reason);
    last_unavailable_reason_ = listing.reason;
    out->unavailable_reason = std::move(listing.reason);
    return out;
  }
  if (!last_unavailable_reason_.empty())
    spdlog::info("{}: systemd is reachable again", actor_name);
  last_unavailable_reason_.clear();
  out->available = true;
  out->discovered = listing.discovered;
  out->services.reserve(listing.units.size());
  for (auto& u : listing.units) {
    service_entry e;
    e.status = std::string{systemd::unit_status(u)};
    e.name = std::move(u.name);
    e.description = std::move(u.description);
    e.load_state = std::move(u.load_state);
    e.active_state = std::move(u.active_state);
    e.sub_state = std::move(u.sub_state);
    e.main_pid = u.main_pid;
    out->services.push_back(std::move(e));
  }
  return out;
}

telemetry_collector_actor spawn_service_collector(caf::actor_system& sys, collector_options options,
                                                  settings_ptr current) {
  // Detached: sd-bus blocks its thread for up to telemetry.services.timeout per call.
  return sys.spawn<caf::detached>(telemetry_collector<service_sampler>, std::move(options),
                                  std::move(current));
}

} // namespace vigil
