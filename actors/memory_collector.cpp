#include "actors/memory_collector.hpp"

#include <caf/all.hpp>

namespace vigil {

memory_sampler::memory_sampler(const collector_options& options, const settings&)
    : reader_(options.root) {}

memory_section_ptr memory_sampler::sample(wall_time now, std::chrono::steady_clock::time_point) {
  auto m = reader_.read();
  auto out = std::make_shared<memory_section>();
  out->sampled_at = now;
  out->total_bytes = m.total;
  out->available_bytes = m.available;
  out->used_bytes = m.used;
  out->free_bytes = m.free;
  out->buffers_bytes = m.buffers;
  out->cached_bytes = m.cached;
  out->shared_bytes = m.shared;
  out->used_percent = m.used_percent;
  out->swap_total_bytes = m.swap_total;
  out->swap_used_bytes = m.swap_used;
  out->swap_free_bytes = m.swap_free;
  out->swap_used_percent = m.swap_used_percent;
  return out;
}

telemetry_collector_actor spawn_memory_collector(caf::actor_system& sys, collector_options options,
                                                 settings_ptr current) {
  return sys.spawn(telemetry_collector<memory_sampler>, std::move(options), std::move(current));
}

} // namespace vigil
