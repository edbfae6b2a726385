// history.db schema v2: user-pressure runs per (user, metric) with their statistics, replaced
// as a whole; every aggregate per bucket; the list of metric names.
#include "io/sqlite/history_store.hpp"
#include "tests/support/temp_directory.hpp"

#include <gtest/gtest.h>

namespace vigil {
namespace {

constexpr std::int64_t t0 = 1'600'000'020'000; // minute-aligned
constexpr std::int64_t s = 1000;

TEST(history_store_v2, a_v1_database_keeps_its_persistent_users) {
  test::temp_directory dir;
  {
    sqlite_database db(dir / "history.db");
    db.migrate(history_schema_migrations().first(1));
    db.execute("INSERT INTO persistent_users(user, above_since_ms, last_seen_ms, metric) "
               "VALUES('bob', 1000, 2000, 'cpu')");
  }
  sqlite_database db(dir / "history.db");
  history_store store(db);
  EXPECT_EQ(db.user_version(), history_schema_migrations().back().version); // v2 and later applied
  auto users = store.load_persistent_users();
  ASSERT_EQ(users.size(), 1u);
  EXPECT_EQ(users[0], (persistent_user{"bob", 1000, 2000, "cpu", 0, 0, 0}));
}

TEST(history_store_v2, runs_are_kept_per_user_and_metric_and_replaced_as_a_whole) {
  test::temp_directory dir;
  {
    sqlite_database db(dir / "history.db");
    history_store store(db);
    store.replace_persistent_users({{"alice", t0, t0 + 60 * s, "cpu", 97.5, 190, 2},
                                    {"alice", t0 + s, t0 + 60 * s, "memory", 85, 85, 1},
                                    {"bob", t0, t0, "cpu", 81, 81, 1}});
    store.replace_persistent_users({{"alice", t0, t0 + 90 * s, "cpu", 99, 289, 3},
                                    {"alice", t0 + s, t0 + 90 * s, "memory", 86, 171, 2}});
  }
  sqlite_database db(dir / "history.db");
  history_store store(db);
  auto users = store.load_persistent_users();
  ASSERT_EQ(users.size(), 2u); // bob's run ended
  EXPECT_EQ(users[0], (persistent_user{"alice", t0, t0 + 90 * s, "cpu", 99, 289, 3}));
  EXPECT_EQ(users[1], (persistent_user{"alice", t0 + s, t0 + 90 * s, "memory", 86, 171, 2}));
  EXPECT_TRUE(store.remove_persistent_user("alice"));
  EXPECT_TRUE(store.load_persistent_users().empty());
}

TEST(history_store_v2, buckets_carry_avg_min_and_max_and_names_are_listed) {
  test::temp_directory dir;
  sqlite_database db(dir / "history.db");
  history_store store(db);
  std::vector<history_sample> samples;
  for (int i = 0; i < 6; ++i)
    samples.push_back({t0 + i * 5 * s, {{"cpu.usage_percent", "", double(i)}, {"load.1m", "", 1}}});
  store.append_all(samples);
  history_request r;
  r.name = "cpu.usage_percent";
  r.labels = std::string{};
  r.from_ms = t0;
  r.to_ms = t0 + 30 * s;
  r.step_ms = 10 * s;
  auto result = store.query(r, t0 + 60 * s);
  ASSERT_EQ(result.size(), 1u);
  EXPECT_EQ(result[0].tier, "raw");
  ASSERT_EQ(result[0].buckets.size(), 3u);
  EXPECT_EQ(result[0].buckets[1], (history_bucket{t0 + 10 * s, 2.5, 2, 3}));
  r.step_ms = 60 * s; // the 1-minute tier (with the raw rows not downsampled yet)
  result = store.query(r, t0 + 60 * s);
  ASSERT_EQ(result.size(), 1u);
  EXPECT_EQ(result[0].tier, "1m");
  ASSERT_EQ(result[0].buckets.size(), 1u);
  EXPECT_EQ(result[0].buckets[0], (history_bucket{t0, 2.5, 0, 5}));
  store.downsample(t0 + 120 * s);
  result = store.query(r, t0 + 60 * s);
  ASSERT_EQ(result[0].buckets.size(), 1u);
  EXPECT_EQ(result[0].buckets[0], (history_bucket{t0, 2.5, 0, 5}));
  EXPECT_EQ(store.metric_names(), (std::vector<std::string>{"cpu.usage_percent", "load.1m"}));
}

} // namespace
} // namespace vigil
