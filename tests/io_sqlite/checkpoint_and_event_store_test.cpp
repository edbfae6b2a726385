#include "io/sqlite/checkpoint_store.hpp"
#include "io/sqlite/event_store.hpp"
#include "io/sqlite/state_schema.hpp"
#include "tests/support/temp_directory.hpp"

#include <gtest/gtest.h>

namespace vigil {
namespace {

using namespace std::chrono_literals;
using clock = std::chrono::system_clock;

const clock::time_point t0 = clock::time_point{} + std::chrono::hours{24 * 365 * 50};

TEST(checkpoint_store, save_load_replace_remove_and_survive_reopen) {
  test::temp_directory dir;
  file_checkpoint a{.source = "/var/log/a.log",
                    .device = ~0ull, // full 64-bit range round-trips
                    .inode = 99,
                    .fingerprint = 0xfedcba9876543210ull,
                    .fingerprint_length = 1024,
                    .offset = 1ull << 40,
                    .line_number = 12345,
                    .updated_at = t0};
  file_checkpoint b = a;
  b.source = "journal";
  b.offset = 7;
  b.cursor = "s=0123;i=1a;b=89ab;m=12;t=5f;x=77";
  {
    sqlite_database db(dir / "state.db");
    checkpoint_store checkpoints(db);
    EXPECT_FALSE(checkpoints.load(a.source));
    checkpoints.save(a);
    checkpoints.save(b);
    b.offset = 8;
    checkpoints.save(b); // replaces
  }
  sqlite_database db(dir / "state.db");
  checkpoint_store checkpoints(db);
  EXPECT_EQ(checkpoints.load(a.source), a);
  EXPECT_EQ(checkpoints.load(b.source), b);
  auto all = checkpoints.load_all();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0], a);
  EXPECT_EQ(all[1], b);
  EXPECT_TRUE(checkpoints.remove(a.source));
  EXPECT_FALSE(checkpoints.remove(a.source));
  EXPECT_EQ(checkpoints.load_all().size(), 1u);
}

TEST(checkpoint_store, a_version_1_database_keeps_its_checkpoints_and_gains_cursors) {
  test::temp_directory dir;
  {
    sqlite_database db(dir / "state.db");
    db.migrate(state_schema_migrations().first(1));
    db.execute("INSERT INTO checkpoints VALUES('/var/log/a.log', 1, 2, 3, 4, 5, 6, 7, 8)");
  }
  sqlite_database db(dir / "state.db");
  checkpoint_store checkpoints(db);
  auto a = checkpoints.load("/var/log/a.log");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->offset, 5u);
  EXPECT_EQ(a->next_sequence, 8u);
  EXPECT_EQ(a->cursor, "");
  a->cursor = "s=1";
  checkpoints.save(*a);
  EXPECT_EQ(checkpoints.load("/var/log/a.log")->cursor, "s=1");
}

stored_event make_event(int i, clock::time_point at, std::string severity, std::string path,
                        std::string line) {
  return {.id = "node-1:" + std::to_string(i),
          .timestamp = at,
          .node_id = "node-1",
          .hostname = "web-01",
          .system_ip = "10.0.0.5",
          .log_path = std::move(path),
          .application = "nginx",
          .severity = std::move(severity),
          .log_line = std::move(line),
          .line_number = static_cast<std::uint64_t>(i),
          .offset = static_cast<std::uint64_t>(i) * 100};
}

TEST(event_store, query_filters_and_orders_newest_first) {
  test::temp_directory dir;
  sqlite_database db(dir / "state.db");
  event_store events(db);
  std::vector<stored_event> batch{
      make_event(1, t0 + 1s, "ERROR", "/var/log/nginx/error.log", "upstream timed out"),
      make_event(2, t0 + 2s, "CRITICAL", "/var/log/app/app.log", "Disk FULL on /data"),
      make_event(3, t0 + 3s, "ERROR", "/var/log/app/app.log", "connection refused"),
      make_event(4, t0 + 4s, "WARNING", "/var/log/nginx/error.log", "slow 100% request_x"),
  };
  EXPECT_EQ(events.insert(batch), 4u);
  EXPECT_EQ(events.insert(batch), 0u); // duplicates by id are skipped
  EXPECT_EQ(events.count(), 4u);

  auto all = events.query({});
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[0], batch[3]);
  EXPECT_EQ(all[3], batch[0]);

  auto errors = events.query({.severity = "error"});
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].id, "node-1:3");
  EXPECT_EQ(errors[1].id, "node-1:1");

  auto window = events.query({.since = t0 + 2s, .until = t0 + 4s});
  ASSERT_EQ(window.size(), 2u);
  EXPECT_EQ(window[0].id, "node-1:3");
  EXPECT_EQ(window[1].id, "node-1:2");

  auto app = events.query({.path_contains = "/app/"});
  EXPECT_EQ(app.size(), 2u);
  auto disk = events.query({.text_contains = "disk full"});
  ASSERT_EQ(disk.size(), 1u);
  EXPECT_EQ(disk[0].id, "node-1:2");
  // Wildcard characters are matched literally.
  EXPECT_EQ(events.query({.text_contains = "100%"}).size(), 1u);
  EXPECT_EQ(events.query({.text_contains = "t_x"}).size(), 1u);
  EXPECT_EQ(events.query({.text_contains = "%"}).size(), 1u);

  auto combined = events.query(
      {.severity = "ERROR", .path_contains = "nginx", .text_contains = "timed", .limit = 10});
  ASSERT_EQ(combined.size(), 1u);
  EXPECT_EQ(combined[0].id, "node-1:1");
  EXPECT_EQ(events.query({.limit = 2}).size(), 2u);

  auto counts = events.count_by_severity();
  EXPECT_EQ(counts["ERROR"], 2u);
  EXPECT_EQ(counts["CRITICAL"], 1u);
  EXPECT_EQ(counts["WARNING"], 1u);
  EXPECT_EQ(events.count_by_severity(t0 + 3s).size(), 2u);
}

TEST(event_store, prune_by_age_then_by_row_count) {
  test::temp_directory dir;
  sqlite_database db(dir / "state.db");
  event_store events(db, {.max_age = 1h, .max_rows = 5});
  std::vector<stored_event> batch;
  for (int i = 0; i < 10; ++i)
    batch.push_back(make_event(i, t0 + std::chrono::minutes{i * 10}, "ERROR", "/p", "line"));
  events.insert(batch);
  // now = t0 + 100 min: events older than t0 + 40 min (0..3) are too old; 6 remain, 5 allowed.
  EXPECT_EQ(events.prune(t0 + 100min), 5u);
  auto left = events.query({});
  ASSERT_EQ(left.size(), 5u);
  EXPECT_EQ(left.front().id, "node-1:9");
  EXPECT_EQ(left.back().id, "node-1:5");
  EXPECT_EQ(events.prune(t0 + 100min), 0u);
}

} // namespace
} // namespace vigil
