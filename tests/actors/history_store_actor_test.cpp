#include "actors/history_store.hpp"
#include "io/sqlite/history_store.hpp"
#include "io/sqlite/sqlite_database.hpp"
#include "tests/support/temp_directory.hpp"

#include <caf/all.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

using namespace std::chrono_literals;
using namespace vigil;

namespace {

// A minute-aligned instant.
constexpr int64_t t0 = 1'600'000'020'000;
constexpr int64_t s = 1000;
constexpr int64_t minute = 60 * s;

metric_sample sample_at(int64_t ts, double cpu) {
  return {ts, {{"cpu_percent", "", cpu}, {"disk_usage_percent", "mount=/", 50.0}}};
}

struct history_actor_test : ::testing::Test {
  test::temp_directory dir;
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  std::shared_ptr<std::atomic<int64_t>> clock = std::make_shared<std::atomic<int64_t>>(t0);

  settings_ptr make_settings(duration flush_interval = 1h, uint32_t flush_max_points = 100000,
                             uint64_t max_bytes = 256ull << 20) {
    settings s;
    s.state_dir = dir.path().string();
    s.history.flush_interval = flush_interval;
    s.history.flush_max_points = flush_max_points;
    s.history.max_bytes = max_bytes;
    return std::make_shared<const settings>(s);
  }

  history_actor spawn(settings_ptr s) {
    auto c = clock;
    return sys.spawn<caf::detached>(history_with_clock, std::move(s),
                                    history_clock{[c] { return c->load(); }});
  }

  history_status status(const history_actor& h) {
    caf::scoped_actor self{sys};
    history_status result;
    self->request(h, 5s, atom::status_v)
        .receive([&](history_status& x) { result = std::move(x); },
                 [&](caf::error& err) { ADD_FAILURE() << sys.render(err); });
    return result;
  }

  caf::expected<std::vector<history_series>> query(const history_actor& h, history_query q) {
    caf::scoped_actor self{sys};
    caf::expected<std::vector<history_series>> result{caf::error{}};
    self->request(h, 5s, atom::query_v, std::move(q))
        .receive([&](std::vector<history_series>& xs) { result = std::move(xs); },
                 [&](caf::error& err) { result = std::move(err); });
    return result;
  }

  void ingest(const history_actor& h, metric_sample x) {
    caf::anon_send(h, atom::ingest_v, std::move(x));
  }

  void stop(const history_actor& h) {
    caf::scoped_actor self{sys};
    self->monitor(h);
    self->send_exit(h, caf::exit_reason::user_shutdown);
    self->receive([](const caf::down_msg&) {}, caf::after(10s) >> [] { FAIL() << "not down"; });
  }

  // Polls the status until `pred` holds or 10 s pass.
  template <class Pred>
  bool eventually(const history_actor& h, Pred pred) {
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
      if (pred(status(h)))
        return true;
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }
};

history_query cpu_query(int64_t from, int64_t to, int64_t step) {
  history_query q;
  q.name = "cpu_percent";
  q.from_ms = from;
  q.to_ms = to;
  q.step_ms = step;
  return q;
}

TEST_F(history_actor_test, samples_are_batched_into_one_transaction_and_queried) {
  auto h = spawn(make_settings());
  caf::scoped_actor self{sys};
  for (int i = 0; i < 50; ++i)
    self->send(h, atom::ingest_v, sample_at(t0 + i * s, i));
  auto before = status(h); // same sender: behind the 50 ingests
  EXPECT_EQ(before.samples, 50u);
  EXPECT_EQ(before.pending_points, 100u);
  EXPECT_EQ(before.transactions, 0u);
  EXPECT_EQ(before.raw_rows, 0u);

  clock->store(t0 + minute);
  auto r = query(h, cpu_query(t0, t0 + 50 * s, 10 * s)); // flushes first
  ASSERT_TRUE(r) << sys.render(r.error());
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].tier, "raw");
  ASSERT_EQ((*r)[0].points.size(), 5u);
  EXPECT_EQ((*r)[0].points[2], (std::pair<int64_t, double>{t0 + 20 * s, 24.5}));

  auto after = status(h);
  EXPECT_EQ(after.transactions, 1u); // 50 samples, one transaction
  EXPECT_EQ(after.points, 100u);
  EXPECT_EQ(after.pending_points, 0u);
  EXPECT_EQ(after.raw_rows, 100u);
  EXPECT_EQ(after.series, 2u);
  EXPECT_EQ(after.last_flush_ms, t0 + minute);
  EXPECT_GT(after.file_bytes, 0u);

  auto disks = query(h, [] {
    history_query q;
    q.name = "disk_usage_percent";
    q.labels = std::string{"mount=/"};
    q.from_ms = t0;
    q.to_ms = t0 + minute;
    q.step_ms = minute;
    q.aggregate = "max";
    return q;
  }());
  ASSERT_TRUE(disks);
  ASSERT_EQ(disks->size(), 1u);
  EXPECT_EQ((*disks)[0].labels, "mount=/");

  auto bad = cpu_query(t0, t0 + minute, 0);
  bad.aggregate = "median";
  EXPECT_FALSE(query(h, bad));
  stop(h);
}

TEST_F(history_actor_test, flushes_when_enough_points_are_pending_or_the_interval_elapses) {
  auto by_size = spawn(make_settings(1h, 20));
  for (int i = 0; i < 10; ++i) // 20 points
    ingest(by_size, sample_at(t0 + i * s, i));
  ASSERT_TRUE(eventually(by_size, [](const history_status& x) { return x.transactions == 1; }));
  EXPECT_EQ(status(by_size).raw_rows, 20u);
  stop(by_size);

  test::temp_directory other;
  auto fast = std::make_shared<settings>(*make_settings(100ms));
  fast->state_dir = other.path().string();
  auto by_time = spawn(fast);
  ingest(by_time, sample_at(t0, 1));
  ingest(by_time, sample_at(t0 + s, 2));
  ASSERT_TRUE(eventually(by_time, [](const history_status& x) { return x.transactions == 1; }));
  auto st = status(by_time);
  EXPECT_EQ(st.points, 4u);
  EXPECT_EQ(st.pending_points, 0u);
  stop(by_time);
}

TEST_F(history_actor_test, tick_downsamples_and_prunes_by_the_injected_clock) {
  auto cfg_settings = std::make_shared<settings>(*make_settings());
  cfg_settings->history.raw_retention = 10min;
  cfg_settings->history.retention_days = 1;
  auto h = spawn(cfg_settings);
  for (int i = 0; i < 30; ++i) // one sample a minute for 30 minutes
    ingest(h, sample_at(t0 + i * minute, i));
  clock->store(t0 + 30 * minute);
  caf::anon_send(h, atom::tick_v);
  ASSERT_TRUE(eventually(h, [](const history_status& x) { return x.last_prune_ms != 0; }));
  auto st = status(h);
  EXPECT_EQ(st.transactions, 1u);
  EXPECT_EQ(st.downsampled_rows, 60u); // 30 minutes x 2 series
  EXPECT_EQ(st.downsampled_until_ms, t0 + 30 * minute);
  EXPECT_EQ(st.pruned_raw_rows, 40u); // older than 10 minutes
  EXPECT_EQ(st.raw_rows, 20u);
  EXPECT_EQ(st.minute_rows, 60u);
  EXPECT_EQ(st.last_prune_ms, t0 + 30 * minute);

  // Older than raw retention: answered from the 1-minute tier.
  auto r = query(h, cpu_query(t0, t0 + 30 * minute, 10 * minute));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].tier, "1m");
  ASSERT_EQ((*r)[0].points.size(), 3u);
  EXPECT_DOUBLE_EQ((*r)[0].points[0].second, 4.5);

  // A day later (retention_days = 1) the minutes are gone as well.
  clock->store(t0 + 30 * minute + 24 * 60 * minute);
  caf::anon_send(h, atom::tick_v);
  ASSERT_TRUE(eventually(h, [](const history_status& x) { return x.minute_rows == 0; }));
  EXPECT_EQ(status(h).series, 0u);
  stop(h);
}

TEST_F(history_actor_test, tick_keeps_the_database_within_max_bytes) {
  auto h = spawn(make_settings(1h, 100000, 256 * 1024));
  for (int i = 0; i < 20000; ++i) // 40000 raw rows, well beyond 256 KiB
    ingest(h, sample_at(t0 + i * s, i));
  clock->store(t0 + 20000 * s);
  caf::anon_send(h, atom::tick_v);
  ASSERT_TRUE(eventually(h, [](const history_status& x) { return x.last_prune_ms != 0; }));
  auto st = status(h);
  EXPECT_GT(st.evicted_raw_rows, 0u);
  EXPECT_LE(st.used_bytes, 256u * 1024);
  EXPECT_EQ(st.max_bytes, 256u * 1024);
  EXPECT_EQ(st.raw_rows + st.evicted_raw_rows, 40000u);
  stop(h);
}

TEST_F(history_actor_test, pending_samples_are_written_when_the_actor_exits) {
  auto h = spawn(make_settings());
  for (int i = 0; i < 5; ++i)
    ingest(h, sample_at(t0 + i * s, i));
  stop(h);

  sqlite_database db(dir / "history.db");
  history_store store(db);
  history_request q;
  q.name = "cpu_percent";
  q.from_ms = t0;
  q.to_ms = t0 + minute;
  auto r = store.query(q, t0 + minute);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].points.size(), 5u);
}

TEST_F(history_actor_test, configure_applies_new_retention) {
  auto h = spawn(make_settings());
  for (int i = 0; i < 10; ++i)
    ingest(h, sample_at(t0 + i * minute, i));
  auto shorter = std::make_shared<settings>(*make_settings());
  shorter->history.raw_retention = 5min;
  shorter->history.max_bytes = 8ull << 20;
  caf::anon_send(h, atom::configure_v, settings_ptr{shorter});
  clock->store(t0 + 10 * minute);
  caf::anon_send(h, atom::tick_v);
  ASSERT_TRUE(eventually(h, [](const history_status& x) { return x.last_prune_ms != 0; }));
  auto st = status(h);
  EXPECT_EQ(st.max_bytes, 8u << 20);
  EXPECT_EQ(st.pruned_raw_rows, 10u); // 5 minutes x 2 series older than 5 minutes
  stop(h);
}

} // namespace
