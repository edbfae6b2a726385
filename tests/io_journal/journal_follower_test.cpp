#include "io/journal/journal_follower.hpp"
#include "tests/support/journal_files.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <poll.h>
#include <set>
#include <stdexcept>
#include <string>
#include <sys/wait.h>
#include <system_error>
#include <unistd.h>
#include <vector>

namespace vigil {
namespace {

using namespace test;

std::vector<journal_entry> read_all(journal_follower& follower) {
  std::vector<journal_entry> out;
  for (int guard = 0; guard < 10000; ++guard) {
    follower.read(out, 1000, 1 << 20);
    if (follower.at_end())
      break;
  }
  return out;
}

std::vector<std::string> messages(const std::vector<journal_entry>& entries) {
  std::vector<std::string> result;
  for (const auto& e : entries)
    result.push_back(e.message);
  return result;
}

std::vector<std::string> expected(int from, int to) {
  std::vector<std::string> result;
  for (int n = from; n < to; ++n)
    result.push_back("entry " + std::to_string(n));
  return result;
}

std::vector<std::string> expected(const std::vector<int>& ns) {
  std::vector<std::string> result;
  for (int n : ns)
    result.push_back("entry " + std::to_string(n));
  return result;
}

journal_options in(const journal_dir& dir, std::vector<std::string> units = {},
                   std::optional<int> max_priority = std::nullopt) {
  journal_options options;
  options.directory = dir.path().string();
  options.units = std::move(units);
  options.max_priority = max_priority;
  return options;
}

bool readable(int fd) {
  pollfd p{.fd = fd, .events = POLLIN, .revents = 0};
  return ::poll(&p, 1, 0) == 1 && (p.revents & POLLIN) != 0;
}

class journal_follower_test : public ::testing::Test {
protected:
  void SetUp() override {
    // Not a skip: scripts/dev installs it, and a silently skipped suite would hide a broken
    // journal reader.
    if (!journal_remote_binary())
      FAIL() << "systemd-journal-remote is missing (/lib/systemd/systemd-journal-remote): the "
                "journal tests need it to write journal files. Install it with `scripts/dev deps`"
                " or `apt-get install systemd-journal-remote`.";
  }

  journal_dir dir;
};

TEST_F(journal_follower_test, reads_all_entries_from_the_beginning_with_their_fields) {
  std::vector<test_entry> written{entry(0, "first"), entry(1, "second"), entry(2, "")};
  written[0].priority = 3;
  written[0].unit = "nginx.service";
  written[0].identifier = "nginx";
  written[0].comm = "nginx-worker";
  written[0].pid = 4242;
  written[1].priority = std::nullopt;
  written[1].comm = "cron";
  written[2].priority = 0;
  dir.write("a.journal", written);
  journal_follower follower(in(dir), std::nullopt, journal_start::beginning);
  EXPECT_FALSE(follower.cursor());
  auto entries = read_all(follower);
  ASSERT_EQ(entries.size(), 3u);

  EXPECT_EQ(entries[0].message, "first");
  EXPECT_EQ(entries[0].priority, 3);
  EXPECT_EQ(entries[0].unit, "nginx.service");
  EXPECT_EQ(entries[0].identifier, "nginx"); // SYSLOG_IDENTIFIER wins over _COMM
  EXPECT_EQ(entries[0].pid, 4242);
  EXPECT_EQ(entries[0].realtime_us, realtime_of(0));

  EXPECT_EQ(entries[1].message, "second");
  EXPECT_EQ(entries[1].priority, 6); // absent
  EXPECT_EQ(entries[1].unit, "");
  EXPECT_EQ(entries[1].identifier, "cron"); // _COMM when there is no SYSLOG_IDENTIFIER
  EXPECT_EQ(entries[1].pid, 0);
  EXPECT_EQ(entries[1].realtime_us, realtime_of(1));

  EXPECT_EQ(entries[2].message, "");
  EXPECT_EQ(entries[2].priority, 0);
  EXPECT_EQ(entries[2].identifier, "");

  std::set<std::string> cursors;
  for (const auto& e : entries)
    cursors.insert(e.cursor);
  EXPECT_EQ(cursors.size(), 3u);
  EXPECT_EQ(cursors.count(""), 0u);
  EXPECT_EQ(follower.cursor(), entries[2].cursor);
  EXPECT_EQ(follower.counters().entries, 3u);
  EXPECT_EQ(follower.counters().bytes, 11u);
  EXPECT_EQ(follower.counters().gaps, 0u);
  EXPECT_TRUE(follower.at_end());

  std::vector<journal_entry> more;
  EXPECT_EQ(follower.read(more, 10, 1 << 20), 0u);
  EXPECT_TRUE(more.empty());
}

TEST_F(journal_follower_test, read_appends_to_the_vector) {
  dir.write("a.journal", numbered(0, 2));
  journal_follower follower(in(dir), std::nullopt, journal_start::beginning);
  std::vector<journal_entry> out(1);
  out[0].message = "kept";
  EXPECT_EQ(follower.read(out, 10, 1 << 20), 2u);
  EXPECT_EQ(messages(out), (std::vector<std::string>{"kept", "entry 0", "entry 1"}));
}

TEST_F(journal_follower_test, entries_appended_after_reaching_the_end_are_read) {
  dir.write("a.journal", numbered(0, 3));
  journal_follower follower(in(dir), std::nullopt, journal_start::beginning);
  EXPECT_EQ(messages(read_all(follower)), expected(0, 3));
  std::vector<journal_entry> none;
  EXPECT_EQ(follower.read(none, 10, 1 << 20), 0u);
  EXPECT_TRUE(follower.at_end());

  dir.write("a.journal", numbered(3, 5)); // appended to the open file
  EXPECT_EQ(messages(read_all(follower)), expected(3, 5));
  dir.write("b.journal", numbered(5, 7)); // a new file in the directory
  EXPECT_EQ(messages(read_all(follower)), expected(5, 7));
  EXPECT_EQ(follower.counters().entries, 7u);
}

TEST_F(journal_follower_test, start_at_end_returns_only_entries_written_after_opening) {
  dir.write("a.journal", numbered(0, 3));
  journal_follower follower(in(dir), std::nullopt, journal_start::end);
  // Positioned after the last old entry, which is already consumed.
  ASSERT_TRUE(follower.cursor());
  std::vector<journal_entry> none;
  EXPECT_EQ(follower.read(none, 10, 1 << 20), 0u);
  EXPECT_TRUE(follower.at_end());

  dir.write("a.journal", numbered(3, 5));
  EXPECT_EQ(messages(read_all(follower)), expected(3, 5));
  dir.write("b.journal", numbered(5, 8));
  EXPECT_EQ(messages(read_all(follower)), expected(5, 8));
}

TEST_F(journal_follower_test, start_at_end_of_an_empty_journal_returns_every_later_entry) {
  // The seek_tail() pitfall: with nothing to stand on, libsystemd 252 returns only the last of
  // the entries that arrive later.
  journal_follower follower(in(dir), std::nullopt, journal_start::end);
  EXPECT_FALSE(follower.cursor());
  std::vector<journal_entry> none;
  EXPECT_EQ(follower.read(none, 10, 1 << 20), 0u);
  dir.write("a.journal", numbered(0, 4));
  EXPECT_EQ(messages(read_all(follower)), expected(0, 4));
}

TEST_F(journal_follower_test, start_at_end_with_filters_stands_on_the_last_matching_entry) {
  auto entries = numbered(0, 4);
  entries[1].unit = "web.service";
  dir.write("a.journal", entries); // the last web entry is 1; 2 and 3 do not match
  journal_follower follower(in(dir, {"web"}), std::nullopt, journal_start::end);
  std::vector<journal_entry> none;
  EXPECT_EQ(follower.read(none, 10, 1 << 20), 0u);
  auto later = numbered(4, 7);
  for (auto& e : later)
    e.unit = "web.service";
  later[1].unit = "db.service";
  dir.write("a.journal", later);
  EXPECT_EQ(messages(read_all(follower)), expected({4, 6}));
}

TEST_F(journal_follower_test, resuming_after_a_cursor_returns_exactly_the_following_entries) {
  dir.write("a.journal", numbered(0, 10));
  std::string cursor;
  {
    journal_follower first(in(dir), std::nullopt, journal_start::beginning);
    std::vector<journal_entry> batch;
    ASSERT_EQ(first.read(batch, 4, 1 << 20), 4u);
    EXPECT_EQ(messages(batch), expected(0, 4));
    ASSERT_TRUE(first.cursor());
    cursor = *first.cursor();
    EXPECT_EQ(cursor, batch.back().cursor);
  }
  journal_follower resumed(in(dir), cursor, journal_start::beginning);
  EXPECT_EQ(resumed.cursor(), cursor);
  auto rest = read_all(resumed);
  EXPECT_EQ(messages(rest), expected(4, 10));
  EXPECT_EQ(resumed.counters().gaps, 0u);

  // From the very last entry: nothing, then only what is written later. `start` is ignored.
  journal_follower at_last(in(dir), rest.back().cursor, journal_start::beginning);
  std::vector<journal_entry> none;
  EXPECT_EQ(at_last.read(none, 10, 1 << 20), 0u);
  dir.write("a.journal", numbered(10, 12));
  EXPECT_EQ(messages(read_all(at_last)), expected(10, 12));
  EXPECT_EQ(at_last.counters().gaps, 0u);
}

TEST_F(journal_follower_test, resuming_at_an_entry_the_new_filters_exclude_is_no_gap) {
  auto entries = numbered(0, 6);
  for (auto& e : entries)
    e.unit = e.n % 2 ? "odd.service" : "even.service";
  dir.write("a.journal", entries);
  std::string cursor;
  {
    journal_follower first(in(dir), std::nullopt, journal_start::beginning);
    std::vector<journal_entry> batch;
    ASSERT_EQ(first.read(batch, 3, 1 << 20), 3u); // entry 2 is "even"
    cursor = batch.back().cursor;
  }
  journal_follower odd(in(dir, {"odd"}), cursor, journal_start::beginning);
  EXPECT_EQ(messages(read_all(odd)), expected({3, 5}));
  EXPECT_EQ(odd.counters().gaps, 0u);
  journal_follower even(in(dir, {"even"}), cursor, journal_start::beginning);
  EXPECT_EQ(messages(read_all(even)), expected({4})); // 2 itself is not repeated
}

TEST_F(journal_follower_test, a_vacuumed_cursor_starts_at_the_oldest_entry_and_counts_a_gap) {
  dir.write("a.journal", numbered(0, 5));
  dir.write("b.journal", numbered(5, 10));
  std::string cursor;
  {
    journal_follower first(in(dir), std::nullopt, journal_start::beginning);
    std::vector<journal_entry> batch;
    ASSERT_EQ(first.read(batch, 3, 1 << 20), 3u);
    cursor = batch.back().cursor; // entry 2, in a.journal
  }
  fs::remove(dir / "a.journal"); // vacuumed
  journal_follower follower(in(dir), cursor, journal_start::end);
  EXPECT_EQ(follower.counters().gaps, 1u);
  EXPECT_FALSE(follower.cursor());
  EXPECT_EQ(messages(read_all(follower)), expected(5, 10));
}

TEST_F(journal_follower_test, an_unknown_cursor_starts_at_the_oldest_entry_and_counts_a_gap) {
  dir.write("a.journal", numbered(0, 10));
  // A well-formed cursor of another journal, timed like entry 5: seeking to it alone would
  // land on entry 5 by timestamp and silently skip 0..4.
  char foreign[256];
  std::snprintf(foreign, sizeof foreign, "s=%s;i=5;b=%s;m=%llx;t=%llx;x=1234",
                "fedcba9876543210fedcba9876543210", "fedcba9876543210fedcba9876543210",
                5'000'000ull, static_cast<unsigned long long>(realtime_of(5)));
  journal_follower follower(in(dir), std::string(foreign), journal_start::end);
  EXPECT_EQ(follower.counters().gaps, 1u);
  EXPECT_EQ(messages(read_all(follower)), expected(0, 10));

  journal_follower garbage(in(dir), std::string("not a cursor"), journal_start::end);
  EXPECT_EQ(garbage.counters().gaps, 1u);
  EXPECT_EQ(messages(read_all(garbage)), expected(0, 10));
}

TEST_F(journal_follower_test, follows_files_rotated_and_vacuumed_while_open) {
  dir.write("system.journal", numbered(0, 5));
  journal_follower follower(in(dir), std::nullopt, journal_start::beginning);
  std::vector<journal_entry> seen;
  ASSERT_EQ(follower.read(seen, 3, 1 << 20), 3u);

  // Rotation as journald does it: the active file is renamed to an archive name and a new
  // active file is created.
  fs::rename(dir / "system.journal", dir / "system@0123-0001.journal");
  dir.write("system.journal", numbered(5, 8));
  follower.read(seen, 1000, 1 << 20);
  EXPECT_EQ(messages(seen), expected(0, 8));

  // Vacuum: the archive is deleted; another rotation follows.
  fs::remove(dir / "system@0123-0001.journal");
  fs::rename(dir / "system.journal", dir / "system@0123-0002.journal");
  dir.write("system.journal", numbered(8, 10));
  follower.read(seen, 1000, 1 << 20);
  EXPECT_EQ(messages(seen), expected(0, 10));
  EXPECT_TRUE(follower.at_end());
  EXPECT_EQ(follower.counters().entries, 10u);
  EXPECT_EQ(follower.counters().gaps, 0u);
}

TEST_F(journal_follower_test, wait_fd_becomes_readable_and_process_reports_changes) {
  dir.write("a.journal", numbered(0, 2));
  journal_follower follower(in(dir), std::nullopt, journal_start::end);
  ASSERT_GE(follower.wait_fd(), 0);
  follower.process();
  EXPECT_FALSE(readable(follower.wait_fd()));
  EXPECT_FALSE(follower.process());

  dir.write("b.journal", numbered(2, 3));
  EXPECT_TRUE(readable(follower.wait_fd()));
  EXPECT_TRUE(follower.process());
  EXPECT_FALSE(readable(follower.wait_fd()));
  EXPECT_FALSE(follower.process());
  EXPECT_EQ(messages(read_all(follower)), expected(2, 3));

  dir.write("b.journal", numbered(3, 4)); // appended to a file already open
  EXPECT_TRUE(readable(follower.wait_fd()));
  EXPECT_TRUE(follower.process());
  EXPECT_EQ(messages(read_all(follower)), expected(3, 4));
}

std::vector<test_entry> mixed_entries() {
  // n: unit by n % 3 (web, db, none), priority n % 8; entry 12 has no PRIORITY.
  std::vector<test_entry> entries = numbered(0, 13);
  for (auto& e : entries) {
    e.unit = e.n % 3 == 0 ? "web.service" : e.n % 3 == 1 ? "db.service" : "";
    e.priority = e.n % 8;
  }
  entries[12].priority = std::nullopt;
  entries[11].unit = "backup.timer";
  return entries;
}

TEST_F(journal_follower_test, unit_filter_matches_listed_units_only) {
  dir.write("a.journal", mixed_entries());
  // "web" gets ".service"; names with a unit suffix are kept.
  journal_follower follower(in(dir, {"web", "backup.timer"}), std::nullopt,
                            journal_start::beginning);
  auto entries = read_all(follower);
  EXPECT_EQ(messages(entries), expected({0, 3, 6, 9, 11, 12}));
  for (const auto& e : entries)
    EXPECT_TRUE(e.unit == "web.service" || e.unit == "backup.timer") << e.unit;

  journal_follower db(in(dir, {"db.service"}), std::nullopt, journal_start::beginning);
  EXPECT_EQ(messages(read_all(db)), expected({1, 4, 7, 10}));
}

TEST_F(journal_follower_test, priority_filter_keeps_priorities_up_to_the_maximum) {
  dir.write("a.journal", mixed_entries());
  journal_follower follower(in(dir, {}, 3), std::nullopt, journal_start::beginning);
  auto entries = read_all(follower);
  EXPECT_EQ(messages(entries), expected({0, 1, 2, 3, 8, 9, 10, 11}));
  for (const auto& e : entries)
    EXPECT_LE(e.priority, 3);

  journal_follower emerg(in(dir, {}, 0), std::nullopt, journal_start::beginning);
  EXPECT_EQ(messages(read_all(emerg)), expected({0, 8}));
  // 7 filters nothing: also the entry without PRIORITY.
  journal_follower all(in(dir, {}, 7), std::nullopt, journal_start::beginning);
  EXPECT_EQ(messages(read_all(all)), expected(0, 13));
}

TEST_F(journal_follower_test, unit_and_priority_filters_combine) {
  dir.write("a.journal", mixed_entries());
  // web: 0 3 6 9 12; db: 1 4 7 10. Priority <= 3: 0 1 2 3 8 9 10 11.
  journal_follower follower(in(dir, {"web", "db"}, 3), std::nullopt, journal_start::beginning);
  EXPECT_EQ(messages(read_all(follower)), expected({0, 1, 3, 9, 10}));
}

TEST_F(journal_follower_test, read_stops_at_max_entries) {
  dir.write("a.journal", numbered(0, 10));
  journal_follower follower(in(dir), std::nullopt, journal_start::beginning);
  std::vector<journal_entry> out;
  EXPECT_EQ(follower.read(out, 4, 1 << 20), 4u);
  EXPECT_FALSE(follower.at_end());
  EXPECT_EQ(follower.read(out, 4, 1 << 20), 4u);
  EXPECT_FALSE(follower.at_end());
  EXPECT_EQ(follower.read(out, 4, 1 << 20), 2u);
  EXPECT_TRUE(follower.at_end());
  EXPECT_EQ(messages(out), expected(0, 10));
}

TEST_F(journal_follower_test, read_stops_once_max_bytes_of_messages_were_read) {
  std::vector<test_entry> entries;
  for (int n = 0; n < 8; ++n)
    entries.push_back(entry(n, std::string(100, static_cast<char>('a' + n))));
  dir.write("a.journal", entries);
  journal_follower follower(in(dir), std::nullopt, journal_start::beginning);
  std::vector<journal_entry> out;
  EXPECT_EQ(follower.read(out, 100, 250), 3u); // 100, 200 < 250, 300 reaches it
  EXPECT_FALSE(follower.at_end());
  EXPECT_EQ(follower.read(out, 100, 300), 3u);
  // A limit below one message (even 0) still returns one entry: a big message cannot stall
  // reading.
  EXPECT_EQ(follower.read(out, 100, 1), 1u);
  EXPECT_EQ(follower.read(out, 100, 0), 1u);
  ASSERT_EQ(out.size(), 8u);
  for (int n = 0; n < 8; ++n)
    EXPECT_EQ(out[n].message, entries[n].message);
  EXPECT_EQ(follower.counters().bytes, 800u);
}

TEST_F(journal_follower_test, long_messages_are_cut_with_a_marker) {
  std::string long_message;
  for (int i = 0; long_message.size() < 5000; ++i)
    long_message += "word" + std::to_string(i) + " "; // > 512 bytes: stored compressed
  long_message.resize(5000);
  dir.write("a.journal", {entry(0, long_message), entry(1, std::string(200, 'x')),
                          entry(2, std::string(201, 'y'))});
  journal_follower follower(in(dir), std::nullopt, journal_start::beginning, 200);
  auto entries = read_all(follower);
  ASSERT_EQ(entries.size(), 3u);
  const std::string marker = " [truncated 4823 bytes]"; // 200 - 23 = 177 kept of 5000
  EXPECT_EQ(entries[0].message, long_message.substr(0, 200 - marker.size()) + marker);
  EXPECT_EQ(entries[0].message.size(), 200u);
  EXPECT_EQ(entries[1].message, std::string(200, 'x')); // exactly at the limit: whole
  EXPECT_EQ(entries[2].message, std::string(179, 'y') + " [truncated 22 bytes]");
  EXPECT_EQ(follower.counters().truncated_messages, 2u);
  EXPECT_EQ(follower.counters().bytes, 600u);
}

TEST_F(journal_follower_test, binary_message_bytes_are_kept) {
  std::string binary("a\0b\nc\r\xff\xfe\x01 \x80 end\n", 16);
  std::string big_binary;
  for (int i = 0; i < 3000; ++i)
    big_binary += static_cast<char>(i * 7 % 256);
  dir.write("a.journal", {entry(0, binary), entry(1, big_binary)});
  journal_follower follower(in(dir), std::nullopt, journal_start::beginning);
  auto entries = read_all(follower);
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].message, binary);
  EXPECT_EQ(entries[0].message.size(), 16u);
  EXPECT_EQ(entries[1].message, big_binary);
}

TEST_F(journal_follower_test, an_unopenable_journal_or_bad_options_throw) {
  auto missing = (dir / "no-such-dir").string();
  try {
    journal_options options;
    options.directory = missing;
    journal_follower follower(options, std::nullopt, journal_start::beginning);
    FAIL() << "opened a missing directory";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), ENOENT);
    EXPECT_NE(std::string(e.what()).find(missing), std::string::npos) << e.what();
  }
  EXPECT_THROW(journal_follower(in(dir, {}, 8), std::nullopt, journal_start::beginning),
               std::invalid_argument);
  EXPECT_THROW(journal_follower(in(dir, {""}), std::nullopt, journal_start::beginning),
               std::invalid_argument);
  EXPECT_THROW(journal_follower(in(dir), std::nullopt, journal_start::beginning, 10),
               std::invalid_argument);
}

// Outcome of opening `directory` without read permission on its files: "EACCES" when the follower
// refused with that error naming the directory, else what happened instead.
std::string open_unreadable(const std::string& directory) {
  try {
    journal_options options;
    options.directory = directory;
    journal_follower follower(options, std::nullopt, journal_start::beginning);
    return "opened";
  } catch (const std::system_error& e) {
    if (e.code().value() == EACCES && std::string(e.what()).find(directory) != std::string::npos)
      return "EACCES";
    return e.what();
  }
}

TEST_F(journal_follower_test, a_journal_without_any_readable_file_is_refused) {
  // Laid out like /var/log/journal: the files sit in a directory named by the machine id.
  const std::string machine = "00112233445566778899aabbccddeeff";
  fs::create_directory(dir / machine);
  const auto file = dir / machine / "system.journal";
  dir.write(machine + "/system.journal", numbered(0, 2));
  // sd-journal itself opens such a directory and then reads nothing, forever.
  fs::permissions(file, fs::perms::none);
  if (::geteuid() != 0) {
    EXPECT_EQ(open_unreadable(dir.path().string()), "EACCES");
    return;
  }
  // Root reads any file: try as nobody in a child process (the directories must be searchable).
  auto searchable = fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                    fs::perms::others_read | fs::perms::others_exec;
  fs::permissions(dir.path().parent_path(), searchable);
  fs::permissions(dir.path(), searchable);
  fs::permissions(dir / machine, searchable);
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(pipe_fds[0]);
    std::string outcome = ::setgid(65534) == 0 && ::setuid(65534) == 0
                              ? open_unreadable(dir.path().string())
                              : "cannot become nobody";
    auto written = ::write(pipe_fds[1], outcome.data(), outcome.size());
    ::_exit(written == static_cast<ssize_t>(outcome.size()) ? 0 : 1);
  }
  ::close(pipe_fds[1]);
  std::string outcome;
  char buffer[512];
  for (ssize_t n; (n = ::read(pipe_fds[0], buffer, sizeof buffer)) > 0;)
    outcome.append(buffer, static_cast<std::size_t>(n));
  ::close(pipe_fds[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_EQ(outcome, "EACCES");
  // Readable again: the same directory opens and its entries are read.
  fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write);
  journal_follower follower(in(dir), std::nullopt, journal_start::beginning);
  EXPECT_EQ(messages(read_all(follower)), expected(0, 2));
}

TEST_F(journal_follower_test, a_moved_follower_keeps_its_position) {
  dir.write("a.journal", numbered(0, 4));
  journal_follower first(in(dir), std::nullopt, journal_start::beginning);
  std::vector<journal_entry> out;
  ASSERT_EQ(first.read(out, 2, 1 << 20), 2u);
  journal_follower second(std::move(first));
  second.read(out, 10, 1 << 20);
  EXPECT_EQ(messages(out), expected(0, 4));
}

} // namespace
} // namespace vigil
