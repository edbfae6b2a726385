#include "actors/telemetry_hub.hpp"

#include <caf/all.hpp>
#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace vigil {

namespace {

using namespace std::chrono_literals;
using hub_pointer = telemetry_hub_actor::stateful_pointer<telemetry_hub_state>;
using steady = std::chrono::steady_clock;

// A section not refreshed within this many intervals is stale.
constexpr int stale_after_intervals = 3;
// Sections of one round arrive within milliseconds of each other: wait this long after the
// first so that a snapshot holds the whole round (at most a quarter of the interval).
constexpr auto settle_delay = 100ms;

constexpr std::size_t index_of(telemetry_section s) {
  return static_cast<std::size_t>(s);
}

std::chrono::milliseconds section_interval(telemetry_section s, const settings& cfg) {
  switch (s) {
  case telemetry_section::filesystems:
  case telemetry_section::processes:
    return cfg.telemetry.slow_interval;
  case telemetry_section::services:
    return cfg.telemetry.services.interval;
  case telemetry_section::containers:
    return cfg.telemetry.containers.interval;
  default:
    return cfg.telemetry.interval;
  }
}

wall_time wall_now() {
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

telemetry_snapshot_ptr build_snapshot(hub_pointer self) {
  auto& st = self->state;
  const auto& cfg = *st.current;
  auto now = steady::now();
  for (std::size_t i = 0; i < telemetry_section_count; ++i) {
    auto& s = st.draft.sections[i];
    s.interval = section_interval(static_cast<telemetry_section>(i), cfg);
    auto age = now - (st.received[i] ? *st.received[i] : st.started);
    s.stale = age > stale_after_intervals * s.interval;
  }
  auto snap = std::make_shared<telemetry_snapshot>(st.draft);
  snap->sequence = ++st.sequence;
  snap->timestamp = wall_now();
  snap->node_id = cfg.node_id;
  snap->hostname = st.host.get(now).hostname;
  auto fresh = [&](telemetry_section s) { return !snap->sections[index_of(s)].stale; };
  status_inputs in;
  if (snap->cpu && fresh(telemetry_section::cpu)) {
    in.cpu_percent = snap->cpu->usage_percent;
    if (snap->cpu->logical_cores > 0)
      in.load_per_core = snap->cpu->load_one / snap->cpu->logical_cores;
  }
  if (snap->memory && fresh(telemetry_section::memory))
    in.memory_percent = snap->memory->used_percent;
  if (snap->processes && fresh(telemetry_section::processes))
    in.users = snap->processes->users;
  in.persistent_users =
      static_cast<std::size_t>(std::count_if(snap->user_pressure.begin(), snap->user_pressure.end(),
                                             [](auto& u) { return u.persistent; }));
  snap->status = classify_system_status(in, cfg.telemetry);
  return snap;
}

void publish_now(hub_pointer self) {
  auto& st = self->state;
  st.publish_pending = false;
  st.latest = build_snapshot(self);
  st.last_publish = steady::now();
  for (auto& sub : st.subscribers)
    caf::anon_send(sub, atom::publish_v, st.latest);
}

// At most one snapshot per telemetry.interval, a short settle delay after the first news.
void schedule_publish(hub_pointer self) {
  auto& st = self->state;
  if (st.publish_pending)
    return;
  st.publish_pending = true;
  auto interval = st.current->telemetry.interval;
  auto delay = std::min<steady::duration>(settle_delay, interval / 4);
  if (st.last_publish)
    delay = std::max<steady::duration>(delay, *st.last_publish + interval - steady::now());
  self->delayed_send(self, std::chrono::duration_cast<std::chrono::milliseconds>(delay),
                     atom::publish_v);
}

template <class Ptr>
void store(hub_pointer self, telemetry_section s, Ptr& slot, Ptr section) {
  auto& st = self->state;
  auto i = index_of(s);
  st.draft.sections[i].updated_at = section->sampled_at;
  st.draft.sections[i].error.clear();
  st.received[i] = steady::now();
  slot = std::move(section);
  schedule_publish(self);
}

} // namespace

std::string_view load_level_name(load_level level) {
  switch (level) {
  case load_level::light:
    return "light";
  case load_level::medium:
    return "medium";
  case load_level::heavy:
    return "heavy";
  }
  return "unknown";
}

std::string_view load_level_label(load_level level) {
  switch (level) {
  case load_level::light:
    return "Light Usage";
  case load_level::medium:
    return "Medium Usage";
  case load_level::heavy:
    return "Heavy Load";
  }
  return "unknown";
}

std::string_view telemetry_section_name(telemetry_section s) {
  switch (s) {
  case telemetry_section::cpu:
    return "cpu";
  case telemetry_section::memory:
    return "memory";
  case telemetry_section::disk_io:
    return "disk_io";
  case telemetry_section::network:
    return "network";
  case telemetry_section::filesystems:
    return "filesystems";
  case telemetry_section::processes:
    return "processes";
  case telemetry_section::services:
    return "services";
  case telemetry_section::containers:
    return "containers";
  }
  return "unknown";
}

system_status classify_system_status(const status_inputs& in, const telemetry_settings& cfg) {
  std::vector<std::string> heavy;
  std::vector<std::string> medium;
  double medium_share = cfg.status.medium_percent / 100.0;
  auto check = [&](const std::optional<double>& value, double threshold, const char* what,
                   const char* unit, double scale) {
    if (!value)
      return;
    auto v = *value * scale;
    auto t = threshold;
    if (v >= t)
      heavy.push_back(fmt::format("{} {:.1f}{} >= {:.0f}{}", what, v, unit, t, unit));
    else if (v >= t * medium_share)
      medium.push_back(fmt::format("{} {:.1f}{} >= {:.0f}{} ({}% of {:.0f}{})", what, v, unit,
                                   t * medium_share, unit, cfg.status.medium_percent, t, unit));
  };
  check(in.cpu_percent, cfg.status.cpu_percent, "cpu", "%", 1);
  check(in.memory_percent, cfg.status.memory_percent, "memory", "%", 1);
  check(in.load_per_core, cfg.status.load_per_core_percent, "load per core", "%", 100);
  if (in.persistent_users > 0)
    heavy.push_back(fmt::format("{} persistent user{}", in.persistent_users,
                                in.persistent_users == 1 ? "" : "s"));
  for (auto& u : in.users) {
    if (u.cpu_percent >= cfg.users.cpu_threshold)
      medium.push_back(fmt::format("user {} cpu {:.1f}% >= {}%", u.user, u.cpu_percent,
                                   cfg.users.cpu_threshold));
    if (u.memory_percent >= cfg.users.memory_threshold)
      medium.push_back(fmt::format("user {} memory {:.1f}% >= {}%", u.user, u.memory_percent,
                                   cfg.users.memory_threshold));
  }
  if (!heavy.empty())
    return {load_level::heavy, std::move(heavy)};
  if (!medium.empty())
    return {load_level::medium, std::move(medium)};
  return {load_level::light, {}};
}

void track_user_pressure(std::vector<user_pressure_entry>& tracked,
                         const std::vector<user_entry>& users, wall_time now,
                         const telemetry_settings& cfg) {
  struct metric_rule {
    const char* name;
    double threshold;
    double user_entry::*value;
  };
  const metric_rule rules[] = {
      {"cpu", static_cast<double>(cfg.users.cpu_threshold), &user_entry::cpu_percent},
      {"memory", static_cast<double>(cfg.users.memory_threshold), &user_entry::memory_percent},
  };
  std::vector<bool> seen(tracked.size(), false);
  for (auto& rule : rules) {
    for (auto& u : users) {
      double v = u.*rule.value;
      auto it = std::find_if(tracked.begin(), tracked.end(),
                             [&](auto& t) { return t.user == u.user && t.metric == rule.name; });
      if (v < rule.threshold)
        continue; // a tracked run ends below: not marked seen
      if (it == tracked.end()) {
        tracked.push_back({u.user, rule.name, now, now, v, v, 1, false});
        seen.push_back(true);
        continue;
      }
      it->last_seen = now;
      it->peak_percent = std::max(it->peak_percent, v);
      it->sum_percent += v;
      ++it->samples;
      seen[static_cast<std::size_t>(it - tracked.begin())] = true;
    }
  }
  std::size_t keep = 0;
  for (std::size_t i = 0; i < tracked.size(); ++i)
    if (seen[i]) {
      if (keep != i)
        tracked[keep] = std::move(tracked[i]);
      ++keep;
    }
  tracked.resize(keep);
  for (auto& t : tracked)
    t.persistent = now - t.since >= cfg.users.persistent_after;
}

void restore_user_pressure(std::vector<user_pressure_entry>& tracked,
                           const user_pressure_state& saved) {
  for (auto& s : saved.users) {
    auto it = std::find_if(tracked.begin(), tracked.end(),
                           [&](auto& t) { return t.user == s.user && t.metric == s.metric; });
    if (it == tracked.end()) {
      tracked.push_back(s);
      continue;
    }
    if (s.since < it->since) {
      it->since = s.since;
      it->peak_percent = std::max(it->peak_percent, s.peak_percent);
      it->sum_percent += s.sum_percent;
      it->samples += s.samples;
      it->persistent = it->persistent || s.persistent;
    }
  }
}

telemetry_hub_actor find_telemetry_hub(caf::actor_system& sys) {
  return caf::actor_cast<telemetry_hub_actor>(sys.registry().get(caf::atom("telemetry")));
}

telemetry_hub_actor::behavior_type
telemetry_hub(telemetry_hub_actor::stateful_pointer<telemetry_hub_state> self,
              settings_ptr current) {
  auto& st = self->state;
  st.current = std::move(current);
  st.started = steady::now();
  for (std::size_t i = 0; i < telemetry_section_count; ++i)
    st.draft.sections[i].interval =
        section_interval(static_cast<telemetry_section>(i), *st.current);
  self->set_down_handler([=](const caf::down_msg& dm) {
    auto& subs = self->state.subscribers;
    subs.erase(std::remove_if(subs.begin(), subs.end(),
                              [&](const caf::actor& a) { return a.address() == dm.source; }),
               subs.end());
  });
  self->delayed_send(self, st.current->telemetry.interval, atom::tick_v);
  return {
      [=](atom::publish, cpu_section_ptr& x) {
        store(self, telemetry_section::cpu, self->state.draft.cpu, std::move(x));
      },
      [=](atom::publish, memory_section_ptr& x) {
        store(self, telemetry_section::memory, self->state.draft.memory, std::move(x));
      },
      [=](atom::publish, disk_io_section_ptr& x) {
        store(self, telemetry_section::disk_io, self->state.draft.disk_io, std::move(x));
      },
      [=](atom::publish, network_section_ptr& x) {
        store(self, telemetry_section::network, self->state.draft.network, std::move(x));
      },
      [=](atom::publish, filesystems_section_ptr& x) {
        store(self, telemetry_section::filesystems, self->state.draft.filesystems, std::move(x));
      },
      [=](atom::publish, processes_section_ptr& x) {
        auto& st = self->state;
        track_user_pressure(st.draft.user_pressure, x->users, x->sampled_at, st.current->telemetry);
        store(self, telemetry_section::processes, st.draft.processes, std::move(x));
      },
      [=](atom::publish, services_section_ptr& x) {
        store(self, telemetry_section::services, self->state.draft.services, std::move(x));
      },
      [=](atom::publish, containers_section_ptr& x) {
        store(self, telemetry_section::containers, self->state.draft.containers, std::move(x));
      },
      [=](atom::failed, telemetry_section s, std::string& error) {
        self->state.draft.sections[index_of(s)].error = std::move(error);
        schedule_publish(self);
      },
      [=](atom::subscribe, caf::actor& sub) {
        auto& subs = self->state.subscribers;
        if (!sub || std::find(subs.begin(), subs.end(), sub) != subs.end())
          return;
        self->monitor(sub);
        subs.push_back(std::move(sub));
      },
      [=](atom::unsubscribe, const caf::actor& sub) {
        auto& subs = self->state.subscribers;
        auto it = std::find(subs.begin(), subs.end(), sub);
        if (it == subs.end())
          return;
        self->demonitor(sub);
        subs.erase(it);
      },
      [=](atom::query) -> telemetry_snapshot_ptr {
        auto& st = self->state;
        if (!st.latest)
          st.latest = build_snapshot(self);
        return st.latest;
      },
      [=](atom::restore, const user_pressure_state& saved) {
        restore_user_pressure(self->state.draft.user_pressure, saved);
      },
      [=](atom::publish) { publish_now(self); },
      [=](atom::tick) {
        auto& st = self->state;
        auto interval = st.current->telemetry.interval;
        // Nothing arrived for a whole interval (every collector dead or hung): publish anyway,
        // so that subscribers see the sections go stale.
        if (!st.publish_pending &&
            (!st.last_publish || steady::now() - *st.last_publish >= interval))
          schedule_publish(self);
        self->delayed_send(self, interval, atom::tick_v);
      },
      [=](atom::configure, const settings_ptr& s) { self->state.current = s; },
  };
}

} // namespace vigil
