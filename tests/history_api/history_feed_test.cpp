// The hub → history feed on this machine (real /proc, real SQLite), surviving a hub restart;
// and the users' pressure runs surviving a restart of the hub and of the whole agent.
#include "io/sqlite/history_store.hpp"
#include "io/sqlite/sqlite_database.hpp"
#include "tests/history_api/history_fixture.hpp"

namespace vigil {
namespace {

using namespace std::chrono_literals;
using test::eventually;

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

wall_time at(int64_t ms) {
  return wall_time{std::chrono::milliseconds{ms}};
}

struct history_feed_test : ::testing::Test {
  test::temp_directory dir;
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  test::registry_guard names{sys};

  settings_ptr make_settings() {
    settings s;
    s.node_id = "history-feed-test";
    s.state_dir = dir.path().string();
    s.telemetry.interval = 200ms;
    s.telemetry.slow_interval = 400ms;
    s.telemetry.users.cpu_threshold = 80;
    s.telemetry.users.persistent_after = 5min;
    s.history.flush_interval = 100ms;
    return std::make_shared<const settings>(s);
  }

  history_actor spawn_history(const settings_ptr& s) {
    return test::register_as(sys, "history", sys.spawn<caf::detached>(history, s));
  }

  caf::expected<std::vector<history_series>> query(const history_actor& h, history_query q) {
    caf::scoped_actor self{sys};
    caf::expected<std::vector<history_series>> result{caf::error{}};
    self->request(h, 10s, atom::query_v, std::move(q))
        .receive([&](std::vector<history_series>& xs) { result = std::move(xs); },
                 [&](caf::error& err) { result = std::move(err); });
    return result;
  }

  std::vector<std::string> metric_names(const history_actor& h) {
    caf::scoped_actor self{sys};
    std::vector<std::string> names;
    self->request(h, 10s, atom::query_v)
        .receive([&](std::vector<std::string>& xs) { names = std::move(xs); },
                 [&](caf::error& err) { ADD_FAILURE() << sys.render(err); });
    return names;
  }

  // Every point of one metric in [from, to), at the stored resolution.
  std::vector<std::pair<int64_t, double>> points(const history_actor& h, const std::string& name,
                                                 int64_t from, int64_t to) {
    history_query q;
    q.name = name;
    q.labels = std::string{};
    q.from_ms = from;
    q.to_ms = to;
    auto r = query(h, q);
    if (!r || r->empty())
      return {};
    return r->front().points;
  }

  telemetry_snapshot_ptr snapshot_of(const telemetry_hub_actor& hub) {
    caf::scoped_actor self{sys};
    telemetry_snapshot_ptr result;
    self->request(hub, 10s, atom::query_v)
        .receive([&](telemetry_snapshot_ptr& x) { result = std::move(x); },
                 [&](caf::error& err) { ADD_FAILURE() << sys.render(err); });
    return result;
  }

  // The run of `user` in the hub's latest snapshot, if any.
  std::optional<user_pressure_entry> pressure_of(const telemetry_hub_actor& hub,
                                                 const std::string& user) {
    auto snap = snapshot_of(hub);
    if (!snap)
      return std::nullopt;
    for (auto& u : snap->user_pressure)
      if (u.user == user && u.metric == "cpu")
        return u;
    return std::nullopt;
  }

  std::vector<persistent_user> saved_users() {
    sqlite_database db(dir / "history.db");
    history_store store(db);
    return store.load_persistent_users();
  }

  void publish_user(const telemetry_hub_actor& hub, int64_t sampled_at, double cpu) {
    auto p = std::make_shared<processes_section>();
    p->sampled_at = at(sampled_at);
    p->total = 10;
    p->users.push_back({"alice", 1000, cpu, 1.0, 1 << 20, 3});
    caf::anon_send(hub, atom::publish_v, processes_section_ptr{std::move(p)});
  }
};

TEST_F(history_feed_test, live_snapshots_become_rows_readable_by_metric_and_time_range) {
  auto s = make_settings();
  auto started = now_ms();
  auto h = spawn_history(s); // before the hub, as in the agent: it finds the hub later
  auto tree = test::spawn_telemetry_tree(sys, s);

  ASSERT_TRUE(eventually([&] {
    auto st = test::history_status_of(sys, h);
    return st.snapshots >= 3 &&
           !points(h, "processes.total", started - 60'000, now_ms() + 1).empty();
  })) << "no telemetry reached the history";
  auto st = test::history_status_of(sys, h);
  EXPECT_TRUE(st.hub_subscribed);
  EXPECT_EQ(st.hub_subscriptions, 1u);
  EXPECT_GT(st.points, 0u);
  EXPECT_GE(st.transactions, 1u);
  EXPECT_LT(st.transactions, st.snapshots * 2 + 2); // batched, not one per value

  auto until = now_ms() + 1;
  auto cpu = points(h, "cpu.usage_percent", started - 60'000, until);
  ASSERT_FALSE(cpu.empty());
  for (auto& [t, v] : cpu) {
    EXPECT_GE(t, started - 2'000);
    EXPECT_LT(t, until);
    EXPECT_GE(v, 0.0);
    EXPECT_LE(v, 100.0 + 1e-9);
  }
  auto mem = points(h, "memory.used_percent", started - 60'000, until);
  ASSERT_FALSE(mem.empty());
  EXPECT_GT(mem.back().second, 0.0);
  auto procs = points(h, "processes.total", started - 60'000, until);
  ASSERT_FALSE(procs.empty());
  EXPECT_GE(procs.back().second, 2.0); // at least this test and init

  // The time range selects: the range after the first row holds fewer rows, a future range none.
  auto later = points(h, "cpu.usage_percent", cpu.front().first + 1, until);
  EXPECT_EQ(later.size(), cpu.size() - 1);
  EXPECT_TRUE(points(h, "cpu.usage_percent", until + 3'600'000, until + 7'200'000).empty());

  auto names = metric_names(h);
  auto has = [&](const std::string& n) {
    return std::find(names.begin(), names.end(), n) != names.end();
  };
  EXPECT_TRUE(has("cpu.usage_percent"));
  EXPECT_TRUE(has("cpu.core.0.usage_percent"));
  EXPECT_TRUE(has("load.1m"));
  EXPECT_TRUE(has("memory.used_percent"));
  EXPECT_TRUE(has("system.status_level"));
  EXPECT_TRUE(std::any_of(names.begin(), names.end(), [](const std::string& n) {
    return n.rfind("net.", 0) == 0 && n.find(".rx_bytes_per_s") != std::string::npos;
  }));

  // The hub crashes: the supervisor restarts it, the history subscribes to the new one.
  auto hub = find_telemetry_hub(sys);
  ASSERT_TRUE(hub);
  auto before = test::history_status_of(sys, h).snapshots;
  caf::anon_send_exit(hub, caf::exit_reason::kill);
  EXPECT_TRUE(eventually([&] {
    auto x = test::history_status_of(sys, h);
    return x.hub_subscriptions == 2 && x.hub_subscribed && x.snapshots >= before + 3;
  })) << "the history did not follow the restarted hub";

  test::stop_actor(sys, tree);
  test::stop_actor(sys, h);
}

TEST_F(history_feed_test, user_pressure_since_survives_hub_and_agent_restarts) {
  auto s = make_settings();
  auto since = now_ms() - 10 * 60'000; // alice has been above 80 % for ten minutes
  auto hub = test::register_as(sys, "telemetry", sys.spawn(telemetry_hub, s));
  auto h = spawn_history(s);
  auto last_seen = now_ms() - 30'000;
  publish_user(hub, since, 95);
  publish_user(hub, last_seen, 97);
  ASSERT_TRUE(eventually([&] {
    auto users = saved_users();
    return users.size() == 1 && users[0].samples == 2;
  })) << "the run was not saved";
  auto saved = saved_users().front();
  EXPECT_EQ(saved.user, "alice");
  EXPECT_EQ(saved.metric, "cpu");
  EXPECT_EQ(saved.above_since_ms, since);
  EXPECT_EQ(saved.last_seen_ms, last_seen);
  EXPECT_DOUBLE_EQ(saved.peak_percent, 97);

  // Agent restart: both actors stop, new ones start (history first, as in the agent).
  test::stop_actor(sys, hub);
  test::stop_actor(sys, h);
  h = spawn_history(s);
  hub = test::register_as(sys, "telemetry", sys.spawn(telemetry_hub, s));
  ASSERT_TRUE(eventually([&] { return pressure_of(hub, "alice").has_value(); }))
      << "the new hub did not get the saved run";
  auto restored = *pressure_of(hub, "alice");
  EXPECT_EQ(restored.since, at(since));
  EXPECT_EQ(restored.samples, 2u);
  EXPECT_TRUE(restored.persistent); // 9.5 minutes >= telemetry.users.persistent_after
  // Still above: the run goes on from its original start.
  publish_user(hub, now_ms(), 90);
  ASSERT_TRUE(eventually([&] {
    auto u = pressure_of(hub, "alice");
    return u && u->samples == 3;
  }));
  EXPECT_EQ(pressure_of(hub, "alice")->since, at(since));

  // Hub restart alone: the running history hands the saved run to the next hub.
  ASSERT_TRUE(eventually([&] {
    auto users = saved_users();
    return users.size() == 1 && users[0].samples == 3;
  }));
  test::stop_actor(sys, hub, caf::exit_reason::kill);
  hub = test::register_as(sys, "telemetry", sys.spawn(telemetry_hub, s));
  ASSERT_TRUE(eventually([&] { return pressure_of(hub, "alice").has_value(); }))
      << "the restarted hub did not get the saved run";
  EXPECT_EQ(pressure_of(hub, "alice")->since, at(since));
  EXPECT_EQ(pressure_of(hub, "alice")->samples, 3u);

  // Below the threshold: the run ends, and so does its saved row.
  publish_user(hub, now_ms(), 10);
  EXPECT_TRUE(eventually([&] { return saved_users().empty(); }));
  test::stop_actor(sys, hub);
  test::stop_actor(sys, h);
}

TEST(history_restore, runs_older_than_the_gap_are_not_restored) {
  constexpr int64_t now = 1'700'000'000'000;
  std::vector<persistent_user> saved{
      {"alice", now - 3'600'000, now - 30'000, "cpu", 99, 990, 10},
      {"bob", now - 7'200'000, now - 2 * 3'600'000, "memory", 90, 90, 1}, // agent down 2 h
      {"carol", now - 60'000, now - 10'000, "memory", 85, 170, 2},
  };
  auto state =
      restorable_user_pressure(saved, now, std::chrono::minutes{5}, std::chrono::minutes{30});
  ASSERT_EQ(state.users.size(), 2u);
  EXPECT_EQ(state.users[0].user, "alice");
  EXPECT_EQ(state.users[0].since, at(now - 3'600'000));
  EXPECT_EQ(state.users[0].samples, 10u);
  EXPECT_DOUBLE_EQ(state.users[0].sum_percent, 990);
  EXPECT_TRUE(state.users[0].persistent);
  EXPECT_EQ(state.users[1].user, "carol");
  EXPECT_FALSE(state.users[1].persistent);
}

} // namespace
} // namespace vigil
