// The alert manager and rule actors with their real neighbours: the history (history.db) and
// the outbox (state.db) of a temporary state dir. Snapshots carry the engine's clock.
#include "actors/alert_manager.hpp"
#include "actors/alert_rule.hpp"
#include "actors/history_store.hpp"
#include "actors/outbox.hpp"
#include "actors/supervisor.hpp"
#include "tests/support/eventually.hpp"
#include "tests/support/temp_directory.hpp"

#include <caf/all.hpp>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <functional>
#include <optional>
#include <thread>

using namespace std::chrono_literals;
using namespace vigil;
using json = nlohmann::json;
using test::eventually;

namespace {

const wall_time t0{std::chrono::milliseconds{1'700'000'000'000}};

// Stands in for the telemetry hub's subscription side: the test publishes the snapshots.
struct relay_state {
  std::vector<caf::actor> subscribers;
};
// (A function actor with no argument trips UBSan in CAF 0.17: it binds a reference to a null
// argument tuple; see runtime/agent.cpp.)
caf::behavior snapshot_relay(caf::stateful_actor<relay_state>* self, bool) {
  return {
      [=](atom::subscribe, caf::actor& a) { self->state.subscribers.push_back(a); },
      [=](atom::publish, telemetry_snapshot_ptr& s) {
        for (auto& a : self->state.subscribers)
          self->send(a, atom::publish_v, s);
      },
      [=](atom::status) { return static_cast<uint64_t>(self->state.subscribers.size()); },
      [=](atom::restore, const user_pressure_state&) {}, // from the history: not needed here
  };
}

alert_rule_settings process_rule() {
  alert_rule_settings r;
  r.id = "many_processes";
  r.metric = "processes";
  r.threshold = 10;
  r.clear_threshold = 8;
  r.for_duration = 1min;
  r.cooldown = 30min;
  r.severity = "high";
  r.channels = {"backend", "local"};
  return r;
}

struct alert_engine_test : ::testing::Test {
  test::temp_directory dir;
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  settings_ptr current;
  std::vector<caf::actor> started;

  alert_engine_test() {
    settings s;
    s.state_dir = dir.path().string();
    s.node_id = "node-1";
    s.backend.url = "http://127.0.0.1:9"; // the ticket channel is on; nothing posts here
    s.fault_injection = true;             // rule_actor_test crashes a rule
    s.alerts.rules = {process_rule()};
    current = std::make_shared<const settings>(s);
  }

  // The registry's references would keep a detached actor's thread (and the system's
  // destructor) waiting forever: drop the names, then stop what the test started.
  ~alert_engine_test() override {
    for (auto name : {"history", "outbox", "alerts", "telemetry", "alertrules"})
      sys.registry().erase(caf::atom_from_string(name));
    for (auto& a : started)
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  }

  template <class Handle>
  Handle keep(const char* name, Handle h) {
    sys.registry().erase(caf::atom_from_string(name));
    sys.registry().put(caf::atom_from_string(name), caf::actor_cast<caf::strong_actor_ptr>(h));
    started.push_back(caf::actor_cast<caf::actor>(h));
    return h;
  }

  void start_stores() {
    keep("history", sys.spawn<caf::detached>(history, current));
    keep("outbox", sys.spawn<caf::detached>(outbox, current));
  }

  alert_manager_actor start_manager() { return keep("alerts", sys.spawn(alert_manager, current)); }

  std::vector<json> tickets(const std::string& stream = "alerts") {
    caf::scoped_actor self{sys};
    std::vector<json> out;
    auto box = find_outbox(sys);
    self->request(box, 5s, atom::publish_v, stream, int64_t{0}, uint32_t{100})
        .receive(
            [&](const std::vector<outbox_entry>& xs) {
              for (auto& x : xs)
                out.push_back(json::parse(x.payload));
            },
            [&](caf::error& err) { ADD_FAILURE() << sys.render(err); });
    return out;
  }

  template <class Reply, class... Ts>
  std::optional<Reply> try_ask(const alert_manager_actor& m, Ts... xs) {
    caf::scoped_actor self{sys};
    std::optional<Reply> out;
    self->request(m, 5s, xs...).receive([&](Reply& x) { out = std::move(x); }, [&](caf::error&) {});
    return out;
  }

  template <class Reply, class... Ts>
  Reply ask(const alert_manager_actor& m, Ts... xs) {
    auto out = try_ask<Reply>(m, xs...);
    EXPECT_TRUE(out) << "no answer";
    return out.value_or(Reply{});
  }

  static alert_transition transition(alert_change change, wall_time at, double value,
                                     const std::string& rule = "cpu_critical",
                                     const std::string& subject = "") {
    alert_transition x;
    x.change = change;
    x.rule_id = rule;
    x.subject = subject;
    x.at = at;
    x.since = at - 5min;
    x.value = value;
    x.peak = value;
    x.threshold = 90;
    x.hostname = "web-server-01";
    x.cause = "java (pid 812, user app)";
    x.top_consumers = {"java (pid 812, user app): 88.0% CPU"};
    return x;
  }
};

TEST_F(alert_engine_test, a_firing_sends_the_seeds_ticket_and_its_recovery_follows) {
  start_stores();
  auto manager = start_manager();
  caf::anon_send(manager, transition(alert_change::firing, t0, 92.3));
  ASSERT_TRUE(eventually([&] { return tickets().size() == 1; }));
  auto t = tickets()[0];
  EXPECT_EQ(t["title"], "🔴 CRITICAL: CPU usage at 92.3% for 5.0 minutes on web-server-01");
  EXPECT_EQ(t["priority"], "critical");
  EXPECT_EQ(t["status"], "open");
  EXPECT_EQ(t["application"], "System Monitor");
  EXPECT_EQ(t["alert_type"], "cpu_critical");
  EXPECT_EQ(t["metric_value"], 92.3);
  EXPECT_TRUE(t.contains("system_ip"));
  EXPECT_EQ(t["node_id"], "node-1");
  EXPECT_EQ(t["state"], "firing");
  auto description = t["description"].get<std::string>();
  EXPECT_NE(description.find("java (pid 812, user app): 88.0% CPU"), std::string::npos);
  EXPECT_NE(description.find("Remediation"), std::string::npos);

  caf::anon_send(manager, transition(alert_change::resolved, t0 + 10min, 40));
  ASSERT_TRUE(eventually([&] { return tickets().size() == 2; }));
  auto r = tickets()[1];
  EXPECT_EQ(r["status"], "resolved");
  EXPECT_EQ(r["alert_id"], t["alert_id"]);
  EXPECT_EQ(r["title"].get<std::string>().rfind("✅ RESOLVED: CPU usage back to 40.0%", 0), 0u)
      << r["title"];

  auto alerts = ask<std::vector<alert_record>>(manager, atom::query_v, alert_query{});
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].state, "resolved");
  EXPECT_EQ(alerts[0].resolved_by, "condition");
  EXPECT_EQ(alerts[0].peak, 92.3);
}

TEST_F(alert_engine_test, a_second_firing_of_an_active_alert_is_not_sent_again) {
  start_stores();
  auto manager = start_manager();
  caf::anon_send(manager, transition(alert_change::firing, t0, 95));
  caf::anon_send(manager, transition(alert_change::firing, t0 + 1min, 97));
  ASSERT_TRUE(eventually(
      [&] { return ask<alert_manager_status>(manager, atom::status_v).transitions == 2; }));
  EXPECT_EQ(ask<alert_manager_status>(manager, atom::status_v).duplicates, 1u);
  EXPECT_EQ(tickets().size(), 1u);
}

TEST_F(alert_engine_test, within_the_cooldown_a_new_firing_and_its_recovery_are_recorded_only) {
  start_stores();
  auto manager = start_manager(); // cpu_critical: 30 minutes cooldown
  caf::anon_send(manager, transition(alert_change::firing, t0, 95));
  caf::anon_send(manager, transition(alert_change::resolved, t0 + 10min, 50));
  caf::anon_send(manager, transition(alert_change::firing, t0 + 20min, 96));
  caf::anon_send(manager, transition(alert_change::resolved, t0 + 25min, 50));
  ASSERT_TRUE(eventually(
      [&] { return ask<alert_manager_status>(manager, atom::status_v).transitions == 4; }));
  ASSERT_TRUE(eventually([&] { return tickets().size() == 2; })); // firing + recovery
  auto alerts = ask<std::vector<alert_record>>(manager, atom::query_v, alert_query{});
  ASSERT_EQ(alerts.size(), 2u);
  EXPECT_EQ(alerts[0].suppressed_reason, "cooldown");
  EXPECT_EQ(alerts[0].notified_ms, 0);
  // Past the cooldown the next firing is sent.
  caf::anon_send(manager, transition(alert_change::firing, t0 + 40min, 97));
  EXPECT_TRUE(eventually([&] { return tickets().size() == 3; }));
}

TEST_F(alert_engine_test, acknowledged_alerts_get_no_reminders_and_silenced_rules_no_alerts) {
  start_stores();
  auto manager = start_manager();
  caf::anon_send(manager, transition(alert_change::firing, t0, 95));
  ASSERT_TRUE(eventually([&] { return tickets().size() == 1; }));
  // The first reminder is sent.
  caf::anon_send(manager, transition(alert_change::reminder, t0 + 30min, 95));
  ASSERT_TRUE(eventually([&] { return tickets().size() == 2; }));
  EXPECT_EQ(tickets()[1]["reminder"], true);
  auto id = tickets()[0]["alert_id"].get<std::string>();
  auto acked = ask<alert_record>(manager, atom::acknowledge_v, id, std::string{"ops"});
  EXPECT_EQ(acked.acknowledged_by, "ops");
  caf::anon_send(manager, transition(alert_change::reminder, t0 + 60min, 95));

  alert_silence mute{"disk_high", (t0 + 24h).time_since_epoch().count(), "ops"};
  auto silences = ask<std::vector<alert_silence>>(manager, atom::silence_v, mute);
  ASSERT_EQ(silences.size(), 1u);
  caf::anon_send(manager, transition(alert_change::firing, t0 + 61min, 85, "disk_high", "/"));
  ASSERT_TRUE(eventually(
      [&] { return ask<alert_manager_status>(manager, atom::status_v).transitions == 4; }));
  EXPECT_EQ(ask<alert_manager_status>(manager, atom::status_v).suppressed, 1u);
  EXPECT_EQ(tickets().size(), 2u);
  auto firing = ask<std::vector<alert_record>>(manager, atom::query_v, alert_query{10, "firing"});
  ASSERT_EQ(firing.size(), 2u);
  EXPECT_EQ(firing[0].suppressed_reason, "silenced");
}

TEST_F(alert_engine_test, a_restarted_manager_resumes_active_alerts_without_sending_again) {
  start_stores();
  auto manager = start_manager();
  caf::anon_send(manager, transition(alert_change::firing, t0, 95, "disk_critical", "/"));
  ASSERT_TRUE(eventually([&] { return tickets().size() == 1; }));
  caf::anon_send_exit(manager, caf::exit_reason::kill);
  std::this_thread::sleep_for(100ms);
  manager = start_manager();
  ASSERT_TRUE(eventually([&] {
    // The new manager answers once it has read the history.
    auto active = try_ask<active_subjects>(manager, atom::query_v, std::string{"disk_critical"});
    return active && active->subjects == std::vector<std::string>{"/"};
  }));
  caf::anon_send(manager, transition(alert_change::firing, t0 + 5min, 96, "disk_critical", "/"));
  ASSERT_TRUE(eventually(
      [&] { return ask<alert_manager_status>(manager, atom::status_v).duplicates == 1; }));
  EXPECT_EQ(tickets().size(), 1u);
}

TEST_F(alert_engine_test, each_channel_gets_the_ticket_in_its_own_outbox_stream) {
  auto s = std::make_shared<settings>(*current);
  s->alerts.webhook.url = "http://127.0.0.1:9/hook"; // nothing delivers here: no sender runs
  s->alerts.email.url = "smtp://127.0.0.1:9";
  s->alerts.rules[0].channels = {"webhook", "email", "local"};
  current = s;
  start_stores();
  auto manager = start_manager();
  caf::anon_send(manager, transition(alert_change::firing, t0, 20, "many_processes"));
  ASSERT_TRUE(eventually([&] { return tickets("webhook").size() == 1; }));
  ASSERT_TRUE(eventually([&] { return tickets("email").size() == 1; }));
  EXPECT_EQ(tickets("webhook")[0]["alert_type"], "many_processes");
  EXPECT_EQ(tickets("email")[0]["alert_id"], tickets("webhook")[0]["alert_id"]);
  EXPECT_TRUE(tickets("alerts").empty()); // "backend" is not among this rule's channels
}

TEST_F(alert_engine_test, a_full_channel_stream_does_not_hold_up_the_others) {
  auto s = std::make_shared<settings>(*current);
  s->alerts.webhook.url = "http://127.0.0.1:9/hook"; // away: its stream fills up
  s->outbox.alerts_max_bytes = 65536;
  s->alerts.rules[0].channels = {"webhook", "backend"};
  current = s;
  start_stores();
  {
    caf::scoped_actor self{sys};
    std::vector<outbox_entry> backlog{{0, "old:1", json{{"pad", std::string(70000, 'x')}}.dump()}};
    self->request(find_outbox(sys), 5s, atom::append_v, std::string{"webhook"}, backlog)
        .receive([](uint64_t) {}, [&](caf::error& err) { FAIL() << sys.render(err); });
  }
  auto manager = start_manager();
  caf::anon_send(manager, transition(alert_change::firing, t0, 20, "many_processes"));
  ASSERT_TRUE(eventually([&] { return tickets("alerts").size() == 1; }));
  EXPECT_EQ(tickets("alerts")[0]["alert_type"], "many_processes");
  EXPECT_EQ(tickets("webhook").size(), 1u); // only the backlog: the new one waits
}

TEST_F(alert_engine_test, an_operator_resolve_sends_the_recovery_and_names_who) {
  start_stores();
  auto manager = start_manager();
  caf::anon_send(manager, transition(alert_change::firing, t0, 95));
  ASSERT_TRUE(eventually([&] { return tickets().size() == 1; }));
  auto id = tickets()[0]["alert_id"].get<std::string>();
  auto resolved = ask<alert_record>(manager, atom::resolve_v, id, std::string{"ops"});
  EXPECT_EQ(resolved.state, "resolved");
  EXPECT_EQ(resolved.resolved_by, "ops");
  ASSERT_TRUE(eventually([&] { return tickets().size() == 2; }));
  EXPECT_EQ(tickets()[1]["status"], "resolved");
  EXPECT_EQ(tickets()[1]["title"].get<std::string>().rfind("✅ RESOLVED by ops: CPU usage", 0), 0u)
      << tickets()[1]["title"];
  // The condition clearing later sends nothing more.
  caf::anon_send(manager, transition(alert_change::resolved, t0 + 20min, 40));
  ASSERT_TRUE(eventually(
      [&] { return ask<alert_manager_status>(manager, atom::status_v).transitions == 2; }));
  EXPECT_EQ(tickets().size(), 2u);
}

TEST_F(alert_engine_test, a_rule_removed_by_a_reload_resolves_its_alerts) {
  start_stores();
  auto manager = start_manager();
  caf::anon_send(manager, transition(alert_change::firing, t0, 20, "many_processes"));
  ASSERT_TRUE(eventually([&] { return tickets().size() == 1; }));
  auto without = std::make_shared<settings>(*current);
  without->alerts.rules.clear();
  caf::anon_send(manager, atom::configure_v, settings_ptr{without});
  ASSERT_TRUE(eventually([&] { return tickets().size() == 2; }));
  EXPECT_EQ(tickets()[1]["status"], "resolved");
  EXPECT_EQ(tickets()[1]["alert_type"], "many_processes");
  auto alerts = ask<std::vector<alert_record>>(manager, atom::query_v, alert_query{});
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].state, "resolved");
  EXPECT_EQ(alerts[0].resolved_by, "rule removed");
}

TEST_F(alert_engine_test, a_change_the_history_missed_is_written_again) {
  start_stores();
  auto manager = start_manager();
  ASSERT_TRUE(eventually([&] {
    return try_ask<active_subjects>(manager, atom::query_v, std::string{"cpu_critical"})
        .has_value();
  })); // the book is read
  // The history dies (its name still registered, as while its supervisor restarts it).
  caf::anon_send_exit(sys.registry().get(caf::atom("history")), caf::exit_reason::kill);
  std::this_thread::sleep_for(100ms);
  caf::anon_send(manager, transition(alert_change::firing, t0, 95));
  ASSERT_TRUE(eventually([&] { return tickets().size() == 1; }));
  keep("history", sys.spawn<caf::detached>(history, current));
  // The manager's tick (5 s) writes the alert the dead history never stored.
  ASSERT_TRUE(eventually([&] {
    auto alerts = try_ask<std::vector<alert_record>>(manager, atom::query_v, alert_query{});
    return alerts && alerts->size() == 1;
  }));
}

TEST_F(alert_engine_test, the_peak_of_a_falling_rule_is_its_lowest_value) {
  auto s = std::make_shared<settings>(*current);
  alert_rule_settings low;
  low.id = "memory_low";
  low.metric = "memory";
  low.comparison = "<";
  low.threshold = 10;
  low.cooldown = 1min;
  s->alerts.rules.push_back(low);
  current = s;
  start_stores();
  auto manager = start_manager();
  auto x = transition(alert_change::firing, t0, 8, "memory_low");
  caf::anon_send(manager, x);
  x.change = alert_change::reminder;
  x.at = t0 + 2min;
  x.value = 9;
  x.peak = 3; // the rule's lowest since the breach began
  caf::anon_send(manager, x);
  ASSERT_TRUE(eventually([&] { return tickets().size() == 2; }));
  EXPECT_EQ(tickets()[1]["peak_value"], 3);
  ASSERT_TRUE(eventually([&] {
    auto firing = try_ask<std::vector<alert_record>>(manager, atom::query_v, alert_query{});
    return firing && firing->size() == 1 && (*firing)[0].peak == 3;
  }));
}

telemetry_snapshot_ptr processes_at(wall_time at, uint32_t total) {
  auto s = std::make_shared<telemetry_snapshot>();
  s->timestamp = at;
  s->hostname = "web-server-01";
  auto p = std::make_shared<processes_section>();
  p->total = total;
  s->processes = p;
  return s;
}

struct rule_actor_test : alert_engine_test {
  caf::actor relay;
  supervisor_actor rules;

  void start_engine() {
    auto only_ours = std::make_shared<settings>(*current);
    only_ours->alerts.default_rules = false; // one rule actor: the process rule
    current = only_ours;
    relay = keep("telemetry", sys.spawn(snapshot_relay, true)); // before the history joins it
    start_stores();
    rules = keep("alertrules",
                 sys.spawn(supervisor, "alert_rules", std::vector<child_spec_ptr>{}, current));
    start_manager();
    ASSERT_TRUE(eventually([&] { return subscribers() == 2; })); // the history and the rule
  }

  uint64_t subscribers() {
    caf::scoped_actor self{sys};
    uint64_t n = 0;
    self->request(relay, 5s, atom::status_v)
        .receive([&](uint64_t x) { n = x; }, [&](caf::error&) {});
    return n;
  }

  void publish(wall_time at, uint32_t total) {
    caf::anon_send(relay, atom::publish_v, processes_at(at, total));
  }

  // Publishes `total` every 10 s of snapshot time from `from` (every 50 ms of real time)
  // until `done`, for at most 20 s.
  bool publish_until(wall_time from, uint32_t total, const std::function<bool()>& done) {
    for (int i = 0; i < 400; ++i) {
      if (done())
        return true;
      publish(from + i * 10s, total);
      std::this_thread::sleep_for(50ms);
    }
    return done();
  }
};

TEST_F(rule_actor_test, a_restarted_rule_neither_repeats_the_alert_nor_forgets_its_recovery) {
  start_engine();
  for (int i = 0; i <= 7; ++i) // 70 s above 10 processes
    publish(t0 + i * 10s, 20);
  ASSERT_TRUE(eventually([&] { return tickets().size() == 1; }));
  EXPECT_EQ(tickets()[0]["alert_type"], "many_processes");
  EXPECT_EQ(tickets()[0]["title"],
            "🟠 HIGH: Process count at 20.0 for 1.0 minutes on web-server-01");

  caf::scoped_actor self{sys};
  self->request(rules, 5s, atom::crash_v, std::string{"rule:many_processes"})
      .receive([](const std::string&) {}, [&](caf::error& err) { FAIL() << sys.render(err); });
  ASSERT_TRUE(eventually([&] { return subscribers() == 3; })); // the restarted rule
  // Still breached, then clear within the rule's duration: a rule that started over would
  // see a short spike and never report the recovery.
  publish(t0 + 80s, 25);
  publish(t0 + 90s, 5);
  ASSERT_TRUE(eventually([&] { return tickets().size() == 2; }));
  EXPECT_EQ(ask<alert_manager_status>(find_alert_manager(sys), atom::status_v).duplicates, 0u);
  EXPECT_EQ(tickets()[1]["status"], "resolved");
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(tickets().size(), 2u);
}

TEST_F(rule_actor_test, a_restarted_manager_learns_the_recovery_it_missed) {
  start_engine();
  for (int i = 0; i <= 7; ++i)
    publish(t0 + i * 10s, 20);
  ASSERT_TRUE(eventually([&] { return tickets().size() == 1; }));
  // The manager dies; its name still points at it until a successor registers, as under
  // its supervisor. The recovery the rule sees meanwhile must not be lost.
  caf::anon_send_exit(find_alert_manager(sys), caf::exit_reason::kill);
  publish(t0 + 80s, 5);
  std::this_thread::sleep_for(300ms);
  start_manager();
  // The rule evaluates again once it has reached the new manager (it retries every second).
  ASSERT_TRUE(publish_until(t0 + 90s, 5, [&] { return tickets().size() == 2; }));
  EXPECT_EQ(tickets()[1]["status"], "resolved");
  ASSERT_TRUE(eventually([&] {
    auto firing = try_ask<std::vector<alert_record>>(find_alert_manager(sys), atom::query_v,
                                                     alert_query{10, "firing"});
    return firing && firing->empty();
  }));
}

TEST_F(rule_actor_test, a_rule_firing_while_the_manager_was_away_is_reported_to_its_successor) {
  start_engine();
  publish(t0, 5); // the rule is connected and evaluating
  caf::anon_send_exit(find_alert_manager(sys), caf::exit_reason::kill);
  for (int i = 1; i <= 8; ++i) // may be evaluated before the rule hears of the death
    publish(t0 + i * 10s, 20);
  std::this_thread::sleep_for(300ms);
  start_manager();
  ASSERT_TRUE(publish_until(t0 + 90s, 20, [&] { return !tickets().empty(); }));
  EXPECT_EQ(tickets()[0]["alert_type"], "many_processes");
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(tickets().size(), 1u);
}

TEST_F(rule_actor_test, a_reload_keeps_a_pending_timer_unless_the_rule_changed) {
  start_engine();
  publish(t0, 20);
  publish(t0 + 30s, 20);
  // An unrelated change: the rule keeps its pending start (t0) and fires at t0 + 1 min.
  auto changed = std::make_shared<settings>(*current);
  changed->telemetry.interval = 2s;
  caf::anon_send(rules, atom::configure_v, settings_ptr{changed});
  publish(t0 + 60s, 20);
  ASSERT_TRUE(eventually([&] { return tickets().size() == 1; }));
  EXPECT_EQ(tickets()[0]["started_at"], "2023-11-14T22:13:20Z"); // t0

  // A changed threshold restarts pending subjects (firing ones stay firing).
  auto stricter = std::make_shared<settings>(*changed);
  stricter->alerts.rules[0].threshold = 30;
  stricter->alerts.rules[0].clear_threshold = 28;
  caf::anon_send(rules, atom::configure_v, settings_ptr{stricter});
  publish(t0 + 70s, 5);
  ASSERT_TRUE(eventually([&] { return tickets().size() == 2; }));
  EXPECT_EQ(tickets()[1]["status"], "resolved");
}

} // namespace
