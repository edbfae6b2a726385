#include "actors/process_collector.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <utility>

namespace vigil {

namespace {

proc::process_table_options table_options(const collector_options& options) {
  proc::process_table_options out;
  out.user_name = options.user_name;
  return out;
}

process_entry to_entry(proc::process_usage&& p) {
  return {p.pid,
          std::move(p.name),
          std::move(p.user),
          p.state,
          p.cpu_percent,
          p.rss_bytes,
          p.memory_percent,
          p.threads,
          std::move(p.cmdline)};
}

} // namespace

proc::process_summary_options process_summary_options_from(const settings& s) {
  const auto& u = s.telemetry.users;
  proc::process_summary_options out;
  out.top_n = s.telemetry.top_processes;
  out.min_uid = u.min_uid;
  out.excluded_users = u.excluded;
  if (u.min_cpu_percent > 0)
    out.min_user_cpu_percent = u.min_cpu_percent;
  if (u.min_memory_percent > 0)
    out.min_user_memory_percent = u.min_memory_percent;
  return out;
}

process_sampler::process_sampler(const collector_options& options, const settings& current)
    : table_(options.root, table_options(options))
    , memory_(options.root)
    , summary_options_(process_summary_options_from(current)) {}

void process_sampler::configure(const settings& s) {
  summary_options_ = process_summary_options_from(s);
}

void process_sampler::refresh_published(proc::process_summary& summary) {
  // The walk reuses cached command lines and uids; the few processes shown are read again so
  // that a title rewritten in place or a setuid shows at once.
  auto& procs = readings_.current.processes;
  auto update = [&](proc::process_usage& p) {
    auto it = std::lower_bound(
        procs.begin(), procs.end(), p.pid,
        [](const proc::process_info& info, std::int32_t pid) { return info.pid < pid; });
    if (it == procs.end() || it->pid != p.pid)
      return;
    if (std::find(refreshed_.begin(), refreshed_.end(), p.pid) == refreshed_.end()) {
      if (!table_.refresh(*it))
        return;
      refreshed_.push_back(p.pid);
    }
    p.user = it->user;
    p.cmdline = it->cmdline;
  };
  refreshed_.clear();
  for (auto& p : summary.top_by_cpu)
    update(p);
  for (auto& p : summary.top_by_memory)
    update(p);
}

processes_section_ptr process_sampler::sample(wall_time now,
                                              std::chrono::steady_clock::time_point t) {
  table_.read(readings_.current);
  if (readings_.is_baseline()) {
    readings_.advance(t);
    return nullptr;
  }
  auto memory_total = memory_.read().total;
  auto summary =
      proc::summarize_processes(readings_.previous, readings_.current, readings_.since_previous(t),
                                memory_total, summary_options_);
  refresh_published(summary);
  auto out = std::make_shared<processes_section>();
  out->sampled_at = now;
  out->total = summary.processes;
  out->threads = summary.threads;
  auto& s = summary.states;
  out->states = {s.running, s.sleeping, s.disk_sleep, s.stopped, s.zombie, s.idle, s.other};
  out->top_by_cpu.reserve(summary.top_by_cpu.size());
  for (auto& p : summary.top_by_cpu)
    out->top_by_cpu.push_back(to_entry(std::move(p)));
  out->top_by_memory.reserve(summary.top_by_memory.size());
  for (auto& p : summary.top_by_memory)
    out->top_by_memory.push_back(to_entry(std::move(p)));
  out->users.reserve(summary.users.size());
  for (auto& u : summary.users)
    out->users.push_back(
        {std::move(u.user), u.uid, u.cpu_percent, u.memory_percent, u.rss_bytes, u.processes});
  readings_.advance(t);
  return out;
}

telemetry_collector_actor spawn_process_collector(caf::actor_system& sys, collector_options options,
                                                  settings_ptr current) {
  return sys.spawn(telemetry_collector<process_sampler>, std::move(options), std::move(current));
}

} // namespace vigil
