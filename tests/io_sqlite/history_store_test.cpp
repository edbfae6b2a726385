#include "io/sqlite/history_store.hpp"
#include "tests/support/temp_directory.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace vigil {
namespace {

using namespace std::chrono_literals;
using points = std::vector<std::pair<std::int64_t, double>>;

// A minute-aligned instant (2020-09-13T12:26:00Z).
constexpr std::int64_t t0 = 1'600'000'000'000 - 1'600'000'000'000 % 60'000 + 60'000;
constexpr std::int64_t s = 1000;
constexpr std::int64_t minute = 60 * s;
constexpr std::int64_t hour = 60 * minute;

// `count` samples one `every` apart from `from`: cpu = i, disk mount=/ = 100 + i,
// disk mount=/boot = 200 + i.
std::vector<history_sample> make_samples(std::int64_t from, int count, std::int64_t every = s) {
  std::vector<history_sample> samples;
  for (int i = 0; i < count; ++i)
    samples.push_back({from + i * every,
                       {{"cpu_percent", "", double(i)},
                        {"disk_usage_percent", "mount=/", 100.0 + i},
                        {"disk_usage_percent", "mount=/boot", 200.0 + i}}});
  return samples;
}

history_request request(std::string name, std::int64_t from, std::int64_t to, std::int64_t step,
                        std::optional<std::string> labels = std::nullopt) {
  history_request r;
  r.name = std::move(name);
  r.labels = std::move(labels);
  r.from_ms = from;
  r.to_ms = to;
  r.step_ms = step;
  return r;
}

std::string query_plan(sqlite_database& db, const std::string& sql) {
  sqlite_statement stmt(db, "EXPLAIN QUERY PLAN " + sql);
  std::string plan;
  while (stmt.step())
    plan += stmt.column_text(3) + "\n";
  return plan;
}

TEST(history_store, schema_is_versioned_separately_and_reopens) {
  test::temp_directory dir;
  {
    sqlite_database db(dir / "history.db");
    history_store store(db);
    EXPECT_EQ(db.user_version(), history_schema_migrations().back().version);
  }
  sqlite_database db(dir / "history.db");
  history_store store(db); // already current: nothing to apply
  EXPECT_EQ(db.user_version(), history_schema_migrations().back().version);
}

TEST(history_store, raw_query_buckets_by_step_from_the_range_start) {
  test::temp_directory dir;
  sqlite_database db(dir / "history.db");
  history_store store(db);
  EXPECT_EQ(store.append_all(make_samples(t0, 120)), 360u);
  auto now = t0 + 120 * s;

  // 10 s buckets from t0: bucket k averages 10k .. 10k+9.
  auto cpu = store.query(request("cpu_percent", t0, t0 + 120 * s, 10 * s), now);
  ASSERT_EQ(cpu.size(), 1u);
  EXPECT_EQ(cpu[0].tier, "raw");
  EXPECT_EQ(cpu[0].labels, "");
  ASSERT_EQ(cpu[0].points.size(), 12u);
  for (int k = 0; k < 12; ++k) {
    EXPECT_EQ(cpu[0].points[k].first, t0 + k * 10 * s);
    EXPECT_DOUBLE_EQ(cpu[0].points[k].second, 10.0 * k + 4.5);
  }

  // Buckets start at `from` even when it is not aligned; `to` is exclusive.
  auto shifted = store.query(request("cpu_percent", t0 + 5 * s, t0 + 27 * s, 10 * s), now);
  ASSERT_EQ(shifted.size(), 1u);
  EXPECT_EQ(shifted[0].points,
            (points{{t0 + 5 * s, 9.5}, {t0 + 15 * s, 19.5}, {t0 + 25 * s, 25.5}}));

  // Without labels every label set of the metric, ordered by labels; with labels just one.
  auto disks = store.query(request("disk_usage_percent", t0, t0 + 2 * s, 0), now);
  ASSERT_EQ(disks.size(), 2u);
  EXPECT_EQ(disks[0].labels, "mount=/");
  EXPECT_EQ(disks[0].points, (points{{t0, 100.0}, {t0 + s, 101.0}})); // step 0: stored rows
  EXPECT_EQ(disks[1].labels, "mount=/boot");
  EXPECT_EQ(disks[1].points, (points{{t0, 200.0}, {t0 + s, 201.0}}));
  auto boot = store.query(request("disk_usage_percent", t0, t0 + 2 * s, 0, "mount=/boot"), now);
  ASSERT_EQ(boot.size(), 1u);
  EXPECT_EQ(boot[0].labels, "mount=/boot");

  auto peak = request("cpu_percent", t0, t0 + 60 * s, 30 * s);
  peak.aggregate = history_aggregate::max;
  EXPECT_EQ(store.query(peak, now)[0].points, (points{{t0, 29.0}, {t0 + 30 * s, 59.0}}));
  peak.aggregate = history_aggregate::min;
  EXPECT_EQ(store.query(peak, now)[0].points, (points{{t0, 0.0}, {t0 + 30 * s, 30.0}}));

  EXPECT_TRUE(store.query(request("no_such_metric", t0, now, 0), now).empty());
  EXPECT_TRUE(store.query(request("cpu_percent", now, t0, 0), now).empty());
}

TEST(history_store, same_millisecond_replaces_and_non_finite_values_are_skipped) {
  test::temp_directory dir;
  sqlite_database db(dir / "history.db");
  history_store store(db);
  std::vector<history_sample> samples{{t0, {{"load1", "", 1.0}}},
                                      {t0, {{"load1", "", 2.0}}},
                                      {t0 + s,
                                       {{"load1", "", std::numeric_limits<double>::quiet_NaN()},
                                        {"load1", "", std::numeric_limits<double>::infinity()}}}};
  EXPECT_EQ(store.append_all(samples), 2u);
  auto r = store.query(request("load1", t0, t0 + 10 * s, 0), t0 + 10 * s);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].points, (points{{t0, 2.0}}));
}

TEST(history_store, downsampling_aggregates_complete_minutes_once_and_late_values_again) {
  test::temp_directory dir;
  sqlite_database db(dir / "history.db");
  history_store store(db, {.raw = 24h, .minute = 24h * 30, .max_bytes = 0});
  store.append_all(make_samples(t0, 210)); // 3.5 minutes

  // The current minute (t0+3m) is not complete: three minutes per series.
  EXPECT_EQ(store.downsample(t0 + 3 * minute + 40 * s), 9u);
  EXPECT_EQ(store.stats().downsampled_until_ms, t0 + 3 * minute);
  EXPECT_EQ(store.downsample(t0 + 3 * minute + 50 * s), 0u); // idempotent
  EXPECT_EQ(store.stats().minute_rows, 9u);

  {
    auto stmt = db.cached("SELECT minute_ts, avg, min, max, count FROM samples_1m WHERE "
                          "series_id = (SELECT id FROM series WHERE name = 'cpu_percent') "
                          "ORDER BY minute_ts");
    for (int m = 0; m < 3; ++m) {
      ASSERT_TRUE(stmt->step());
      EXPECT_EQ(stmt->column_int64(0), t0 + m * minute);
      EXPECT_DOUBLE_EQ(stmt->column_double(1), 60.0 * m + 29.5);
      EXPECT_DOUBLE_EQ(stmt->column_double(2), 60.0 * m);
      EXPECT_DOUBLE_EQ(stmt->column_double(3), 60.0 * m + 59);
      EXPECT_EQ(stmt->column_int64(4), 60);
    }
    EXPECT_FALSE(stmt->step());
  }

  // A late value into minute 1 is folded in at the next run (minutes 1 and 2 recomputed).
  store.append_all(std::vector<history_sample>{{t0 + minute + 500, {{"cpu_percent", "", 1000.0}}}});
  EXPECT_EQ(store.downsample(t0 + 3 * minute + 55 * s), 6u);
  auto now = t0 + 48 * hour; // far beyond raw retention: the 1m tier answers
  auto r = store.query(request("cpu_percent", t0, t0 + 3 * minute, minute), now);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].tier, "1m");
  ASSERT_EQ(r[0].points.size(), 3u);
  EXPECT_DOUBLE_EQ(r[0].points[1].second, (60.0 * 60 + 29.5 * 60 + 1000) / 61);

  // Restarted, the watermark is kept: nothing is aggregated twice.
  history_store reopened(db);
  EXPECT_EQ(reopened.stats().downsampled_until_ms, t0 + 3 * minute);
  EXPECT_EQ(reopened.downsample(t0 + 3 * minute + 59 * s), 0u);
}

TEST(history_store, minute_tier_query_weights_minutes_and_adds_the_raw_tail) {
  test::temp_directory dir;
  sqlite_database db(dir / "history.db");
  history_store store(db, {.raw = 1h, .minute = 24h * 30, .max_bytes = 0});
  store.append_all(make_samples(t0, 300)); // 5 minutes of cpu = 0..299
  store.downsample(t0 + 3 * minute);       // minutes 0..2 aggregated, 3..4 only raw

  // A 2-minute step over 1m rows [0,1], [2] + raw tail of minute 3, [4].
  auto now = t0 + 2 * hour; // from is older than raw retention
  auto r = store.query(request("cpu_percent", t0, t0 + 6 * minute, 2 * minute), now);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].tier, "1m");
  EXPECT_EQ(r[0].points, (points{{t0, 59.5}, {t0 + 2 * minute, 179.5}, {t0 + 4 * minute, 269.5}}));

  // A step of a minute or more uses the 1m tier even inside raw retention.
  auto recent = store.query(request("cpu_percent", t0, t0 + 5 * minute, minute), t0 + 5 * minute);
  EXPECT_EQ(recent[0].tier, "1m");
  EXPECT_EQ(recent[0].points.size(), 5u);
  // Step 0 outside raw retention: one point per minute.
  auto native = store.query(request("cpu_percent", t0, t0 + 5 * minute, 0), now);
  EXPECT_EQ(native[0].points.size(), 5u);
  EXPECT_EQ(native[0].points[4], (std::pair<std::int64_t, double>{t0 + 4 * minute, 269.5}));
}

TEST(history_store, prune_applies_retention_by_the_given_clock) {
  test::temp_directory dir;
  sqlite_database db(dir / "history.db");
  history_store store(db, {.raw = 1h, .minute = 2h, .max_bytes = 0});
  store.append_all(make_samples(t0, 180, minute)); // one per minute for 3 hours
  auto now = t0 + 3 * hour;

  // Nothing is downsampled yet: raw rows are kept whatever their age.
  auto first = store.prune(now);
  EXPECT_EQ(first.raw_rows, 0u);
  EXPECT_EQ(store.stats().raw_rows, 540u);

  store.downsample(now);
  auto pruned = store.prune(now);
  EXPECT_EQ(pruned.raw_rows, 3u * 120);   // older than now - 1 * hour
  EXPECT_EQ(pruned.minute_rows, 3u * 60); // older than now - 2 * hour
  auto st = store.stats();
  EXPECT_EQ(st.raw_rows, 3u * 60);
  EXPECT_EQ(st.minute_rows, 3u * 120);
  EXPECT_EQ(st.series, 3u);

  auto r = store.query(request("cpu_percent", t0, now, 0), now);
  ASSERT_EQ(r.size(), 1u);
  ASSERT_FALSE(r[0].points.empty());
  EXPECT_EQ(r[0].points.front().first, now - 2 * hour);

  // Everything ages out: the series go too, and come back with new values.
  auto later = now + 3 * hour;
  store.downsample(later);
  auto all = store.prune(later);
  EXPECT_EQ(all.series, 3u);
  EXPECT_EQ(store.stats().series, 0u);
  store.append_all(make_samples(later, 1));
  EXPECT_EQ(store.query(request("cpu_percent", later, later + s, 0), later)[0].points,
            (points{{later, 0.0}}));
}

TEST(history_store, bound_evicts_oldest_raw_rows_first_then_minutes) {
  test::temp_directory dir;
  sqlite_database db(dir / "history.db");
  const std::uint64_t bound = 512 * 1024;
  history_store store(db, {.raw = 24h, .minute = 24h * 30, .max_bytes = 0});
  store.append_all(make_samples(t0, 4 * 3600)); // 4 h of 1 s samples, 43200 rows
  store.downsample(t0 + 4 * hour);
  ASSERT_GT(store.used_bytes(), bound);
  auto minute_rows = store.stats().minute_rows;

  store.set_retention({.raw = 24h, .minute = 24h * 30, .max_bytes = bound});
  auto evicted = store.enforce_bound();
  EXPECT_GT(evicted.raw_rows, 0u);
  EXPECT_EQ(evicted.minute_rows, 0u);
  EXPECT_FALSE(evicted.over_bound);
  EXPECT_LE(store.used_bytes(), bound);
  auto st = store.stats();
  EXPECT_EQ(st.raw_rows + evicted.raw_rows, 43200u);
  EXPECT_EQ(st.minute_rows, minute_rows);
  // The newest raw values are kept.
  auto now = t0 + 4 * hour;
  auto r = store.query(request("cpu_percent", now - 10 * s, now, 0), now);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].points.size(), 10u);
  EXPECT_EQ(store.enforce_bound().raw_rows, 0u); // within the bound: nothing more

  // A bound below what the minute tier alone needs: raw goes entirely, then oldest minutes.
  store.set_retention({.raw = 24h, .minute = 24h * 30, .max_bytes = 64 * 1024});
  auto more = store.enforce_bound();
  EXPECT_GT(more.minute_rows, 0u);
  EXPECT_EQ(store.stats().raw_rows, 0u);
  EXPECT_LE(store.used_bytes(), 64u * 1024);
  auto tier = store.query(request("cpu_percent", t0, now, minute), now + 48 * hour);
  ASSERT_EQ(tier.size(), 1u);
  ASSERT_FALSE(tier[0].points.empty());
  EXPECT_EQ(tier[0].points.back().first, now - minute); // newest minutes survive
  EXPECT_GT(tier[0].points.front().first, t0);
}

TEST(history_store, flushed_samples_survive_reopening) {
  test::temp_directory dir;
  {
    sqlite_database db(dir / "history.db", {.synchronous = sqlite_sync::normal});
    history_store store(db);
    store.append_all(make_samples(t0, 10));
  }
  sqlite_database db(dir / "history.db");
  history_store store(db);
  auto r = store.query(request("disk_usage_percent", t0, t0 + 10 * s, 0, "mount=/"), t0 + 10 * s);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].points.size(), 10u);
  EXPECT_EQ(store.stats().series, 3u);
}

TEST(history_store, a_rolled_back_batch_leaves_no_series_behind) {
  test::temp_directory dir;
  sqlite_database db(dir / "history.db");
  history_store store(db);
  {
    sqlite_transaction tx(db);
    store.append(t0, "new_metric", "", 1.0);
  } // rolled back: the series row the cache remembers is gone
  store.forget_series_cache();
  store.append_all(std::vector<history_sample>{{t0 + s, {{"new_metric", "", 2.0}}}});
  auto r = store.query(request("new_metric", t0, t0 + 10 * s, 0), t0 + 10 * s);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].points, (points{{t0 + s, 2.0}}));
}

TEST(history_store, reads_are_primary_key_range_scans) {
  test::temp_directory dir;
  sqlite_database db(dir / "history.db");
  history_store store(db);
  auto raw = query_plan(db, "SELECT ts, value FROM samples_raw WHERE series_id = 1 AND ts >= 5 "
                            "AND ts < 10");
  EXPECT_NE(raw.find("SEARCH samples_raw USING PRIMARY KEY"), std::string::npos) << raw;
  auto downsample =
      query_plan(db, "SELECT r.series_id, (r.ts / 60000) * 60000 AS m, avg(r.value) FROM series s "
                     "CROSS JOIN samples_raw r ON r.series_id = s.id AND r.ts >= 1 AND r.ts < 2 "
                     "GROUP BY r.series_id, m");
  EXPECT_NE(downsample.find("SEARCH r USING PRIMARY KEY"), std::string::npos) << downsample;
  auto prune = query_plan(db, "DELETE FROM samples_raw WHERE series_id IN (SELECT id FROM series) "
                              "AND ts < 5");
  EXPECT_NE(prune.find("SEARCH samples_raw USING PRIMARY KEY"), std::string::npos) << prune;
}

TEST(history_store, alerts_upsert_load_list_and_prune_when_resolved_long_ago) {
  test::temp_directory dir;
  sqlite_database db(dir / "history.db");
  history_store store(db, {.raw = 1h, .minute = 24h, .max_bytes = 0});
  stored_alert a{.id = "disk:/",
                 .rule_id = "disk_usage_high",
                 .severity = "warn",
                 .state = "firing",
                 .started_at_ms = t0,
                 .message = "disk / at 91%",
                 .value = 91.0,
                 .threshold = 90.0};
  stored_alert b{.id = "cpu",
                 .rule_id = "cpu_high",
                 .severity = "critical",
                 .state = "firing",
                 .started_at_ms = t0 + minute,
                 .message = "cpu at 99%",
                 .value = 99.0,
                 .threshold = 95.0};
  store.upsert_alert(a);
  store.upsert_alert(b);
  EXPECT_EQ(store.load_alert("disk:/"), a);
  EXPECT_FALSE(store.load_alert("nope"));
  auto all = store.list_alerts();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].id, "cpu"); // newest first
  EXPECT_EQ(store.list_alerts(std::nullopt, 1).size(), 1u);

  a.state = "resolved";
  a.resolved_at_ms = t0 + 5 * minute;
  a.acknowledged_at_ms = t0 + 2 * minute;
  a.silenced_until_ms = t0 + 10 * minute;
  store.upsert_alert(a);
  EXPECT_EQ(store.load_alert("disk:/"), a);
  auto firing = store.list_alerts("firing");
  ASSERT_EQ(firing.size(), 1u);
  EXPECT_EQ(firing[0].id, "cpu");

  // Resolved alerts go with the minute retention; firing ones stay.
  EXPECT_EQ(store.prune(t0 + 5 * minute + 24 * hour + s).alerts, 1u);
  EXPECT_FALSE(store.load_alert("disk:/"));
  EXPECT_TRUE(store.remove_alert("cpu"));
  EXPECT_FALSE(store.remove_alert("cpu"));
  EXPECT_EQ(store.stats().alerts, 0u);
}

TEST(history_store, persistent_users_upsert_load_remove) {
  test::temp_directory dir;
  {
    sqlite_database db(dir / "history.db");
    history_store store(db);
    store.upsert_persistent_user({"bob", t0, t0 + minute, "cpu_percent"});
    store.upsert_persistent_user({"alice", t0, t0, "memory_percent"});
    store.upsert_persistent_user({"bob", t0, t0 + 2 * minute, "cpu_percent"});
  }
  sqlite_database db(dir / "history.db");
  history_store store(db);
  auto users = store.load_persistent_users();
  ASSERT_EQ(users.size(), 2u);
  EXPECT_EQ(users[0], (persistent_user{"alice", t0, t0, "memory_percent"}));
  EXPECT_EQ(users[1], (persistent_user{"bob", t0, t0 + 2 * minute, "cpu_percent"}));
  EXPECT_TRUE(store.remove_persistent_user("alice"));
  EXPECT_FALSE(store.remove_persistent_user("alice"));
  EXPECT_EQ(store.stats().persistent_users, 1u);
}

} // namespace
} // namespace vigil

namespace vigil {
namespace {

TEST(history_store, audit_log_lists_newest_first_and_is_bounded_by_age_and_count) {
  test::temp_directory dir;
  sqlite_database db(dir / "history.db");
  history_store store(db);
  for (int i = 0; i < 3; ++i)
    store.append_audit({t0 + i * s, "127.0.0.1", "ops", "POST /control",
                        "{\"command\":\"stop_livelogs\"}", 200 + i});
  auto all = store.list_audit(0, 10);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].status, 202); // newest first
  EXPECT_EQ(all[2], (audit_record{t0, "127.0.0.1", "ops", "POST /control",
                                  "{\"command\":\"stop_livelogs\"}", 200}));
  EXPECT_EQ(store.list_audit(t0 + s, 10).size(), 2u);
  EXPECT_EQ(store.list_audit(0, 1).at(0).status, 202);

  // Beyond audit_max_records, the oldest go at the next prune; the rest stays.
  {
    sqlite_transaction tx(db);
    for (std::size_t i = 0; i < audit_max_records; ++i)
      store.append_audit({t0 + 10 * s, "127.0.0.1", "ops", "POST /control", "", 200});
    tx.commit();
  }
  EXPECT_EQ(store.prune(t0 + hour).audit_records, 3u);
  EXPECT_EQ(store.list_audit(0, 100000).size(), audit_max_records);
  EXPECT_TRUE(store.list_audit(t0 + 11 * s, 10).empty());
  // Older than the minute tier's retention: gone.
  EXPECT_EQ(store.prune(t0 + 400LL * 24 * hour).audit_records, audit_max_records);
  EXPECT_TRUE(store.list_audit(0, 10).empty());
}

TEST(history_store, alert_notifications_and_silences_survive_a_reopen) {
  test::temp_directory dir;
  {
    sqlite_database db(dir / "history.db");
    history_store store(db);
    stored_alert a{.id = "disk_high:/:1",
                   .rule_id = "disk_high",
                   .severity = "high",
                   .state = "resolved",
                   .started_at_ms = t0,
                   .resolved_at_ms = t0 + minute,
                   .message = "disk / at 85%",
                   .value = 85,
                   .threshold = 80,
                   .subject = "/",
                   .cause = "/ on /dev/sda1",
                   .peak = 87,
                   .notified_at_ms = t0,
                   .resolved_by = "condition",
                   .acknowledged_by = "ops"};
    stored_alert b = a;
    b.id = "disk_high:/:2";
    b.state = "firing";
    b.started_at_ms = t0 + 2 * minute;
    b.resolved_at_ms.reset();
    b.notified_at_ms.reset();
    b.suppressed_reason = "cooldown";
    store.upsert_alert(a);
    store.upsert_alert(b);
    EXPECT_EQ(store.load_alert(a.id), a);
    EXPECT_EQ(store.load_alert(b.id), b);
    store.upsert_silence({"cpu_high", t0 + hour, "ops"});
    store.upsert_silence({"cpu_high", t0 + 2 * hour, "admin"});
    store.upsert_silence({"disk_high", t0 + hour, "ops"});
    EXPECT_TRUE(store.remove_silence("disk_high"));
    EXPECT_FALSE(store.remove_silence("disk_high"));
  }
  sqlite_database db(dir / "history.db");
  history_store store(db);
  auto last = store.last_notifications();
  ASSERT_EQ(last.size(), 1u); // the suppressed alert was never notified
  EXPECT_EQ(last[0].rule_id, "disk_high");
  EXPECT_EQ(last[0].subject, "/");
  EXPECT_EQ(last[0].at_ms, t0);
  EXPECT_EQ(store.list_silences(),
            (std::vector<stored_silence>{{"cpu_high", t0 + 2 * hour, "admin"}}));
}

} // namespace
} // namespace vigil
