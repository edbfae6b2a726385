#include "actors/disk_collector.hpp"

#include <caf/all.hpp>

#include <utility>

namespace vigil {

disk_sampler::disk_sampler(const collector_options& options, const settings&)
    : reader_(options.root) {}

disk_io_section_ptr disk_sampler::sample(wall_time now, std::chrono::steady_clock::time_point t) {
  reader_.read(readings_.current);
  if (readings_.is_baseline()) {
    readings_.advance(t);
    return nullptr;
  }
  auto rates =
      proc::compute_disk_rates(readings_.previous, readings_.current, readings_.since_previous(t));
  auto out = std::make_shared<disk_io_section>();
  out->sampled_at = now;
  out->devices.reserve(rates.devices.size());
  for (auto& d : rates.devices)
    out->devices.push_back({d.name, d.read_bytes_per_second, d.write_bytes_per_second,
                            d.reads_per_second, d.writes_per_second, d.busy_percent,
                            d.average_read_ms, d.average_write_ms});
  out->read_bytes_per_second = rates.read_bytes_per_second;
  out->write_bytes_per_second = rates.write_bytes_per_second;
  out->iops = rates.iops;
  readings_.advance(t);
  return out;
}

telemetry_collector_actor spawn_disk_collector(caf::actor_system& sys, collector_options options,
                                               settings_ptr current) {
  return sys.spawn(telemetry_collector<disk_sampler>, std::move(options), std::move(current));
}

} // namespace vigil
