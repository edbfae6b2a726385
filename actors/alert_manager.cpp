#include "actors/alert_manager.hpp"

#include "actors/alert_rule.hpp"
#include "actors/history_store.hpp"
#include "actors/outbox.hpp"
#include "io/logs/timestamp_parser.hpp"

#include <caf/all.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

namespace vigil {

namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;
using manager_pointer = alert_manager_actor::stateful_pointer<alert_manager_state>;

constexpr auto tick_interval = 5s;
constexpr auto outbox_timeout = 10s;
constexpr std::size_t max_early = 1024;
constexpr std::size_t max_unsent_tickets = 10000;

int64_t ms(wall_time t) {
  return t.time_since_epoch().count();
}

std::string key_of(const std::string& rule_id, const std::string& subject) {
  return rule_id + '\x1f' + subject;
}

struct metric_wording {
  std::string what; // "CPU usage"
  std::string unit; // "%", " MB/s", ""
  double scale = 1; // value × scale is shown
  std::vector<std::string> remedies;
};

metric_wording wording_of(const alert_rule_settings& r, const std::string& subject) {
  const auto& m = r.metric;
  if (m == "cpu")
    return {"CPU usage",
            "%",
            1,
            {"Check the top processes below; restart or throttle a runaway one.",
             "Look for a recent deploy, cron job or traffic surge.",
             "If the load is legitimate, add CPU capacity."}};
  if (m == "memory")
    return {"Memory usage",
            "%",
            1,
            {"Check the top processes by memory below for a leak.",
             "Restart a leaking service; consider memory limits (systemd MemoryMax).",
             "If the load is legitimate, add memory."}};
  if (m == "swap")
    return {"Swap usage", "%", 1, {"Find what pushes memory into swap; add memory."}};
  if (m == "disk")
    return {"Disk usage of " + subject,
            "%",
            1,
            {"Find large files: du -xh --max-depth=2 " + subject + " | sort -h | tail",
             "Rotate or compress logs; clean package caches (apt-get clean).",
             "Grow the filesystem if the data is needed."}};
  if (m == "inodes")
    return {"Inode usage of " + subject,
            "%",
            1,
            {"Find directories with many small files (sessions, caches, mail queues)."}};
  if (m == "load_per_core")
    return {"Load per core",
            "",
            1,
            {"Check the top processes; high load with low CPU means I/O waits (iostat -x)."}};
  if (m.starts_with("network"))
    return {subject.empty() ? "Network throughput" : "Network throughput of " + subject,
            " MB/s",
            1e-6,
            {"Find the connections: ss -tnp; check for a backup, a transfer or an attack.",
             "Compare with the moving baseline below."}};
  if (m == "processes")
    return {"Process count", "", 1, {"Look for a fork loop or leaked workers: ps -eo user,comm."}};
  if (m == "user_cpu")
    return {"CPU usage of user " + subject,
            "%",
            1,
            {"Check the user's processes below; contact the user or limit them (systemd slices)."}};
  if (m == "user_memory")
    return {"Memory usage of user " + subject, "%", 1, {"Check the user's processes below."}};
  if (m == "service")
    return {"Service " + subject,
            "",
            1,
            {"systemctl status " + subject, "journalctl -u " + subject + " -n 100",
             "systemctl restart " + subject + " once the cause is fixed."}};
  if (m == "container")
    return {"Container " + subject,
            "",
            1,
            {"docker logs --tail 100 " + subject, "docker inspect " + subject}};
  return {m, "", 1, {}};
}

std::string upper(std::string s) {
  for (auto& c : s)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string severity_mark(const std::string& severity) {
  if (severity == "critical")
    return "🔴";
  if (severity == "high")
    return "🟠";
  if (severity == "medium")
    return "🟡";
  return "🔵";
}

std::string minutes_between(wall_time from, wall_time to) {
  return fmt::format("{:.1f} minutes", std::chrono::duration<double>(to - from).count() / 60.0);
}

std::string shown(const metric_wording& w, double value) {
  return fmt::format("{:.1f}{}", value * w.scale, w.unit);
}

std::string state_text(const alert_rule_settings& r, const alert_transition& x) {
  if (x.cause.empty())
    return r.metric;
  return x.cause;
}

} // namespace

std::string alert_title(const alert_rule_settings& rule, const alert_transition& x) {
  auto w = wording_of(rule, x.subject);
  bool state = rule.kind == "state";
  if (x.change == alert_change::resolved)
    return state ? fmt::format("✅ RESOLVED: {} is back after {} on {}", w.what,
                               minutes_between(x.since, x.at), x.hostname)
                 : fmt::format("✅ RESOLVED: {} back to {} after {} on {}", w.what,
                               shown(w, x.value), minutes_between(x.since, x.at), x.hostname);
  auto head = severity_mark(rule.severity) + " " + upper(rule.severity) + ": ";
  if (state)
    return head + fmt::format("{} for {} on {}", state_text(rule, x),
                              minutes_between(x.since, x.at), x.hostname);
  return head + fmt::format("{} at {} for {} on {}", w.what, shown(w, x.value),
                            minutes_between(x.since, x.at), x.hostname);
}

std::string alert_description(const alert_rule_settings& rule, const alert_transition& x) {
  auto w = wording_of(rule, x.subject);
  std::string d;
  if (rule.kind == "state") {
    d += fmt::format("{} since {}.\n", state_text(rule, x), format_iso8601_utc(x.since));
  } else {
    d += fmt::format("{}: {} now, peak {}; threshold {} {}", w.what, shown(w, x.value),
                     shown(w, x.peak), rule.comparison, shown(w, x.threshold));
    if (rule.kind == "baseline")
      d += fmt::format(
          " ({}× the moving {}-minute average)", rule.threshold,
          std::chrono::duration_cast<std::chrono::minutes>(rule.baseline_window).count());
    d += fmt::format(", sustained {}; breached since {}.\n",
                     rule.for_duration.count() == 0
                         ? std::string{"immediately"}
                         : "for " + minutes_between(wall_time{}, wall_time{rule.for_duration}),
                     format_iso8601_utc(x.since));
  }
  if (!x.top_consumers.empty()) {
    d += "\nTop consumers:\n";
    for (auto& line : x.top_consumers)
      d += "- " + line + "\n";
  }
  if (x.change != alert_change::resolved && !w.remedies.empty()) {
    d += "\nRemediation:\n";
    for (std::size_t i = 0; i < w.remedies.size(); ++i)
      d += fmt::format("{}. {}\n", i + 1, w.remedies[i]);
  }
  d += fmt::format("\nRule {} ({} {} {}, duration {}s, cooldown {}s, severity {}).", rule.id,
                   rule.metric, rule.comparison, rule.threshold,
                   std::chrono::duration_cast<std::chrono::seconds>(rule.for_duration).count(),
                   std::chrono::duration_cast<std::chrono::seconds>(rule.cooldown).count(),
                   rule.severity);
  return d;
}

json alert_ticket(const alert_rule_settings& rule, const alert_transition& x,
                  const alert_record& alert, const ticket_context& context) {
  bool resolved = x.change == alert_change::resolved;
  json t = {
      {"title", alert_title(rule, x)},
      {"description", alert_description(rule, x)},
      {"priority", rule.severity},
      {"status", resolved ? "resolved" : "open"},
      {"application", context.application},
      {"system_ip", context.system_ip},
      {"alert_type", rule.id},
      {"metric_value", x.value},
      {"node_id", context.node_id},
      {"hostname", x.hostname},
      {"alert_id", alert.id},
      {"state", resolved ? "resolved" : "firing"},
      {"reminder", x.change == alert_change::reminder},
      {"subject", x.subject},
      {"metric", rule.metric},
      {"threshold", x.threshold},
      {"peak_value", x.peak},
      {"cause", x.cause},
      {"started_at", format_iso8601_utc(x.since)},
      {"timestamp", format_iso8601_utc(x.at)},
      {"duration_s", std::chrono::duration_cast<std::chrono::seconds>(x.at - x.since).count()},
  };
  if (resolved)
    t["resolved_at"] = format_iso8601_utc(x.at);
  return t;
}

namespace {

void persist(manager_pointer self, const alert_record& a) {
  if (auto history = find_history(self->home_system()))
    self->send(history, atom::append_v, a);
  else
    ++self->state.counters.store_errors; // restarting: the next change writes it again
}

void append_tickets(manager_pointer self) {
  auto& st = self->state;
  if (st.appending || st.unsent_tickets.empty())
    return;
  auto outbox = find_outbox(self->home_system());
  if (!outbox)
    return; // the tick tries again
  st.appending = true;
  auto records = st.unsent_tickets;
  self->request(outbox, outbox_timeout, atom::append_v, std::string{"alerts"}, records)
      .then(
          [=](uint64_t) {
            auto& st = self->state;
            st.appending = false;
            st.unsent_tickets.erase(st.unsent_tickets.begin(),
                                    st.unsent_tickets.begin() +
                                        static_cast<std::ptrdiff_t>(records.size()));
            append_tickets(self);
          },
          [=](caf::error& err) {
            auto& st = self->state;
            st.appending = false;
            st.counters.last_error = "queueing tickets: " + self->home_system().render(err);
          });
}

void notify(manager_pointer self, const alert_rule_settings& rule, const alert_transition& x,
            alert_record& alert) {
  auto& st = self->state;
  ++st.counters.notifications;
  if (x.change != alert_change::resolved) { // cooldowns count from firings and reminders
    alert.notified_ms = ms(x.at);
    alert.suppressed_reason.clear();
    st.last_notified[key_of(alert.rule_id, alert.subject)] = alert.notified_ms;
  }
  const auto& s = *st.current;
  for (const auto& channel : rule.channels) {
    if (channel == "backend" && !s.backend.url.empty()) {
      ticket_context context{s.node_id, st.host.get().primary_ip, s.alerts.application};
      auto ticket = alert_ticket(rule, x, alert, context);
      auto id = alert.id + ":" +
                (x.change == alert_change::resolved ? "resolved" : std::to_string(ms(x.at)));
      st.unsent_tickets.push_back({0, std::move(id), ticket.dump()});
      if (st.unsent_tickets.size() > max_unsent_tickets)
        st.unsent_tickets.erase(st.unsent_tickets.begin());
    } else if (channel == "local") {
      spdlog::warn("alert {}: {}", alert.id,
                   x.change == alert_change::resolved ? alert_title(rule, x) : alert.title);
    }
  }
  append_tickets(self);
}

bool silenced(manager_pointer self, const std::string& rule_id, wall_time at) {
  auto& st = self->state;
  auto i = st.silences.find(rule_id);
  return i != st.silences.end() && i->second.until_ms > ms(at);
}

void on_transition(manager_pointer self, alert_transition x) {
  auto& st = self->state;
  ++st.counters.transitions;
  auto rule = find_alert_rule(st.current->alerts, x.rule_id);
  if (!rule)
    return; // removed since
  auto key = key_of(x.rule_id, x.subject);
  auto active = st.active.find(key);
  switch (x.change) {
  case alert_change::firing: {
    if (active != st.active.end()) {
      ++st.counters.duplicates;
      active->second.value = x.value;
      active->second.peak = std::max(active->second.peak, x.peak);
      persist(self, active->second);
      return;
    }
    alert_record a;
    a.id = fmt::format("{}:{}:{}", x.rule_id, x.subject, ms(x.since));
    a.rule_id = x.rule_id;
    a.subject = x.subject;
    a.severity = rule->severity;
    a.title = alert_title(*rule, x);
    a.cause = x.cause;
    a.value = x.value;
    a.peak = x.peak;
    a.threshold = x.threshold;
    a.started_ms = ms(x.since);
    auto last = st.last_notified.find(key);
    if (silenced(self, x.rule_id, x.at))
      a.suppressed_reason = "silenced";
    else if (last != st.last_notified.end() && ms(x.at) - last->second < rule->cooldown.count())
      a.suppressed_reason = "cooldown";
    if (a.suppressed_reason.empty())
      notify(self, *rule, x, a);
    else
      ++st.counters.suppressed;
    persist(self, a);
    st.active.emplace(key, std::move(a));
    return;
  }
  case alert_change::reminder: {
    if (active == st.active.end())
      return; // resolved by an operator: quiet until the condition clears
    auto& a = active->second;
    a.value = x.value;
    a.peak = std::max(a.peak, x.peak);
    bool due = a.notified_ms == 0 || ms(x.at) - a.notified_ms >= rule->cooldown.count();
    if (due && a.acknowledged_by.empty() && !silenced(self, x.rule_id, x.at)) {
      a.title = alert_title(*rule, x);
      notify(self, *rule, x, a);
    }
    persist(self, a);
    return;
  }
  case alert_change::resolved: {
    if (active == st.active.end())
      return;
    auto a = std::move(active->second);
    st.active.erase(active);
    a.state = "resolved";
    a.value = x.value;
    a.resolved_ms = ms(x.at);
    a.resolved_by = "condition";
    if (a.notified_ms != 0) // a recovery only for an alert that was sent
      notify(self, *rule, x, a);
    persist(self, a);
    return;
  }
  }
}

supervisor_actor find_alert_rules(caf::actor_system& sys) {
  return caf::actor_cast<supervisor_actor>(sys.registry().get(caf::atom("alertrules")));
}

// Starts the enabled rules that have no running actor under the "alertrules" supervisor.
void start_rules(manager_pointer self) {
  auto& st = self->state;
  auto rules = find_alert_rules(self->home_system());
  if (!rules || !st.current->alerts.enabled)
    return;
  self->request(rules, 10s, atom::status_v).then([=](const std::vector<child_status>& children) {
    auto& st = self->state;
    st.counters.rules.clear();
    for (const auto& rule : effective_alert_rules(st.current->alerts)) {
      auto name = "rule:" + rule.id;
      auto running = std::any_of(children.begin(), children.end(), [&](auto& c) {
        return c.name == name && (c.state == "running" || c.state == "restarting");
      });
      st.counters.rules.push_back(rule.id);
      if (running)
        continue;
      auto id = rule.id;
      child_spec_ptr spec = std::make_shared<child_spec>(
          child_spec{name,
                     [id, rule](caf::actor_system& sys, const settings_ptr& s) {
                       // A restart takes the rule's current settings.
                       auto now = find_alert_rule(s->alerts, id);
                       return caf::actor_cast<caf::actor>(sys.spawn(alert_rule, now ? *now : rule));
                     },
                     restart_policy::transient}); // a removed rule stops for good
      caf::anon_send(rules, atom::add_child_v,
                     std::move(spec)); // the reply (its handle) is not needed
    }
  });
}

void load_book(manager_pointer self) {
  auto history = find_history(self->home_system());
  if (!history)
    return; // the tick asks again
  self->request(history, 10s, atom::restore_v)
      .then([=](alert_book& book) { self->send(self, atom::restore_v, std::move(book)); },
            [=](caf::error& err) {
              self->state.counters.last_error =
                  "reading alerts: " + self->home_system().render(err);
            });
}

alert_record* find_active(manager_pointer self, const std::string& id) {
  for (auto& [key, a] : self->state.active)
    if (a.id == id)
      return &a;
  return nullptr;
}

} // namespace

alert_manager_actor::behavior_type
alert_manager(alert_manager_actor::stateful_pointer<alert_manager_state> self,
              settings_ptr current) {
  self->state.current = std::move(current);
  load_book(self);
  start_rules(self);
  self->delayed_send(self, tick_interval, atom::tick_v);
  return {
      [=](alert_transition& x) {
        auto& st = self->state;
        if (st.loaded)
          return on_transition(self, std::move(x));
        if (st.early.size() < max_early)
          st.early.push_back(std::move(x));
      },
      [=](atom::restore, alert_book& book) {
        auto& st = self->state;
        if (st.loaded)
          return;
        for (auto& a : book.firing)
          st.active.emplace(key_of(a.rule_id, a.subject), std::move(a));
        for (auto& s : book.silences)
          st.silences.emplace(s.rule_id, std::move(s));
        for (auto& [key, at] : book.last_notified)
          st.last_notified[key] = at;
        st.loaded = true;
        if (!st.active.empty())
          spdlog::info("alerts: {} alert(s) still firing from before the restart",
                       st.active.size());
        auto early = std::move(st.early);
        for (auto& x : early)
          on_transition(self, std::move(x));
      },
      [=](atom::query, const std::string& rule_id) -> caf::result<active_subjects> {
        auto& st = self->state;
        if (!st.loaded)
          return caf::make_error(errc::storage_failed, "alerts not loaded yet");
        active_subjects out;
        for (auto& [key, a] : st.active)
          if (a.rule_id == rule_id) {
            out.subjects.push_back(a.subject);
            out.started_ms.push_back(a.started_ms);
            out.notified_ms.push_back(a.notified_ms ? a.notified_ms : a.started_ms);
          }
        return out;
      },
      [=](atom::query, const alert_query& q) -> caf::result<std::vector<alert_record>> {
        auto history = find_history(self->home_system());
        if (!history)
          return caf::make_error(errc::storage_failed, "the history is restarting");
        return self->delegate(history, atom::query_v, q);
      },
      [=](atom::acknowledge, const std::string& id,
          const std::string& by) -> caf::result<alert_record> {
        auto* a = find_active(self, id);
        if (!a)
          return caf::make_error(caf::sec::invalid_argument, "no firing alert " + id);
        a->acknowledged_by = by;
        persist(self, *a);
        return *a;
      },
      [=](atom::resolve, const std::string& id,
          const std::string& by) -> caf::result<alert_record> {
        auto& st = self->state;
        auto* a = find_active(self, id);
        if (!a)
          return caf::make_error(caf::sec::invalid_argument, "no firing alert " + id);
        auto record = *a;
        st.active.erase(key_of(record.rule_id, record.subject));
        record.state = "resolved";
        record.resolved_by = by;
        record.resolved_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
        persist(self, record);
        return record;
      },
      [=](atom::silence, alert_silence& x) -> std::vector<alert_silence> {
        auto& st = self->state;
        if (x.until_ms == 0)
          st.silences.erase(x.rule_id);
        else
          st.silences[x.rule_id] = x;
        if (auto history = find_history(self->home_system()))
          self->send(history, atom::silence_v, x);
        std::vector<alert_silence> out;
        for (auto& [id, s] : st.silences)
          out.push_back(s);
        return out;
      },
      [=](atom::status) { return self->state.counters; },
      [=](atom::tick) {
        if (!self->state.loaded)
          load_book(self);
        start_rules(self);
        append_tickets(self);
        self->delayed_send(self, tick_interval, atom::tick_v);
      },
      [=](atom::configure, settings_ptr& s) {
        self->state.current = std::move(s);
        start_rules(self);
      },
  };
}

} // namespace vigil
