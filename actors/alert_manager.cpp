#include "actors/alert_manager.hpp"

#include "actors/alert_rule.hpp"
#include "actors/alert_sender.hpp"
#include "actors/backend_poster.hpp"
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
constexpr std::size_t max_unsent_notifications = 10000;

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
  if (x.change == alert_change::resolved && !x.resolved_by.empty())
    return fmt::format("✅ RESOLVED by {}: {} after {} on {}", x.resolved_by, w.what,
                       minutes_between(x.since, x.at), x.hostname);
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

int64_t now_ms() {
  return ms(
      std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now()));
}

// An alert is written only once its notifications are in the outbox: written earlier, a
// crash in between would leave "notified" in the history and nothing sent. (A crash before
// the write is made good by the rules: they report to the successor what it does not know.)
bool notification_pending(manager_pointer self, const std::string& alert_id) {
  auto prefix = alert_id + ":";
  auto& st = self->state;
  return std::any_of(st.unsent.begin(), st.unsent.end(), [&](auto& q) {
    // A stream the outbox refuses (full) does not hold the history back.
    return q.entry.id.starts_with(prefix) && !st.refused.contains(q.stream);
  });
}

void save(manager_pointer self, const std::string& id) {
  auto& st = self->state;
  auto i = st.unsaved.find(id);
  if (i == st.unsaved.end() || notification_pending(self, id))
    return;
  auto history = find_history(self->home_system());
  if (!history)
    return; // restarting: the tick writes it
  i->second.writing = true;
  auto version = i->second.version;
  self->request(history, outbox_timeout, atom::append_v, i->second.record)
      .then(
          [=](bool) {
            auto& st = self->state;
            auto i = st.unsaved.find(id);
            if (i == st.unsaved.end())
              return;
            if (i->second.version == version)
              st.unsaved.erase(i); // else a newer write is on its way
          },
          [=](caf::error& err) {
            auto& st = self->state;
            ++st.counters.store_errors;
            st.counters.last_error = "writing alert " + id + ": " + self->home_system().render(err);
            if (auto i = st.unsaved.find(id); i != st.unsaved.end())
              i->second.writing = false; // the tick tries again
          });
}

void save_all(manager_pointer self) {
  std::vector<std::string> ids;
  for (auto& [id, u] : self->state.unsaved)
    if (!u.writing)
      ids.push_back(id);
  for (auto& id : ids)
    save(self, id);
}

// Every change of an alert is written to the history; one that is not confirmed stays here
// and is written again, so the history never keeps a stale "firing" row.
void persist(manager_pointer self, const alert_record& a) {
  auto& st = self->state;
  auto& u = st.unsaved[a.id];
  u.version = ++st.saves;
  u.record = a;
  save(self, a.id);
}

// Tells the channel's sender that records were appended (it also polls).
void wake_sender(manager_pointer self, const std::string& stream) {
  auto& sys = self->home_system();
  if (stream == "alerts") {
    if (auto poster =
            caf::actor_cast<backend_poster_actor>(sys.registry().get(caf::atom("backend"))))
      self->send(poster, atom::resume_v);
  } else if (auto sender = find_alert_sender(sys, stream)) {
    self->send(sender, atom::resume_v);
  }
}

void save_all(manager_pointer self);

// Appends each stream's queued notifications, oldest first, one request per stream in
// flight. A stream the outbox refuses (full: its receiver has been away long) waits for the
// next tick without holding up the others.
void append_notifications(manager_pointer self) {
  auto& st = self->state;
  auto outbox = find_outbox(self->home_system());
  if (!outbox)
    return; // the tick tries again
  std::set<std::string> streams;
  for (auto& q : st.unsent)
    if (!st.appending.contains(q.stream) && !st.refused.contains(q.stream))
      streams.insert(q.stream);
  for (const auto& stream : streams) {
    std::vector<outbox_entry> records;
    for (auto& q : st.unsent)
      if (q.stream == stream)
        records.push_back(q.entry);
    st.appending.insert(stream);
    self->request(outbox, outbox_timeout, atom::append_v, stream, records)
        .then(
            [=](uint64_t) {
              auto& st = self->state;
              st.appending.erase(stream);
              std::set<std::string> appended;
              for (auto& r : records)
                appended.insert(r.id);
              std::erase_if(st.unsent, [&](auto& q) {
                return q.stream == stream && appended.contains(q.entry.id);
              });
              wake_sender(self, stream);
              save_all(self); // the alerts whose notifications are now durable
              append_notifications(self);
            },
            [=](caf::error& err) {
              auto& st = self->state;
              st.appending.erase(stream);
              st.refused.insert(stream);
              st.counters.last_error =
                  "queueing " + stream + " notifications: " + self->home_system().render(err);
            });
  }
}

// Too many notifications wait (the outbox refused a stream for long): the oldest of the
// stream holding the most goes, so a stuck receiver does not cost the others theirs.
void drop_oldest_notification(manager_pointer self) {
  auto& st = self->state;
  std::map<std::string, std::size_t> counts;
  for (auto& q : st.unsent)
    ++counts[q.stream];
  auto largest = std::max_element(counts.begin(), counts.end(), [](auto& a, auto& b) {
                   return a.second < b.second;
                 })->first;
  auto victim = std::find_if(st.unsent.begin(), st.unsent.end(),
                             [&](auto& q) { return q.stream == largest; });
  ++st.counters.dropped_notifications;
  spdlog::error("alerts: the outbox took no {} notification for too long; dropped {}", largest,
                victim->entry.id);
  st.unsent.erase(victim);
}

bool channel_configured(const settings& s, const std::string& channel) {
  if (channel == "backend")
    return !s.backend.url.empty();
  if (channel == "webhook")
    return !s.alerts.webhook.url.empty();
  if (channel == "email")
    return !s.alerts.email.url.empty();
  return false;
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
  std::string payload;
  for (const auto& channel : rule.channels) {
    if (channel == "local") {
      spdlog::warn("alert {}: {}", alert.id,
                   x.change == alert_change::resolved ? alert_title(rule, x) : alert.title);
      continue;
    }
    if (!channel_configured(s, channel))
      continue; // "backend" without backend.url (the configuration requires the others)
    if (payload.empty()) {
      ticket_context context{s.node_id, st.host.get().primary_ip, s.alerts.application};
      payload = alert_ticket(rule, x, alert, context).dump();
    }
    auto id = alert.id + ":" +
              (x.change == alert_change::resolved ? "resolved" : std::to_string(ms(x.at)));
    st.unsent.push_back({channel == "backend" ? "alerts" : channel, {0, std::move(id), payload}});
    if (st.unsent.size() > max_unsent_notifications)
      drop_oldest_notification(self);
  }
  append_notifications(self);
}

bool silenced(manager_pointer self, const std::string& rule_id, wall_time at) {
  auto& st = self->state;
  auto i = st.silences.find(rule_id);
  return i != st.silences.end() && i->second.until_ms > ms(at);
}

// Ends an alert that is no longer active: recorded, and its recovery sent when its firing
// was (`rule` is null when the rule's settings are unknown: nothing can be sent then).
alert_record close_alert(manager_pointer self, const alert_rule_settings* rule, alert_record a,
                         const alert_transition& x) {
  a.state = "resolved";
  a.value = x.value;
  a.resolved_ms = ms(x.at);
  a.resolved_by = x.resolved_by.empty() ? "condition" : x.resolved_by;
  if (rule && a.notified_ms != 0)
    notify(self, *rule, x, a);
  persist(self, a);
  return a;
}

// A transition that ends `a` at `at` for a reason other than the condition clearing.
alert_transition ending(manager_pointer self, const alert_record& a, wall_time at, std::string by) {
  alert_transition x;
  x.change = alert_change::resolved;
  x.rule_id = a.rule_id;
  x.subject = a.subject;
  x.at = at;
  x.since = wall_time{std::chrono::milliseconds{a.started_ms}};
  x.value = a.value;
  x.peak = a.peak;
  x.threshold = a.threshold;
  x.hostname = self->state.host.get().hostname;
  x.cause = a.cause;
  x.resolved_by = std::move(by);
  return x;
}

// Alerts of rules that are gone from `now` (removed, disabled, or the engine turned off)
// end, their recovery sent with the settings they fired under (`before`, when known).
void close_orphans(manager_pointer self, const settings* before, const settings& now) {
  auto& st = self->state;
  auto at = wall_time{std::chrono::milliseconds{now_ms()}};
  for (auto i = st.active.begin(); i != st.active.end();) {
    if (now.alerts.enabled && find_alert_rule(now.alerts, i->second.rule_id)) {
      ++i;
      continue;
    }
    auto a = std::move(i->second);
    i = st.active.erase(i);
    auto old = before ? find_alert_rule(before->alerts, a.rule_id) : std::nullopt;
    spdlog::info("alerts: {} ends, its rule is gone", a.id);
    auto x = ending(self, a, at, "rule removed");
    close_alert(self, old ? &*old : nullptr, std::move(a), x);
  }
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
      active->second.peak = x.peak;
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
    a.peak = x.peak;
    a.threshold = x.threshold;
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
    close_alert(self, &*rule, std::move(a), x);
    return;
  }
  }
}

supervisor_actor find_alert_rules(caf::actor_system& sys) {
  return caf::actor_cast<supervisor_actor>(sys.registry().get(caf::atom("alertrules")));
}

// Starts the enabled rules that have no running actor under the "alertrules" supervisor.
// A rule its supervisor gave up on (crashing again and again) stays down until a reload.
void start_rules(manager_pointer self) {
  auto& st = self->state;
  auto rules = find_alert_rules(self->home_system());
  if (!rules || !st.current->alerts.enabled || st.starting_rules)
    return;
  st.starting_rules = true;
  self->request(rules, 10s, atom::status_v)
      .then(
          [=](const std::vector<child_status>& children) {
            auto& st = self->state;
            st.starting_rules = false;
            if (!st.current->alerts.enabled)
              return;
            st.counters.rules.clear();
            st.counters.failed_rules.clear();
            for (const auto& rule : effective_alert_rules(st.current->alerts)) {
              auto name = "rule:" + rule.id;
              auto child = std::find_if(children.begin(), children.end(),
                                        [&](auto& c) { return c.name == name; });
              auto state = child == children.end() ? std::string{} : child->state;
              if (state == "failed" && !st.given_up.contains(rule.id)) {
                st.given_up.insert(rule.id);
                st.counters.last_error = "rule " + rule.id + " failed: " + child->last_error;
              }
              if (st.given_up.contains(rule.id)) {
                st.counters.failed_rules.push_back(rule.id);
                continue;
              }
              st.counters.rules.push_back(rule.id);
              if (state == "running" || state == "restarting")
                continue;
              auto id = rule.id;
              child_spec_ptr spec = std::make_shared<child_spec>(
                  child_spec{name,
                             [id, rule](caf::actor_system& sys, const settings_ptr& s) {
                               // A restart takes the supervisor's current settings; a rule removed
                               // by a reload it missed while restarting stops on this configure.
                               auto now = find_alert_rule(s->alerts, id);
                               auto actor = sys.spawn(alert_rule, now ? *now : rule);
                               caf::anon_send(actor, atom::configure_v, s);
                               return caf::actor_cast<caf::actor>(actor);
                             },
                             restart_policy::transient}); // a removed rule stops for good
              caf::anon_send(rules, atom::add_child_v,
                             std::move(spec)); // the reply (its handle) is not needed
            }
          },
          [=](caf::error& err) {
            auto& st = self->state;
            st.starting_rules = false; // the tick asks again
            st.counters.last_error = "starting rules: " + self->home_system().render(err);
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

std::vector<alert_silence> silences_of(manager_pointer self) {
  std::vector<alert_silence> out;
  for (auto& [id, s] : self->state.silences)
    out.push_back(s);
  return out;
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
        close_orphans(self, nullptr, *st.current); // removed while the agent was down
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
            out.peaks.push_back(a.peak);
            out.thresholds.push_back(a.threshold);
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
        auto record = std::move(*a);
        st.active.erase(key_of(record.rule_id, record.subject));
        auto rule = find_alert_rule(st.current->alerts, record.rule_id);
        auto x = ending(self, record, wall_time{std::chrono::milliseconds{now_ms()}}, by);
        return close_alert(self, rule ? &*rule : nullptr, std::move(record), x);
      },
      [=](atom::silence, alert_silence& x) -> std::vector<alert_silence> {
        auto& st = self->state;
        if (x.until_ms == 0)
          st.silences.erase(x.rule_id);
        else
          st.silences[x.rule_id] = x;
        if (auto history = find_history(self->home_system()))
          self->send(history, atom::silence_v, x);
        return silences_of(self);
      },
      [=](atom::silence) { return silences_of(self); },
      [=](atom::status) { return self->state.counters; },
      [=](atom::tick) {
        auto& st = self->state;
        if (!st.loaded)
          load_book(self);
        start_rules(self);
        st.refused.clear();
        append_notifications(self);
        save_all(self);
        self->delayed_send(self, tick_interval, atom::tick_v);
      },
      [=](atom::configure, settings_ptr& s) {
        auto& st = self->state;
        auto before = std::move(st.current);
        st.current = std::move(s);
        st.given_up.clear(); // new settings may cure a crashing rule
        if (st.loaded)
          close_orphans(self, before.get(), *st.current);
        start_rules(self);
      },
  };
}

} // namespace vigil
