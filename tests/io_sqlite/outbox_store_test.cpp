#include "io/sqlite/checkpoint_store.hpp"
#include "io/sqlite/outbox_store.hpp"
#include "tests/support/temp_directory.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace vigil {
namespace {

using namespace std::chrono_literals;
using clock = std::chrono::system_clock;

const clock::time_point t0 = clock::time_point{} + std::chrono::hours{24 * 365 * 50};

std::vector<outbox_message> make_messages(int first, int count, std::size_t payload_size = 10) {
  std::vector<outbox_message> messages;
  for (int i = first; i < first + count; ++i) {
    std::string payload = "p" + std::to_string(i);
    payload.resize(std::max(payload.size(), payload_size), '.');
    messages.push_back({"id-" + std::to_string(i), payload});
  }
  return messages;
}

std::vector<std::int64_t> seqs_of(const std::vector<outbox_record>& records) {
  std::vector<std::int64_t> seqs;
  for (const auto& r : records)
    seqs.push_back(r.seq);
  return seqs;
}

std::vector<outbox_stream_config> small_streams() {
  return {{"logs", 1000, outbox_overflow::refuse},
          {"alerts", 1000, outbox_overflow::refuse},
          {"telemetry", 100, outbox_overflow::drop_oldest},
          {"heartbeat", 100, outbox_overflow::drop_oldest}};
}

TEST(outbox_store, append_peek_remove_keep_sequence_order) {
  test::temp_directory dir;
  sqlite_database db(dir / "state.db");
  outbox_store outbox(db, small_streams());

  auto first = outbox.append("logs", make_messages(0, 3), t0);
  ASSERT_TRUE(first.appended());
  auto second = outbox.append("logs", make_messages(3, 2), t0 + 1ms);
  ASSERT_TRUE(second.appended());
  EXPECT_EQ(first.last_seq - first.first_seq, 2);
  EXPECT_GT(second.first_seq, first.last_seq);
  outbox.append("alerts", make_messages(100, 1), t0);

  auto records = outbox.peek("logs", 10, t0 + 1s);
  ASSERT_EQ(records.size(), 5u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(records[i].id, "id-" + std::to_string(i));
    EXPECT_EQ(records[i].stream, "logs");
    EXPECT_EQ(records[i].attempts, 0u);
    if (i > 0) {
      EXPECT_GT(records[i].seq, records[i - 1].seq);
    }
  }
  EXPECT_EQ(records[0].created_at, t0);
  EXPECT_EQ(records[4].created_at, t0 + 1ms);
  EXPECT_EQ(outbox.peek("logs", 2, t0 + 1s).size(), 2u);

  std::vector<std::int64_t> confirmed{records[0].seq, records[1].seq};
  EXPECT_EQ(outbox.remove("logs", confirmed), 2u);
  EXPECT_EQ(outbox.remove("logs", confirmed), 0u); // a second confirm changes nothing
  auto rest = outbox.peek("logs", 10, t0 + 1s);
  ASSERT_EQ(rest.size(), 3u);
  EXPECT_EQ(rest[0].id, "id-2");

  auto stats = outbox.stats("logs", t0 + 10s);
  EXPECT_EQ(stats.records, 3u);
  std::uint64_t expected_bytes = 0;
  for (const auto& r : rest)
    expected_bytes += r.id.size() + r.payload.size();
  EXPECT_EQ(stats.bytes, expected_bytes);
  EXPECT_EQ(stats.oldest_age, 10s);
  EXPECT_EQ(outbox.stats("alerts").records, 1u);
  EXPECT_THROW(outbox.append("nope", make_messages(0, 1)), std::invalid_argument);
}

TEST(outbox_store, byte_bound_refuses_and_writes_nothing) {
  test::temp_directory dir;
  sqlite_database db(dir / "state.db");
  outbox_store outbox(db, small_streams());
  // Each message: "id-N" (4) + 100 payload bytes = 104 bytes; 9 fit in 1000, 10 do not.
  ASSERT_TRUE(outbox.append("logs", make_messages(0, 5, 100), t0).appended());
  auto before = outbox.stats("logs", t0);
  auto refused = outbox.append("logs", make_messages(5, 5, 100), t0);
  EXPECT_EQ(refused.outcome, outbox_append_result::status::full);
  auto after = outbox.stats("logs", t0);
  EXPECT_EQ(after.records, before.records);
  EXPECT_EQ(after.bytes, before.bytes);
  EXPECT_EQ(outbox.peek("logs", 100, t0).size(), 5u);
  EXPECT_TRUE(outbox.append("logs", make_messages(5, 4, 100), t0).appended());
  EXPECT_EQ(outbox.stats("logs", t0).bytes, 9u * 104u);

  // Room again after the broker confirmed some.
  auto records = outbox.peek("logs", 2, t0);
  outbox.remove("logs", seqs_of(records));
  EXPECT_TRUE(outbox.append("logs", make_messages(9, 2, 100), t0).appended());
  EXPECT_EQ(outbox.stats("logs", t0).bytes, 9u * 104u + 1u); // "id-10" is one byte longer
  // A batch larger than the whole bound is taken only by an empty stream (progress)...
  EXPECT_TRUE(outbox.append("alerts", make_messages(0, 20, 100), t0).appended());
  EXPECT_EQ(outbox.stats("alerts", t0).records, 20u);
  // ... and nothing more fits until it drained.
  EXPECT_FALSE(outbox.append("alerts", make_messages(20, 1, 1), t0).appended());
}

TEST(outbox_store, drop_oldest_makes_room_and_counts_persistently) {
  test::temp_directory dir;
  {
    sqlite_database db(dir / "state.db");
    outbox_store outbox(db, small_streams());
    // 20 bytes each ("id-N" + 16 payload), bound 100: 5 fit.
    ASSERT_TRUE(outbox.append("telemetry", make_messages(0, 5, 16), t0).appended());
    auto result = outbox.append("telemetry", make_messages(5, 2, 16), t0);
    ASSERT_TRUE(result.appended());
    EXPECT_EQ(result.dropped, 2u);
    auto records = outbox.peek("telemetry", 10, t0);
    ASSERT_EQ(records.size(), 5u);
    EXPECT_EQ(records.front().id, "id-2");
    EXPECT_EQ(records.back().id, "id-6");
  }
  sqlite_database db(dir / "state.db");
  outbox_store outbox(db, small_streams());
  auto stats = outbox.stats("telemetry", t0);
  EXPECT_EQ(stats.dropped, 2u);
  EXPECT_EQ(stats.records, 5u);
  EXPECT_EQ(stats.bytes, 100u);
}

TEST(outbox_store, defer_counts_attempts_and_hides_until_due) {
  test::temp_directory dir;
  sqlite_database db(dir / "state.db");
  outbox_store outbox(db, small_streams());
  outbox.append("alerts", make_messages(0, 3), t0);
  auto records = outbox.peek("alerts", 10, t0);
  std::vector<std::int64_t> first{records[0].seq};
  EXPECT_EQ(outbox.defer("alerts", first, t0 + 30s), 1u);
  EXPECT_EQ(outbox.defer("alerts", first, t0 + 60s), 1u);

  auto due = outbox.peek("alerts", 10, t0 + 10s);
  ASSERT_EQ(due.size(), 2u);
  EXPECT_EQ(due[0].id, "id-1");
  auto later = outbox.peek("alerts", 10, t0 + 60s);
  ASSERT_EQ(later.size(), 3u);
  EXPECT_EQ(later[0].id, "id-0");
  EXPECT_EQ(later[0].attempts, 2u);
  EXPECT_EQ(later[0].next_attempt, t0 + 60s);
}

TEST(outbox_store, dead_letters_leave_the_queue_but_stay_visible) {
  test::temp_directory dir;
  sqlite_database db(dir / "state.db");
  outbox_store outbox(db, small_streams());
  outbox.append("alerts", make_messages(0, 2), t0);
  auto records = outbox.peek("alerts", 10, t0);
  EXPECT_TRUE(outbox.dead_letter("alerts", records[0].seq, "rejected: 400", t0 + 5s));
  EXPECT_FALSE(outbox.dead_letter("alerts", records[0].seq, "again", t0 + 5s));
  EXPECT_FALSE(outbox.dead_letter("logs", records[1].seq, "wrong stream", t0 + 5s));

  auto remaining = outbox.peek("alerts", 10, t0);
  ASSERT_EQ(remaining.size(), 1u);
  EXPECT_EQ(remaining[0].id, "id-1");
  auto letters = outbox.dead_letters("alerts", 10);
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0].record.id, "id-0");
  EXPECT_EQ(letters[0].record.payload, records[0].payload);
  EXPECT_EQ(letters[0].reason, "rejected: 400");
  EXPECT_EQ(letters[0].dead_at, t0 + 5s);

  auto stats = outbox.stats("alerts", t0);
  EXPECT_EQ(stats.records, 1u);
  EXPECT_EQ(stats.bytes, remaining[0].id.size() + remaining[0].payload.size());
  EXPECT_EQ(stats.dead_lettered, 1u);
  EXPECT_EQ(stats.dead_letters, 1u);
}

TEST(outbox_store, append_and_checkpoint_commit_together_or_not_at_all) {
  test::temp_directory dir;
  sqlite_database db(dir / "state.db");
  outbox_store outbox(db, default_outbox_streams());
  checkpoint_store checkpoints(db);
  file_checkpoint checkpoint{.source = "/var/log/app.log",
                             .device = 2049,
                             .inode = 1234,
                             .fingerprint = 0xdeadbeefcafef00dull,
                             .fingerprint_length = 256,
                             .offset = 4096,
                             .line_number = 80,
                             .updated_at = t0};

  EXPECT_THROW(
      {
        sqlite_transaction tx(db);
        ASSERT_TRUE(outbox.append("logs", make_messages(0, 10), t0).appended());
        throw std::runtime_error("crash between the outbox and the checkpoint");
        checkpoints.save(checkpoint);
        tx.commit();
      },
      std::runtime_error);
  EXPECT_TRUE(outbox.peek("logs", 100, t0).empty());
  EXPECT_EQ(outbox.stats("logs", t0).records, 0u);
  EXPECT_EQ(outbox.stats("logs", t0).bytes, 0u);
  EXPECT_FALSE(checkpoints.load(checkpoint.source));

  EXPECT_THROW(
      {
        sqlite_transaction tx(db);
        checkpoints.save(checkpoint);
        outbox.append("logs", make_messages(0, 10), t0);
        throw std::runtime_error("crash before commit");
      },
      std::runtime_error);
  EXPECT_TRUE(outbox.peek("logs", 100, t0).empty());
  EXPECT_FALSE(checkpoints.load(checkpoint.source));

  {
    sqlite_transaction tx(db);
    ASSERT_TRUE(outbox.append("logs", make_messages(0, 10), t0).appended());
    checkpoints.save(checkpoint);
    tx.commit();
  }
  EXPECT_EQ(outbox.peek("logs", 100, t0).size(), 10u);
  EXPECT_EQ(checkpoints.load(checkpoint.source), checkpoint);
}

TEST(outbox_store, a_full_append_inside_a_transaction_leaves_the_rest_of_it_intact) {
  test::temp_directory dir;
  sqlite_database db(dir / "state.db");
  outbox_store outbox(db, small_streams());
  checkpoint_store checkpoints(db);
  {
    sqlite_transaction tx(db);
    ASSERT_TRUE(outbox.append("logs", make_messages(0, 1), t0).appended());
    EXPECT_FALSE(outbox.append("logs", make_messages(1, 50, 100), t0).appended());
    checkpoints.save({.source = "/a", .offset = 10});
    tx.commit();
  }
  EXPECT_EQ(outbox.peek("logs", 100, t0).size(), 1u);
  EXPECT_EQ(outbox.stats("logs", t0).records, 1u);
  EXPECT_EQ(checkpoints.load("/a")->offset, 10u);
}

// A child appends batches and reports each returned append through a pipe; the parent kills it
// with SIGKILL mid-stream. Every reported batch must be there, and no batch partially.
TEST(outbox_store, every_returned_append_survives_kill_9) {
  test::temp_directory dir;
  auto path = dir / "state.db";
  {
    sqlite_database db(path);
    outbox_store outbox(db, default_outbox_streams());
  }
  constexpr int batch = 16;
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(fds[0]);
    sqlite_database db(path, {.synchronous = sqlite_sync::normal});
    outbox_store outbox(db, default_outbox_streams());
    checkpoint_store checkpoints(db);
    for (int b = 0;; ++b) {
      sqlite_transaction tx(db);
      outbox.append("logs", make_messages(b * batch, batch, 200));
      checkpoints.save(
          {.source = "/var/log/app.log", .offset = static_cast<std::uint64_t>((b + 1) * batch)});
      tx.commit();
      int done = b + 1;
      if (write(fds[1], &done, sizeof done) != sizeof done)
        _exit(1);
    }
  }
  close(fds[1]);
  int reported = 0;
  int value = 0;
  while (reported < 200 && read(fds[0], &value, sizeof value) == sizeof value)
    reported = value;
  ASSERT_EQ(kill(child, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status));
  // Drain what the child reported before it died.
  while (read(fds[0], &value, sizeof value) == sizeof value)
    reported = value;
  close(fds[0]);
  ASSERT_GE(reported, 200);

  sqlite_database db(path);
  outbox_store outbox(db, default_outbox_streams());
  checkpoint_store checkpoints(db);
  auto records = outbox.peek("logs", 1'000'000);
  ASSERT_GE(records.size(), static_cast<std::size_t>(reported * batch));
  EXPECT_EQ(records.size() % batch, 0u) << "a batch was partially written";
  for (std::size_t i = 0; i < records.size(); ++i)
    ASSERT_EQ(records[i].id, "id-" + std::to_string(i));
  auto stats = outbox.stats("logs");
  EXPECT_EQ(stats.records, records.size());
  std::uint64_t bytes = 0;
  for (const auto& r : records)
    bytes += r.id.size() + r.payload.size();
  EXPECT_EQ(stats.bytes, bytes);
  // The checkpoint moved exactly with the records.
  EXPECT_EQ(checkpoints.load("/var/log/app.log")->offset, records.size());
}

// A database on a tiny tmpfs: filling it must raise the distinct disk-full error and leave every
// earlier commit readable.
TEST(outbox_store, disk_full_is_a_distinct_error_and_keeps_earlier_data) {
  test::temp_directory dir;
  auto mount_point = dir / "tiny";
  std::filesystem::create_directory(mount_point);
  if (mount("tmpfs", mount_point.c_str(), "tmpfs", 0, "size=512k") != 0)
    GTEST_SKIP() << "cannot mount a tmpfs here: " << std::strerror(errno);
  struct unmount_at_exit {
    std::filesystem::path path;
    ~unmount_at_exit() { umount2(path.c_str(), MNT_DETACH); }
  } unmount_guard{mount_point};

  auto path = mount_point / "state.db";
  std::size_t appended = 0;
  bool full = false;
  {
    sqlite_database db(path);
    std::vector<outbox_stream_config> streams{{"logs", 1ull << 30, outbox_overflow::refuse}};
    outbox_store outbox(db, streams);
    for (int b = 0; b < 10'000 && !full; ++b) {
      try {
        ASSERT_TRUE(outbox.append("logs", make_messages(b * 8, 8, 1000)).appended());
        appended += 8;
      } catch (const sqlite_disk_full_error& e) {
        full = true;
        EXPECT_NE(std::string{e.what()}.find(path.string()), std::string::npos) << e.what();
        EXPECT_NE(std::string{e.what()}.find("full"), std::string::npos) << e.what();
      }
    }
    ASSERT_TRUE(full);
    ASSERT_GT(appended, 0u);
    // The same connection still reads everything committed before the failure.
    EXPECT_EQ(outbox.peek("logs", 1'000'000).size(), appended);
    EXPECT_EQ(outbox.stats("logs").records, appended);
  }
  sqlite_database db(path);
  std::vector<outbox_stream_config> streams{{"logs", 1ull << 30, outbox_overflow::refuse}};
  outbox_store outbox(db, streams);
  auto records = outbox.peek("logs", 1'000'000);
  ASSERT_EQ(records.size(), appended);
  EXPECT_EQ(records.back().id, "id-" + std::to_string(appended - 1));
  EXPECT_EQ(outbox.stats("logs").records, appended);
}

} // namespace
} // namespace vigil
