#include "actors/alert_rule.hpp"

#include "actors/telemetry_hub.hpp"

#include <caf/all.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

namespace vigil {

namespace {

using namespace std::chrono_literals;
using rule_pointer = alert_rule_actor::stateful_pointer<alert_rule_state>;

constexpr auto retry_interval = 1s;
constexpr std::size_t top_consumer_lines = 3;

alert_rule_settings make_rule(std::string id, std::string metric, double threshold,
                              double clear_threshold, duration for_duration, duration cooldown,
                              std::string severity) {
  alert_rule_settings r;
  r.id = std::move(id);
  r.metric = std::move(metric);
  r.threshold = threshold;
  r.clear_threshold = clear_threshold;
  r.for_duration = for_duration;
  r.cooldown = cooldown;
  r.severity = std::move(severity);
  return r;
}

const std::set<std::string>& metric_names() {
  static const std::set<std::string> names{"cpu",        "memory",        "swap",     "disk",
                                           "inodes",     "load_per_core", "network",  "network_rx",
                                           "network_tx", "processes",     "user_cpu", "user_memory",
                                           "service",    "container"};
  return names;
}

bool is_stale(const telemetry_snapshot& s, telemetry_section section) {
  return s.sections[static_cast<std::size_t>(section)].stale;
}

std::string process_label(const process_entry& p) {
  return fmt::format("{} (pid {}, user {})", p.name, p.pid, p.user);
}

std::string megabytes(double bytes) {
  return fmt::format("{:.1f} MB", bytes / 1e6);
}

// The top processes by CPU or by memory, optionally of one user, as description lines.
void add_top_processes(const telemetry_snapshot& s, bool by_cpu, const std::string& user,
                       rule_reading& out) {
  if (!s.processes)
    return;
  const auto& list = by_cpu ? s.processes->top_by_cpu : s.processes->top_by_memory;
  for (const auto& p : list) {
    if (!user.empty() && p.user != user)
      continue;
    if (out.cause.empty())
      out.cause = process_label(p);
    if (out.top_consumers.size() < top_consumer_lines)
      out.top_consumers.push_back(
          by_cpu ? fmt::format("{}: {:.1f}% CPU", process_label(p), p.cpu_percent)
                 : fmt::format("{}: {:.1f}% memory ({})", process_label(p), p.memory_percent,
                               megabytes(static_cast<double>(p.rss_bytes))));
  }
}

bool wanted(const alert_rule_settings& r, const std::string& subject) {
  return r.subject.empty() || r.subject == subject;
}

void read_filesystems(const alert_rule_settings& r, const telemetry_snapshot& s,
                      rule_readings& out) {
  if (!s.filesystems || is_stale(s, telemetry_section::filesystems))
    return;
  out.evaluated = true;
  bool inodes = r.metric == "inodes";
  for (const auto& f : s.filesystems->filesystems) {
    if (!wanted(r, f.mount_point))
      continue;
    if (f.status != "ok" || (inodes && f.inodes_total == 0)) {
      out.held.push_back(f.mount_point);
      continue;
    }
    rule_reading x;
    x.subject = f.mount_point;
    x.value = inodes ? f.inodes_used_percent : f.used_percent;
    x.cause = fmt::format("{} on {}", f.mount_point, f.device);
    x.top_consumers.push_back(fmt::format(
        "{} ({}): {} of {} used, {} available; inodes {:.1f}% used", f.mount_point, f.type,
        megabytes(static_cast<double>(f.used_bytes)), megabytes(static_cast<double>(f.total_bytes)),
        megabytes(static_cast<double>(f.available_bytes)), f.inodes_used_percent));
    out.readings.push_back(std::move(x));
  }
}

void read_network(const alert_rule_settings& r, const telemetry_snapshot& s, rule_readings& out) {
  if (!s.network || is_stale(s, telemetry_section::network))
    return;
  out.evaluated = true;
  auto value_of = [&](double rx, double tx) {
    return r.metric == "network_rx" ? rx : r.metric == "network_tx" ? tx : rx + tx;
  };
  auto interfaces = s.network->interfaces;
  std::sort(interfaces.begin(), interfaces.end(), [&](auto& a, auto& b) {
    return value_of(a.rx_bytes_per_second, a.tx_bytes_per_second) >
           value_of(b.rx_bytes_per_second, b.tx_bytes_per_second);
  });
  std::vector<std::string> lines;
  for (const auto& i : interfaces)
    if (lines.size() < top_consumer_lines)
      lines.push_back(fmt::format("{}: rx {}/s, tx {}/s", i.name, megabytes(i.rx_bytes_per_second),
                                  megabytes(i.tx_bytes_per_second)));
  if (r.subject.empty()) {
    rule_reading x;
    x.value = value_of(s.network->rx_bytes_per_second, s.network->tx_bytes_per_second);
    if (!interfaces.empty())
      x.cause = interfaces.front().name;
    x.top_consumers = std::move(lines);
    out.readings.push_back(std::move(x));
    return;
  }
  for (const auto& i : interfaces)
    if (i.name == r.subject)
      out.readings.push_back(
          {i.name, value_of(i.rx_bytes_per_second, i.tx_bytes_per_second), {}, i.name, lines});
}

void read_users(const alert_rule_settings& r, const telemetry_snapshot& s, rule_readings& out) {
  if (!s.processes || is_stale(s, telemetry_section::processes))
    return;
  out.evaluated = true;
  bool cpu = r.metric == "user_cpu";
  if (r.kind == "persistent_user") {
    // The hub's runs: a user listed there is at or above telemetry.users' threshold.
    for (const auto& u : s.user_pressure) {
      if (u.metric != (cpu ? "cpu" : "memory") || !wanted(r, u.user))
        continue;
      rule_reading x;
      x.subject = u.user;
      x.since = u.since;
      x.value = u.peak_percent;
      for (const auto& e : s.processes->users)
        if (e.user == u.user)
          x.value = cpu ? e.cpu_percent : e.memory_percent;
      x.cause = "user " + u.user;
      x.top_consumers.push_back(
          fmt::format("user {}: average {:.1f}%, peak {:.1f}% {} over {} samples", u.user,
                      u.samples ? u.sum_percent / u.samples : 0.0, u.peak_percent,
                      cpu ? "CPU" : "memory", u.samples));
      add_top_processes(s, cpu, u.user, x);
      x.cause = "user " + u.user;
      out.readings.push_back(std::move(x));
    }
    return;
  }
  for (const auto& e : s.processes->users) {
    if (!wanted(r, e.user))
      continue;
    rule_reading x;
    x.subject = e.user;
    x.value = cpu ? e.cpu_percent : e.memory_percent;
    add_top_processes(s, cpu, e.user, x);
    x.cause = "user " + e.user;
    out.readings.push_back(std::move(x));
  }
}

bool in(const std::vector<std::string>& xs, const std::string& x) {
  return std::find(xs.begin(), xs.end(), x) != xs.end();
}

void read_services(const alert_rule_settings& r, const telemetry_snapshot& s, rule_readings& out) {
  if (!s.services || !s.services->available || is_stale(s, telemetry_section::services))
    return;
  out.evaluated = true;
  std::vector<std::string> bad =
      r.states.empty() ? std::vector<std::string>{"failed", "stopped"} : r.states;
  for (const auto& u : s.services->services) {
    if (!wanted(r, u.name) || u.status == "not-found")
      continue;
    // A discovered unit may be installed but unused: merely stopped, it counts only when
    // the rule names it.
    bool counts = in(bad, u.status) &&
                  (u.status != "stopped" || !s.services->discovered || !r.subject.empty());
    rule_reading x;
    x.subject = u.name;
    x.value = counts ? 1 : 0;
    x.cause = fmt::format("{} is {}", u.name, u.status);
    x.top_consumers.push_back(fmt::format("{} ({}): {} / {} / {}", u.name, u.description,
                                          u.load_state, u.active_state, u.sub_state));
    out.readings.push_back(std::move(x));
  }
}

void read_containers(const alert_rule_settings& r, const telemetry_snapshot& s,
                     rule_readings& out) {
  if (!s.containers || !s.containers->available || is_stale(s, telemetry_section::containers))
    return;
  out.evaluated = true;
  std::vector<std::string> bad =
      r.states.empty() ? std::vector<std::string>{"exited", "dead"} : r.states;
  for (const auto& c : s.containers->containers) {
    if (!wanted(r, c.name))
      continue;
    rule_reading x;
    x.subject = c.name;
    x.value = in(bad, c.state) ? 1 : 0;
    x.cause = fmt::format("container {} ({}) is {}", c.name, c.image, c.state);
    x.top_consumers.push_back(fmt::format("{} ({}): {}", c.name, c.image, c.status));
    out.readings.push_back(std::move(x));
  }
}

bool breached(const std::string& comparison, double value, double threshold) {
  if (comparison == ">")
    return value > threshold;
  if (comparison == "<=")
    return value <= threshold;
  if (comparison == "<")
    return value < threshold;
  return value >= threshold;
}

bool upward(const alert_rule_settings& r) {
  return r.comparison.empty() || r.comparison[0] == '>';
}

} // namespace

std::vector<alert_rule_settings> builtin_alert_rules() {
  // The seed's table (threshold, duration, cooldown, priority) with clear thresholds a few
  // points below, so a value hovering at the threshold does not flap.
  std::vector<alert_rule_settings> rules{
      make_rule("cpu_critical", "cpu", 90, 85, 5min, 30min, "critical"),
      make_rule("cpu_high", "cpu", 75, 70, 10min, 60min, "high"),
      make_rule("memory_critical", "memory", 95, 90, 5min, 30min, "critical"),
      make_rule("memory_high", "memory", 85, 80, 10min, 60min, "high"),
      make_rule("disk_critical", "disk", 90, 88, 0ms, 2h, "critical"),
      make_rule("disk_high", "disk", 80, 78, 0ms, 4h, "high"),
      make_rule("network_spike", "network", 5, 2, 1min, 30min, "medium"),
      make_rule("high_processes", "processes", 500, 450, 5min, 60min, "medium"),
      // ViWorks' load thresholds, per logical core (documented in docs/alerts.md).
      make_rule("load_high", "load_per_core", 2.0, 1.5, 5min, 60min, "high"),
      make_rule("load_critical", "load_per_core", 5.0, 4.0, 5min, 30min, "critical"),
      make_rule("service_down", "service", 1, -1, 1min, 30min, "critical"),
      make_rule("persistent_user_cpu", "user_cpu", 0, -1, 60min, 4h, "medium"),
      make_rule("persistent_user_memory", "user_memory", 0, -1, 60min, 4h, "medium"),
  };
  for (auto& r : rules) {
    if (r.id == "network_spike") {
      r.kind = "baseline";
      r.baseline_window = 1h;
      r.baseline_floor = 1e6; // 1 MB/s: an idle host's 5× of nothing is no spike
    } else if (r.metric == "service") {
      r.kind = "state";
    } else if (r.id.starts_with("persistent_user")) {
      r.kind = "persistent_user";
    }
  }
  return rules;
}

std::vector<alert_rule_settings> effective_alert_rules(const alerts_settings& s) {
  std::vector<alert_rule_settings> out;
  if (s.default_rules)
    out = builtin_alert_rules();
  for (const auto& r : s.rules) {
    auto i = std::find_if(out.begin(), out.end(), [&](auto& x) { return x.id == r.id; });
    if (i != out.end())
      *i = r;
    else
      out.push_back(r);
  }
  std::erase_if(out, [](auto& r) { return !r.enabled; });
  for (auto& r : out)
    if (r.channels.empty())
      r.channels = s.channels;
  return out;
}

std::optional<alert_rule_settings> find_alert_rule(const alerts_settings& s,
                                                   const std::string& id) {
  for (auto& r : effective_alert_rules(s))
    if (r.id == id)
      return r;
  return std::nullopt;
}

bool same_alert_rule(const alert_rule_settings& a, const alert_rule_settings& b) {
  return a.id == b.id && a.enabled == b.enabled && a.kind == b.kind && a.metric == b.metric &&
         a.subject == b.subject && a.comparison == b.comparison && a.threshold == b.threshold &&
         a.clear_threshold == b.clear_threshold && a.for_duration == b.for_duration &&
         a.cooldown == b.cooldown && a.severity == b.severity && a.channels == b.channels &&
         a.baseline_window == b.baseline_window && a.baseline_floor == b.baseline_floor &&
         a.states == b.states;
}

std::vector<std::string> check_alert_rule(const alert_rule_settings& r, const std::string& key) {
  std::vector<std::string> errors;
  auto error = [&](const std::string& field, const std::string& what) {
    errors.push_back(key + "." + field + ": " + what);
  };
  if (r.id.empty() || !std::all_of(r.id.begin(), r.id.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
      }))
    error("id", "must be lower-case letters, digits, '_' or '-', not \"" + r.id + "\"");
  if (!metric_names().contains(r.metric))
    error("metric", "unknown metric \"" + r.metric + "\"");
  bool users = r.metric == "user_cpu" || r.metric == "user_memory";
  bool states = r.metric == "service" || r.metric == "container";
  if (r.kind == "persistent_user" && !users)
    error("metric", "a persistent_user rule needs user_cpu or user_memory");
  if (r.kind == "state" && !states)
    error("metric", "a state rule needs service or container");
  if (r.kind != "state" && states)
    error("kind", "service and container rules are of kind \"state\"");
  if (r.kind == "baseline") {
    if (!upward(r))
      error("comparison", "a baseline rule compares upwards (>= or >)");
    if (r.threshold <= 1)
      error("threshold", "a baseline rule's factor must exceed 1");
    if (r.baseline_window < 10min)
      error("baseline_window", "must be at least 10m");
  }
  if (r.clear_threshold >= 0 && r.kind != "state" && r.kind != "persistent_user") {
    if (upward(r) && r.clear_threshold > r.threshold)
      error("clear_threshold", "must not exceed the threshold of a rising rule");
    if (!upward(r) && r.clear_threshold < r.threshold)
      error("clear_threshold", "must not be below the threshold of a falling rule");
  }
  return errors;
}

rule_readings read_rule_metric(const alert_rule_settings& r, const telemetry_snapshot& s) {
  rule_readings out;
  const auto& m = r.metric;
  if (m == "cpu" || m == "load_per_core") {
    if (!s.cpu || is_stale(s, telemetry_section::cpu))
      return out;
    if (m == "cpu" && !s.cpu->usage_percent)
      return out; // the first sample has no delta yet: not evaluated, nothing recovers
    out.evaluated = true;
    rule_reading x;
    if (m == "cpu") {
      x.value = *s.cpu->usage_percent;
    } else {
      x.value = s.cpu->load_one / std::max(1u, s.cpu->logical_cores);
      x.top_consumers.push_back(fmt::format("load {:.2f} {:.2f} {:.2f} on {} cores",
                                            s.cpu->load_one, s.cpu->load_five, s.cpu->load_fifteen,
                                            s.cpu->logical_cores));
    }
    add_top_processes(s, true, "", x);
    out.readings.push_back(std::move(x));
  } else if (m == "memory" || m == "swap") {
    if (!s.memory || is_stale(s, telemetry_section::memory))
      return out;
    out.evaluated = true;
    if (m == "swap" && s.memory->swap_total_bytes == 0)
      return out; // no swap, nothing to fill
    rule_reading x;
    x.value = m == "memory" ? s.memory->used_percent : s.memory->swap_used_percent;
    x.top_consumers.push_back(fmt::format(
        "memory {} of {} used, swap {} of {}", megabytes(static_cast<double>(s.memory->used_bytes)),
        megabytes(static_cast<double>(s.memory->total_bytes)),
        megabytes(static_cast<double>(s.memory->swap_used_bytes)),
        megabytes(static_cast<double>(s.memory->swap_total_bytes))));
    add_top_processes(s, false, "", x);
    out.readings.push_back(std::move(x));
  } else if (m == "disk" || m == "inodes") {
    read_filesystems(r, s, out);
  } else if (m.starts_with("network")) {
    read_network(r, s, out);
  } else if (m == "processes") {
    if (!s.processes || is_stale(s, telemetry_section::processes))
      return out;
    out.evaluated = true;
    rule_reading x;
    x.value = s.processes->total;
    x.top_consumers.push_back(fmt::format("{} processes, {} threads, {} zombie", s.processes->total,
                                          s.processes->threads, s.processes->states.zombie));
    out.readings.push_back(std::move(x));
  } else if (m == "user_cpu" || m == "user_memory") {
    read_users(r, s, out);
  } else if (m == "service") {
    read_services(r, s, out);
  } else if (m == "container") {
    read_containers(r, s, out);
  }
  return out;
}

void moving_baseline::add(wall_time at, double value, duration window) {
  auto minute = std::chrono::duration_cast<std::chrono::minutes>(at.time_since_epoch()).count();
  if (buckets_.empty() || buckets_.back().minute != minute)
    buckets_.push_back({minute, 0, 0});
  buckets_.back().sum += value;
  ++buckets_.back().count;
  auto span = std::chrono::duration_cast<std::chrono::minutes>(window).count();
  while (!buckets_.empty() && buckets_.front().minute <= minute - span)
    buckets_.pop_front();
}

void moving_baseline::seed(wall_time now, double level, duration window) {
  auto minute = std::chrono::duration_cast<std::chrono::minutes>(now.time_since_epoch()).count();
  auto span = std::chrono::duration_cast<std::chrono::minutes>(window).count();
  buckets_.clear();
  for (int64_t m = minute - std::max<int64_t>(1, span / 6) + 1; m <= minute; ++m)
    buckets_.push_back({m, level, 1});
}

std::optional<double> moving_baseline::average(wall_time now, duration window) const {
  auto minute = std::chrono::duration_cast<std::chrono::minutes>(now.time_since_epoch()).count();
  auto span = std::chrono::duration_cast<std::chrono::minutes>(window).count();
  double sum = 0;
  uint64_t count = 0;
  std::size_t minutes = 0;
  for (const auto& b : buckets_) {
    if (b.minute <= minute - span)
      continue;
    sum += b.sum;
    count += b.count;
    ++minutes;
  }
  if (count == 0 || static_cast<int64_t>(minutes) < std::max<int64_t>(1, span / 6))
    return std::nullopt;
  return sum / static_cast<double>(count);
}

std::optional<alert_change> step_alert(alert_tracker& t, const alert_rule_settings& r,
                                       const rule_reading& reading, wall_time now) {
  double v = reading.value;
  double threshold = r.threshold;
  double clear = r.clear_threshold < 0 ? r.threshold : r.clear_threshold;
  bool breach = false;
  bool cleared = false;
  std::optional<double> average;
  if (r.kind == "baseline") {
    average = t.baseline.average(now, r.baseline_window);
    if (!average && t.phase != alert_phase::ok && t.compared_with > 0) {
      // Resumed firing after a restart: the level it fired against stands in for the
      // history it lost, so the spike is not learnt as normal.
      t.baseline.seed(now, t.compared_with / r.threshold, r.baseline_window);
      average = t.baseline.average(now, r.baseline_window);
    }
    if (!average) { // still learning what normal is
      t.baseline.add(now, v, r.baseline_window);
      t.last_value = v;
      return std::nullopt;
    }
    double base = std::max(*average, r.baseline_floor);
    threshold = r.threshold * base;
    clear = (r.clear_threshold < 0 ? r.threshold : r.clear_threshold) * base;
  }
  if (r.kind == "state" || r.kind == "persistent_user") {
    breach = r.kind == "persistent_user" || v >= 1;
    cleared = !breach;
  } else {
    breach = breached(r.comparison, v, threshold);
    cleared = upward(r) ? v < clear : v > clear;
  }
  t.last_value = v;
  t.compared_with = threshold;
  auto worse = [&](double a, double b) { return upward(r) ? std::max(a, b) : std::min(a, b); };
  switch (t.phase) {
  case alert_phase::ok:
    if (!breach) {
      if (r.kind == "baseline") // spikes stay out of the baseline they are measured against
        t.baseline.add(now, v, r.baseline_window);
      return std::nullopt;
    }
    t.phase = alert_phase::pending;
    t.since = reading.since.value_or(now);
    t.peak = v;
    [[fallthrough]];
  case alert_phase::pending:
    if (!breach) {
      t.phase = alert_phase::ok;
      return std::nullopt;
    }
    if (average) // the baseline holds its level while a spike lasts, however long
      t.baseline.add(now, *average, r.baseline_window);
    t.peak = worse(t.peak, v);
    if (now - t.since < r.for_duration)
      return std::nullopt;
    t.phase = alert_phase::firing;
    t.last_notice = now;
    return alert_change::firing;
  case alert_phase::firing:
    if (cleared) {
      t.phase = alert_phase::ok;
      return alert_change::resolved;
    }
    if (average)
      t.baseline.add(now, *average, r.baseline_window);
    t.peak = worse(t.peak, v);
    if (r.cooldown.count() == 0 || now - t.last_notice < r.cooldown)
      return std::nullopt; // a cooldown of 0 means no reminders
    t.last_notice = now;
    return alert_change::reminder;
  }
  return std::nullopt;
}

alert_manager_actor find_alert_manager(caf::actor_system& sys) {
  return caf::actor_cast<alert_manager_actor>(sys.registry().get(caf::atom("alerts")));
}

namespace {

// Transitions go to the manager the trackers are in sync with; without one (it restarts)
// nothing is evaluated, and the reconciliation with its successor covers what changed.
void send_transition(rule_pointer self, alert_transition x) {
  if (self->state.manager)
    self->send(self->state.manager, std::move(x));
}

void report_change(rule_pointer self, alert_change change, const std::string& subject,
                   const alert_tracker& t, wall_time now, const rule_reading* reading) {
  auto& st = self->state;
  alert_transition x;
  x.change = change;
  x.rule_id = st.rule.id;
  x.subject = subject;
  x.at = now;
  x.since = t.since;
  x.value = t.last_value;
  x.peak = t.peak;
  x.threshold = t.compared_with;
  x.hostname = st.hostname;
  if (reading) {
    x.cause = reading->cause;
    x.top_consumers = reading->top_consumers;
  }
  send_transition(self, std::move(x));
}

void evaluate(rule_pointer self, const telemetry_snapshot& snap) {
  auto& st = self->state;
  auto readings = read_rule_metric(st.rule, snap);
  if (!readings.evaluated)
    return;
  auto now = snap.timestamp;
  st.hostname = snap.hostname;
  auto report = [&](alert_change change, const std::string& subject, const alert_tracker& t,
                    const rule_reading* reading) {
    report_change(self, change, subject, t, now, reading);
  };
  std::set<std::string> seen(readings.held.begin(), readings.held.end());
  for (const auto& reading : readings.readings) {
    seen.insert(reading.subject);
    auto& t = st.trackers[reading.subject];
    if (auto change = step_alert(t, st.rule, reading, now))
      report(*change, reading.subject, t, &reading);
  }
  // A subject that went away (unmounted, user logged out, unit removed) cannot stay firing.
  for (auto i = st.trackers.begin(); i != st.trackers.end();) {
    if (seen.contains(i->first)) {
      ++i;
      continue;
    }
    if (i->second.phase == alert_phase::firing)
      report(alert_change::resolved, i->first, i->second, nullptr);
    i = st.trackers.erase(i);
  }
}

void subscribe_to_hub(rule_pointer self) {
  auto& st = self->state;
  if (st.hub)
    return;
  auto hub = find_telemetry_hub(self->home_system());
  if (!hub || hub.address() == st.dead_hub) {
    self->delayed_send(self, retry_interval, atom::subscribe_v);
    return;
  }
  st.hub = hub.address();
  self->monitor(hub);
  self->send(hub, atom::subscribe_v, caf::actor_cast<caf::actor>(self));
}

wall_time from_ms(int64_t ms) {
  return wall_time{std::chrono::milliseconds{ms}};
}

// The first manager's firing subjects are taken over: a restarted rule resumes them.
void adopt(rule_pointer self, const active_subjects& active) {
  auto& st = self->state;
  for (std::size_t i = 0; i < active.subjects.size(); ++i) {
    auto& t = st.trackers[active.subjects[i]];
    t.phase = alert_phase::firing;
    t.since = from_ms(active.started_ms[i]);
    t.last_notice = from_ms(active.notified_ms[i]);
    t.peak = active.peaks[i];
    t.last_value = active.peaks[i];
    t.compared_with = active.thresholds[i];
  }
  st.adopted = true;
}

// A new manager (the old one restarted) is told what it missed: firings it does not know,
// recoveries of subjects it still has firing.
void reconcile(rule_pointer self, const active_subjects& active) {
  auto& st = self->state;
  auto now = wall_time{std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::now().time_since_epoch())};
  std::set<std::string> known(active.subjects.begin(), active.subjects.end());
  for (auto& [subject, t] : st.trackers)
    if (t.phase == alert_phase::firing && !known.contains(subject))
      report_change(self, alert_change::firing, subject, t, now, nullptr);
  for (std::size_t i = 0; i < active.subjects.size(); ++i) {
    auto t = st.trackers.find(active.subjects[i]);
    if (t != st.trackers.end() && t->second.phase == alert_phase::firing)
      continue;
    alert_tracker ended;
    ended.since = from_ms(active.started_ms[i]);
    ended.peak = active.peaks[i];
    ended.last_value = t != st.trackers.end() ? t->second.last_value : active.peaks[i];
    ended.compared_with = active.thresholds[i];
    report_change(self, alert_change::resolved, active.subjects[i], ended, now, nullptr);
  }
}

// Connects to the current manager (adopting or reconciling its firing subjects), then
// subscribes to the hub.
void resume(rule_pointer self) {
  auto& st = self->state;
  if (st.manager)
    return subscribe_to_hub(self);
  auto manager = find_alert_manager(self->home_system());
  if (!manager || manager.address() == st.dead_manager) {
    self->delayed_send(self, retry_interval, atom::subscribe_v);
    return;
  }
  self->request(manager, 10s, atom::query_v, st.rule.id)
      .then(
          [=](const active_subjects& active) {
            auto& st = self->state;
            if (st.manager)
              return; // a second resume answered first
            st.manager = manager;
            self->monitor(manager);
            if (st.adopted)
              reconcile(self, active);
            else
              adopt(self, active);
            subscribe_to_hub(self);
          },
          [=](caf::error&) { self->delayed_send(self, retry_interval, atom::subscribe_v); });
}

} // namespace

alert_rule_actor::behavior_type
alert_rule(alert_rule_actor::stateful_pointer<alert_rule_state> self, alert_rule_settings rule) {
  self->state.rule = std::move(rule);
  self->set_down_handler([=](const caf::down_msg& dm) {
    auto& st = self->state;
    if (st.manager && dm.source == st.manager.address()) {
      st.dead_manager = dm.source; // until the supervisor registers its successor
      st.manager = nullptr;
      self->delayed_send(self, retry_interval, atom::subscribe_v);
      return;
    }
    if (dm.source != st.hub)
      return;
    st.dead_hub = st.hub;
    st.hub = nullptr;
    self->delayed_send(self, retry_interval, atom::subscribe_v);
  });
  resume(self);
  return {
      [=](atom::publish, const telemetry_snapshot_ptr& snap) {
        if (snap && self->state.manager)
          evaluate(self, *snap);
      },
      [=](atom::subscribe) { resume(self); },
      [=](atom::configure, const settings_ptr& s) {
        auto& st = self->state;
        auto rule = s->alerts.enabled ? find_alert_rule(s->alerts, st.rule.id) : std::nullopt;
        if (!rule) { // removed or disabled: a normal exit, not restarted
          self->quit();
          return;
        }
        if (same_alert_rule(*rule, st.rule))
          return; // its pending timers go on
        spdlog::info("alert rule {}: settings changed; pending subjects start over", st.rule.id);
        st.rule = std::move(*rule);
        // Firing subjects stay firing, so their recovery is still reported.
        std::erase_if(st.trackers, [](auto& t) { return t.second.phase != alert_phase::firing; });
      },
  };
}

} // namespace vigil
