#include "actors/cpu_collector.hpp"

#include <caf/all.hpp>

#include <utility>

namespace vigil {

namespace {

// The frequency moves every few milliseconds; it is cosmetic, and without cpufreq it costs a
// whole /proc/cpuinfo read: refreshed at most this often.
constexpr auto frequency_refresh = std::chrono::seconds{30};

} // namespace

cpu_sampler::cpu_sampler(const collector_options& options, const settings&)
    : stat_(options.root)
    , load_(options.root)
    , info_(options.root) {
  try {
    static_info_ = info_.read();
    mhz_ = static_info_.current_mhz;
  } catch (const std::exception&) {
    // No /proc/cpuinfo (some containers): no model and no frequency, usage still works.
  }
}

cpu_section_ptr cpu_sampler::sample(wall_time now, std::chrono::steady_clock::time_point t) {
  stat_.read(readings_.current);
  if (readings_.is_baseline()) {
    readings_.advance(t);
    return nullptr;
  }
  const auto& current = readings_.current;
  auto usage = proc::compute_cpu_usage(readings_.previous, current, readings_.since_previous(t));
  auto load = load_.read_load_average();
  auto uptime = load_.read_uptime();
  auto out = std::make_shared<cpu_section>();
  out->sampled_at = now;
  if (usage.total) {
    auto& p = *usage.total;
    out->usage_percent = p.usage;
    out->modes =
        cpu_modes_percent{p.user, p.nice, p.system, p.irq, p.iowait, p.steal, p.guest, p.idle};
  }
  out->cores.reserve(usage.cores.size());
  for (auto& c : usage.cores)
    out->cores.push_back({c.id, c.usage ? std::optional<double>{c.usage->usage} : std::nullopt});
  out->logical_cores = current.cores.empty() ? static_info_.logical_cores
                                             : static_cast<unsigned>(current.cores.size());
  out->physical_cores = static_info_.physical_cores;
  out->sockets = static_info_.sockets;
  out->model = static_info_.model_name;
  if (!mhz_at_ || t - *mhz_at_ >= frequency_refresh) {
    if (mhz_at_) // the constructor's read is the first
      mhz_ = info_.read_current_mhz();
    mhz_at_ = t;
  }
  out->frequency_mhz = mhz_;
  out->temperature_celsius = info_.read_temperature_celsius();
  if (out->temperature_celsius)
    out->temperature_sensor = info_.temperature_sensor();
  out->context_switches_per_second = usage.context_switches_per_second;
  out->processes_created_per_second = usage.processes_created_per_second;
  out->procs_running = current.procs_running;
  out->procs_blocked = current.procs_blocked;
  out->load_one = load.one_minute;
  out->load_five = load.five_minutes;
  out->load_fifteen = load.fifteen_minutes;
  out->uptime_seconds = uptime.uptime_seconds;
  out->boot_time = current.boot_time;
  readings_.advance(t);
  return out;
}

telemetry_collector_actor spawn_cpu_collector(caf::actor_system& sys, collector_options options,
                                              settings_ptr current) {
  return sys.spawn(telemetry_collector<cpu_sampler>, std::move(options), std::move(current));
}

} // namespace vigil
