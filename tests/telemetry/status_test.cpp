// System status classification and per-user pressure tracking (pure functions of the hub).

#include "actors/telemetry_hub.hpp"

#include <gtest/gtest.h>

namespace vigil {
namespace {

using namespace std::chrono_literals;

telemetry_settings defaults() {
  return {}; // cpu 80, memory 80, load/core 100, medium at 60 %; users 80/80, 60 min
}

user_entry user(std::string name, double cpu, double memory) {
  user_entry u;
  u.user = std::move(name);
  u.cpu_percent = cpu;
  u.memory_percent = memory;
  return u;
}

TEST(system_status, light_below_medium_share_of_every_threshold) {
  status_inputs in;
  in.cpu_percent = 47.9; // 60 % of 80 = 48
  in.memory_percent = 10;
  in.load_per_core = 0.59;
  auto s = classify_system_status(in, defaults());
  EXPECT_EQ(s.level, load_level::light);
  EXPECT_TRUE(s.reasons.empty());
  EXPECT_EQ(load_level_label(s.level), "Light Usage");
}

TEST(system_status, medium_from_each_system_value_at_its_medium_share) {
  for (int which = 0; which < 3; ++which) {
    status_inputs in;
    in.cpu_percent = which == 0 ? 48.0 : 1.0;
    in.memory_percent = which == 1 ? 60.0 : 1.0;
    in.load_per_core = which == 2 ? 0.6 : 0.01;
    auto s = classify_system_status(in, defaults());
    EXPECT_EQ(s.level, load_level::medium) << which;
    ASSERT_EQ(s.reasons.size(), 1u) << which;
  }
}

TEST(system_status, heavy_from_thresholds_and_persistent_users) {
  status_inputs in;
  in.cpu_percent = 80;
  auto s = classify_system_status(in, defaults());
  EXPECT_EQ(s.level, load_level::heavy);
  ASSERT_EQ(s.reasons.size(), 1u);
  EXPECT_EQ(s.reasons[0], "cpu 80.0% >= 80%");
  EXPECT_EQ(load_level_label(s.level), "Heavy Load");

  status_inputs load;
  load.load_per_core = 1.25;
  EXPECT_EQ(classify_system_status(load, defaults()).level, load_level::heavy);

  status_inputs persistent;
  persistent.cpu_percent = 5;
  persistent.persistent_users = 1;
  auto p = classify_system_status(persistent, defaults());
  EXPECT_EQ(p.level, load_level::heavy);
  EXPECT_EQ(p.reasons.at(0), "1 persistent user");
}

TEST(system_status, a_user_above_a_user_threshold_makes_it_medium) {
  std::vector<user_entry> users{user("alice", 95, 1), user("bob", 1, 1)};
  status_inputs in;
  in.cpu_percent = 10;
  in.users = users;
  auto s = classify_system_status(in, defaults());
  EXPECT_EQ(s.level, load_level::medium);
  ASSERT_EQ(s.reasons.size(), 1u);
  EXPECT_EQ(s.reasons[0], "user alice cpu 95.0% >= 80%");
}

TEST(system_status, thresholds_are_configurable) {
  auto cfg = defaults();
  cfg.status.cpu_percent = 50;
  cfg.status.medium_percent = 50;
  status_inputs in;
  in.cpu_percent = 30; // medium at 25
  EXPECT_EQ(classify_system_status(in, cfg).level, load_level::medium);
  in.cpu_percent = 50;
  EXPECT_EQ(classify_system_status(in, cfg).level, load_level::heavy);
}

TEST(system_status, unknown_values_do_not_count) {
  status_inputs in; // e.g. every section stale
  EXPECT_EQ(classify_system_status(in, defaults()).level, load_level::light);
}

const wall_time t0{std::chrono::milliseconds{1735689600000}};

TEST(user_pressure, a_run_starts_continues_becomes_persistent_and_ends) {
  auto cfg = defaults();
  cfg.users.persistent_after = 10min;
  std::vector<user_pressure_entry> tracked;
  track_user_pressure(tracked, {user("alice", 90, 10), user("bob", 10, 85)}, t0, cfg);
  ASSERT_EQ(tracked.size(), 2u);
  EXPECT_EQ(tracked[0].user, "alice");
  EXPECT_EQ(tracked[0].metric, "cpu");
  EXPECT_EQ(tracked[0].since, t0);
  EXPECT_FALSE(tracked[0].persistent);
  EXPECT_EQ(tracked[1].user, "bob");
  EXPECT_EQ(tracked[1].metric, "memory");

  track_user_pressure(tracked, {user("alice", 99, 10), user("bob", 10, 85)}, t0 + 5min, cfg);
  track_user_pressure(tracked, {user("alice", 81, 10), user("bob", 10, 85)}, t0 + 10min, cfg);
  ASSERT_EQ(tracked.size(), 2u);
  EXPECT_EQ(tracked[0].since, t0);
  EXPECT_EQ(tracked[0].last_seen, t0 + 10min);
  EXPECT_EQ(tracked[0].samples, 3u);
  EXPECT_DOUBLE_EQ(tracked[0].peak_percent, 99);
  EXPECT_DOUBLE_EQ(tracked[0].sum_percent, 270);
  EXPECT_TRUE(tracked[0].persistent);

  // alice drops below, bob disappears from the listed users: both runs end.
  track_user_pressure(tracked, {user("alice", 79, 10)}, t0 + 11min, cfg);
  EXPECT_TRUE(tracked.empty());

  // A new run starts from scratch.
  track_user_pressure(tracked, {user("alice", 80, 10)}, t0 + 12min, cfg);
  ASSERT_EQ(tracked.size(), 1u);
  EXPECT_EQ(tracked[0].since, t0 + 12min);
  EXPECT_FALSE(tracked[0].persistent);
}

TEST(user_pressure, a_restored_run_keeps_its_since_while_the_user_stays_above) {
  auto cfg = defaults(); // persistent after 60 min
  std::vector<user_pressure_entry> tracked;
  user_pressure_state saved;
  saved.users.push_back({"alice", "cpu", t0 - 2h, t0 - 1min, 95, 950, 10, true});
  saved.users.push_back({"carol", "memory", t0 - 2h, t0 - 1min, 90, 900, 10, true});
  restore_user_pressure(tracked, saved);
  ASSERT_EQ(tracked.size(), 2u);
  track_user_pressure(tracked, {user("alice", 85, 1)}, t0, cfg);
  ASSERT_EQ(tracked.size(), 1u); // carol is no longer above
  EXPECT_EQ(tracked[0].since, t0 - 2h);
  EXPECT_EQ(tracked[0].samples, 11u);
  EXPECT_TRUE(tracked[0].persistent);
}

TEST(user_pressure, restoring_an_older_run_of_a_tracked_user_moves_since_back) {
  std::vector<user_pressure_entry> tracked;
  track_user_pressure(tracked, {user("alice", 90, 1)}, t0, defaults());
  user_pressure_state saved;
  saved.users.push_back({"alice", "cpu", t0 - 30min, t0 - 1min, 99, 990, 10, false});
  restore_user_pressure(tracked, saved);
  ASSERT_EQ(tracked.size(), 1u);
  EXPECT_EQ(tracked[0].since, t0 - 30min);
  EXPECT_DOUBLE_EQ(tracked[0].peak_percent, 99);
}

} // namespace
} // namespace vigil
