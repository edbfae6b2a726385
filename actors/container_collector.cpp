#include "actors/container_collector.hpp"

#include "io/docker/docker_engine_client.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

namespace vigil {

container_sampler::container_sampler(const collector_options&, const settings& current)
    : config_(current.telemetry.containers) {}

containers_section_ptr container_sampler::sample(wall_time now,
                                                 std::chrono::steady_clock::time_point) {
  auto out = std::make_shared<containers_section>();
  out->sampled_at = now;
  if (!config_.enabled) {
    out->unavailable_reason = "disabled (telemetry.containers.enabled is false)";
    return out;
  }
  auto listing = docker::list_containers(config_.socket, config_.timeout);
  if (!listing.reachable) {
    if (listing.reason != last_unavailable_reason_)
      spdlog::info("{}: {}; the containers section says available: false until it is reachable",
                   actor_name, listing.reason);
    last_unavailable_reason_ = listing.reason;
    out->unavailable_reason = std::move(listing.reason);
    return out;
  }
  if (!last_unavailable_reason_.empty())
    spdlog::info("{}: the Docker engine is reachable again", actor_name);
  last_unavailable_reason_.clear();
  out->available = true;
  out->containers.reserve(listing.containers.size());
  for (auto& c : listing.containers)
    out->containers.push_back(container_entry{std::move(c.id), std::move(c.name),
                                              std::move(c.image), std::move(c.state),
                                              std::move(c.status), c.created});
  return out;
}

telemetry_collector_actor
spawn_container_collector(caf::actor_system& sys, collector_options options, settings_ptr current) {
  // Detached: the request blocks its thread for up to telemetry.containers.timeout.
  return sys.spawn<caf::detached>(telemetry_collector<container_sampler>, std::move(options),
                                  std::move(current));
}

} // namespace vigil
