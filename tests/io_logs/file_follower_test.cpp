#include "io/logs/file_follower.hpp"
#include "tests/support/temp_directory.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace vigil {
namespace {

namespace fs = std::filesystem;
using test::append_file;
using test::rewrite_file;

struct read_result {
  std::vector<std::string> lines;
  std::vector<line_batch> batches;
};

// Reads until the follower has nothing more right now.
read_result read_available(file_follower& follower, std::size_t max_bytes = 1 << 16) {
  read_result result;
  for (int guard = 0; guard < 100000; ++guard) {
    line_batch batch;
    follower.read(batch, max_bytes);
    for (const auto& line : batch.lines)
      result.lines.emplace_back(batch.line_text(line));
    bool done = batch.empty() && follower.at_eof();
    result.batches.push_back(std::move(batch));
    if (done)
      break;
  }
  return result;
}

std::string numbered_lines(const std::string& prefix, int from, int to) {
  std::string text;
  for (int i = from; i < to; ++i)
    text += prefix + " line " + std::to_string(i) + "\n";
  return text;
}

std::vector<std::string> expected_lines(const std::string& prefix, int from, int to) {
  std::vector<std::string> lines;
  for (int i = from; i < to; ++i)
    lines.push_back(prefix + " line " + std::to_string(i));
  return lines;
}

std::vector<std::string> concat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

bool has_event(const std::vector<follower_event>& events, follower_event_kind kind) {
  return std::any_of(events.begin(), events.end(), [&](auto& e) { return e.kind == kind; });
}

class file_follower_test : public ::testing::Test {
protected:
  test::temp_directory dir;
  fs::path log = dir / "app.log";
};

TEST_F(file_follower_test, splits_complete_lines_with_offsets_and_numbers) {
  append_file(log, "a\nbb\r\n\nccc\n");
  file_follower follower(log, start_position::beginning);
  line_batch batch;
  follower.read(batch, 4096);
  ASSERT_EQ(batch.lines.size(), 4u);
  EXPECT_EQ(batch.line_text(batch.lines[0]), "a");
  EXPECT_EQ(batch.line_text(batch.lines[1]), "bb");
  EXPECT_EQ(batch.line_text(batch.lines[2]), "");
  EXPECT_EQ(batch.line_text(batch.lines[3]), "ccc");
  EXPECT_EQ(batch.lines[1].offset, 2u);
  EXPECT_EQ(batch.lines[3].offset, 7u);
  EXPECT_EQ(batch.lines[3].number, 4u);
  EXPECT_EQ(batch.begin_offset, 0u);
  EXPECT_EQ(batch.end_offset, 11u);
  EXPECT_EQ(batch.next_line, 5u);
  EXPECT_EQ(batch.checkpoint(), follower.position());
  EXPECT_EQ(follower.state(), follow_state::following);
}

TEST_F(file_follower_test, a_partial_line_waits_for_its_newline) {
  append_file(log, "first\nsec");
  file_follower follower(log, start_position::beginning);
  EXPECT_EQ(read_available(follower).lines, std::vector<std::string>{"first"});
  EXPECT_EQ(follower.position().offset, 6u);
  append_file(log, "ond");
  EXPECT_TRUE(read_available(follower).lines.empty());
  append_file(log, "\nthird\n");
  EXPECT_EQ(read_available(follower).lines, (std::vector<std::string>{"second", "third"}));
  EXPECT_EQ(follower.position().offset, 19u);
  EXPECT_EQ(follower.position().next_line, 4u);
}

TEST_F(file_follower_test, small_reads_return_the_same_lines) {
  append_file(log, numbered_lines("x", 0, 200));
  file_follower follower(log, start_position::beginning);
  EXPECT_EQ(read_available(follower, 7).lines, expected_lines("x", 0, 200));
}

TEST_F(file_follower_test, start_at_end_skips_existing_complete_lines) {
  append_file(log, "old 1\nold 2\nhalf");
  file_follower follower(log, start_position::end);
  EXPECT_EQ(follower.position().offset, 12u);
  EXPECT_TRUE(read_available(follower).lines.empty());
  append_file(log, " written\nnew\n");
  auto result = read_available(follower);
  EXPECT_EQ(result.lines, (std::vector<std::string>{"half written", "new"}));
  EXPECT_EQ(result.batches[0].lines[0].number, 3u);
}

TEST_F(file_follower_test, a_missing_file_is_read_from_zero_when_it_appears) {
  file_follower follower(log, start_position::end);
  EXPECT_EQ(follower.state(), follow_state::waiting);
  EXPECT_TRUE(read_available(follower).lines.empty());
  append_file(log, "born\n");
  EXPECT_EQ(read_available(follower).lines, std::vector<std::string>{"born"});
  EXPECT_EQ(follower.state(), follow_state::following);
}

TEST_F(file_follower_test, rename_and_create_drains_the_old_file_first) {
  append_file(log, numbered_lines("old", 0, 50));
  file_follower follower(log, start_position::beginning);
  line_batch batch;
  follower.read(batch, 100); // read a little, leave the rest unread
  std::vector<std::string> seen;
  for (const auto& line : batch.lines)
    seen.emplace_back(batch.line_text(line));
  auto old_identity = batch.identity;

  append_file(log, numbered_lines("old", 50, 60) + "old unterminated");
  fs::rename(log, dir / "app.log.1");
  append_file(log, numbered_lines("new", 0, 20));

  auto result = read_available(follower, 256);
  seen.insert(seen.end(), result.lines.begin(), result.lines.end());
  auto expected = concat(expected_lines("old", 0, 60), {"old unterminated"});
  expected = concat(expected, expected_lines("new", 0, 20));
  EXPECT_EQ(seen, expected); // every line once, in order
  EXPECT_EQ(follower.counters().rotations, 1u);
  EXPECT_EQ(follower.state(), follow_state::following);
  EXPECT_NE(follower.position().identity, old_identity);
  EXPECT_TRUE(has_event(follower.take_events(), follower_event_kind::rotated));
  // Batches never mix files: each batch's lines belong to its identity.
  for (const auto& b : result.batches)
    for (const auto& line : b.lines) {
      bool is_new = b.line_text(line).rfind("new", 0) == 0;
      EXPECT_EQ(is_new, b.identity.inode != old_identity.inode);
    }
}

TEST_F(file_follower_test, rename_waits_for_the_new_file_to_get_data) {
  append_file(log, "one\n");
  file_follower follower(log, start_position::beginning);
  EXPECT_EQ(read_available(follower).lines, std::vector<std::string>{"one"});
  fs::rename(log, dir / "app.log.1");
  append_file(log, "");
  // The writer still has the old file open and appends a last line there.
  append_file(dir / "app.log.1", "late\n");
  EXPECT_EQ(read_available(follower).lines, std::vector<std::string>{"late"});
  EXPECT_EQ(follower.state(), follow_state::draining);
  append_file(log, "fresh\n");
  EXPECT_EQ(read_available(follower).lines, std::vector<std::string>{"fresh"});
  EXPECT_EQ(follower.counters().rotations, 1u);
  EXPECT_EQ(follower.position().offset, 6u);
}

TEST_F(file_follower_test, copytruncate_restarts_at_zero) {
  append_file(log, numbered_lines("before", 0, 10));
  file_follower follower(log, start_position::beginning);
  EXPECT_EQ(read_available(follower).lines.size(), 10u);
  auto identity = follower.position().identity;
  fs::copy_file(log, dir / "app.log.1");
  fs::resize_file(log, 0);
  append_file(log, "after 1\n");
  EXPECT_EQ(read_available(follower).lines, std::vector<std::string>{"after 1"});
  EXPECT_EQ(follower.counters().truncations, 1u);
  EXPECT_EQ(follower.counters().gaps, 0u); // everything before the truncation had been read
  EXPECT_EQ(follower.position().identity.inode, identity.inode);
  EXPECT_EQ(follower.position().next_line, 2u);
  EXPECT_TRUE(has_event(follower.take_events(), follower_event_kind::truncated));
}

TEST_F(file_follower_test, copytruncate_with_unread_data_counts_the_loss) {
  append_file(log, numbered_lines("before", 0, 10)); // 14 bytes per line
  file_follower follower(log, start_position::beginning);
  line_batch batch;
  follower.read(batch, 30); // two lines read, 112 bytes unread
  ASSERT_EQ(batch.lines.size(), 2u);
  fs::resize_file(log, 0);
  append_file(log, "x\n");
  EXPECT_EQ(read_available(follower).lines, std::vector<std::string>{"x"});
  EXPECT_EQ(follower.counters().truncations, 1u);
  EXPECT_EQ(follower.counters().gaps, 1u);
  EXPECT_EQ(follower.counters().lost_bytes, 140u - 28u);
  EXPECT_TRUE(has_event(follower.take_events(), follower_event_kind::gap));
}

TEST_F(file_follower_test, delete_and_recreate) {
  append_file(log, "a\n");
  file_follower follower(log, start_position::beginning);
  EXPECT_EQ(read_available(follower).lines, std::vector<std::string>{"a"});
  append_file(log, "b\nc");
  fs::remove(log);
  // The open descriptor is drained, the unterminated last line included.
  EXPECT_EQ(read_available(follower).lines, (std::vector<std::string>{"b", "c"}));
  EXPECT_EQ(follower.state(), follow_state::gone);
  EXPECT_TRUE(has_event(follower.take_events(), follower_event_kind::gone));
  EXPECT_TRUE(read_available(follower).lines.empty());
  append_file(log, "reborn\n");
  auto result = read_available(follower);
  EXPECT_EQ(result.lines, std::vector<std::string>{"reborn"});
  EXPECT_EQ(result.batches[0].lines[0].offset, 0u);
  EXPECT_EQ(follower.state(), follow_state::following);
  EXPECT_EQ(follower.counters().rotations, 1u);
}

TEST_F(file_follower_test, rewritten_in_place_is_a_new_file_by_fingerprint) {
  append_file(log, "first generation\n");
  file_follower follower(log, start_position::beginning);
  EXPECT_EQ(read_available(follower).lines.size(), 1u);
  // Same inode, longer content with other first bytes: size alone cannot tell.
  rewrite_file(log, "SECOND generation, longer\nmore\n");
  EXPECT_EQ(read_available(follower).lines,
            (std::vector<std::string>{"SECOND generation, longer", "more"}));
  EXPECT_EQ(follower.counters().replacements, 1u);
  EXPECT_TRUE(has_event(follower.take_events(), follower_event_kind::replaced));
}

TEST_F(file_follower_test, a_short_file_fingerprint_grows_to_the_configured_size) {
  follower_options options;
  options.fingerprint_bytes = 16;
  append_file(log, "ab\n");
  file_follower follower(log, start_position::beginning, options);
  read_available(follower);
  auto short_checkpoint = follower.position();
  EXPECT_EQ(short_checkpoint.identity.fingerprint_bytes, 3u);
  append_file(log, "cdefgh\n");
  read_available(follower);
  EXPECT_EQ(follower.position().identity.fingerprint_bytes, 10u);
  append_file(log, "0123456789\nlast\n");
  read_available(follower);
  EXPECT_EQ(follower.position().identity.fingerprint_bytes, 16u);
  EXPECT_NE(follower.position().identity.fingerprint, short_checkpoint.identity.fingerprint);
  // A checkpoint taken while the file was short still resumes the grown file.
  file_follower resumed(log, short_checkpoint, options);
  EXPECT_EQ(resumed.counters().gaps, 0u);
  EXPECT_EQ(read_available(resumed).lines,
            (std::vector<std::string>{"cdefgh", "0123456789", "last"}));
}

TEST_F(file_follower_test, empty_file_then_growth) {
  append_file(log, "");
  file_follower follower(log, start_position::beginning);
  EXPECT_EQ(follower.position().identity.fingerprint_bytes, 0u);
  EXPECT_TRUE(read_available(follower).lines.empty());
  append_file(log, "x\n");
  EXPECT_EQ(read_available(follower).lines, std::vector<std::string>{"x"});
  EXPECT_EQ(follower.position().identity.fingerprint_bytes, 2u);
}

TEST_F(file_follower_test, long_lines_are_truncated_with_a_marker) {
  follower_options options;
  options.max_line_bytes = 100;
  std::string huge(1000, 'x');
  append_file(log, huge + "\nshort\n" + std::string(150, 'y') + "\n");
  for (std::size_t max_bytes : {64u, 4096u}) { // line longer than the read / inside the read
    file_follower follower(log, start_position::beginning, options);
    auto result = read_available(follower, max_bytes);
    ASSERT_EQ(result.lines.size(), 3u) << max_bytes;
    const auto& first = result.lines[0];
    EXPECT_EQ(first.size(), 100u);
    std::size_t kept = first.find(' ');
    std::string marker = " [truncated " + std::to_string(1000 - kept) + " bytes]";
    EXPECT_EQ(first, std::string(kept, 'x') + marker);
    EXPECT_EQ(result.lines[1], "short");
    EXPECT_EQ(result.lines[2].substr(0, 10), std::string(10, 'y'));
    EXPECT_EQ(follower.counters().truncated_lines, 2u);
    EXPECT_EQ(follower.position().offset, 1000u + 1 + 6 + 151);
    EXPECT_EQ(follower.position().next_line, 4u);
    for (const auto& batch : result.batches) {
      EXPECT_LE(batch.text.size(), std::max<std::size_t>(max_bytes, 4096) + 100) << max_bytes;
      for (const auto& line : batch.lines) {
        if (line.offset == 0) {
          EXPECT_EQ(line.dropped_bytes, 1000 - kept);
        }
      }
    }
  }
}

TEST_F(file_follower_test, a_line_longer_than_the_read_but_under_the_limit_is_whole) {
  std::string line(3000, 'z');
  append_file(log, line + "\nnext\n");
  file_follower follower(log, start_position::beginning);
  EXPECT_EQ(read_available(follower, 100).lines, (std::vector<std::string>{line, "next"}));
  EXPECT_EQ(follower.counters().truncated_lines, 0u);
}

TEST_F(file_follower_test, an_unfinished_long_line_waits_and_is_not_rescanned_into_memory) {
  follower_options options;
  options.max_line_bytes = 100;
  append_file(log, std::string(500, 'q'));
  file_follower follower(log, start_position::beginning, options);
  EXPECT_TRUE(read_available(follower, 64).lines.empty());
  append_file(log, std::string(500, 'q'));
  EXPECT_TRUE(read_available(follower, 64).lines.empty());
  EXPECT_EQ(follower.position().offset, 0u);
  append_file(log, "\nafter\n");
  auto result = read_available(follower, 64);
  ASSERT_EQ(result.lines.size(), 2u);
  EXPECT_NE(result.lines[0].find("[truncated"), std::string::npos);
  EXPECT_EQ(result.lines[1], "after");
  EXPECT_EQ(follower.position().offset, 1007u);
}

TEST_F(file_follower_test, restore_finds_the_rotated_file_among_siblings) {
  append_file(log, numbered_lines("old", 0, 5));
  follower_checkpoint saved;
  {
    file_follower follower(log, start_position::beginning);
    line_batch batch;
    follower.read(batch, 30); // "old line 0", "old line 1" handled
    ASSERT_EQ(batch.lines.size(), 2u);
    saved = batch.checkpoint();
  } // agent stopped
  append_file(log, numbered_lines("old", 5, 8));
  fs::rename(log, dir / "app.log.1");
  append_file(dir / "unrelated.log", "noise\n");
  append_file(log, numbered_lines("new", 0, 3));

  file_follower follower(log, saved);
  auto events = follower.take_events();
  ASSERT_TRUE(has_event(events, follower_event_kind::resumed_rotated));
  EXPECT_NE(events.front().detail.find("app.log.1"), std::string::npos);
  EXPECT_EQ(follower.state(), follow_state::draining);
  auto result = read_available(follower);
  EXPECT_EQ(result.lines, concat(expected_lines("old", 2, 8), expected_lines("new", 0, 3)));
  EXPECT_EQ(result.batches.front().lines.front().number, 3u);
  EXPECT_EQ(follower.counters().gaps, 0u);
  EXPECT_EQ(follower.counters().rotations, 1u);
}

TEST_F(file_follower_test, restore_on_the_same_file_continues_at_the_offset) {
  append_file(log, numbered_lines("l", 0, 4));
  follower_checkpoint saved;
  {
    file_follower follower(log, start_position::beginning);
    line_batch batch;
    follower.read(batch, 20);
    saved = batch.checkpoint();
  }
  append_file(log, numbered_lines("l", 4, 6));
  file_follower follower(log, saved);
  EXPECT_EQ(follower.state(), follow_state::following);
  EXPECT_EQ(read_available(follower).lines, expected_lines("l", 2, 6));
}

TEST_F(file_follower_test, restore_counts_a_gap_when_the_file_is_nowhere) {
  append_file(log, numbered_lines("old", 0, 5));
  follower_checkpoint saved;
  {
    file_follower follower(log, start_position::beginning);
    line_batch batch;
    follower.read(batch, 30);
    saved = batch.checkpoint();
  }
  fs::remove(log);
  append_file(log, numbered_lines("new", 0, 2));
  file_follower follower(log, saved);
  EXPECT_EQ(follower.counters().gaps, 1u);
  EXPECT_TRUE(has_event(follower.take_events(), follower_event_kind::gap));
  EXPECT_EQ(read_available(follower).lines, expected_lines("new", 0, 2));
}

TEST_F(file_follower_test, restore_detects_inode_reuse_by_fingerprint) {
  append_file(log, numbered_lines("gen1", 0, 3));
  follower_checkpoint saved;
  {
    file_follower follower(log, start_position::beginning);
    read_available(follower);
    saved = follower.position();
  }
  // Same device and inode, different content (what inode reuse looks like).
  rewrite_file(log, numbered_lines("gen2", 0, 6));
  file_follower follower(log, saved);
  EXPECT_EQ(follower.counters().gaps, 1u);
  EXPECT_EQ(read_available(follower).lines, expected_lines("gen2", 0, 6));
}

TEST_F(file_follower_test, a_deleted_file_is_drained_then_gone) {
  append_file(log, "kept\n");
  file_follower follower(log, start_position::end);
  append_file(log, "written before delete\n");
  fs::remove(log);
  EXPECT_EQ(read_available(follower).lines, std::vector<std::string>{"written before delete"});
  EXPECT_EQ(follower.state(), follow_state::gone);
  auto events = follower.take_events();
  EXPECT_TRUE(has_event(events, follower_event_kind::gone));
  EXPECT_TRUE(follower.take_events().empty()); // reported once
  read_available(follower);
  EXPECT_TRUE(follower.take_events().empty());
}

TEST_F(file_follower_test, moved_follower_keeps_reading) {
  append_file(log, "a\nb\n");
  file_follower first(log, start_position::beginning);
  line_batch batch;
  first.read(batch, 2);
  file_follower second(std::move(first));
  EXPECT_EQ(read_available(second).lines, std::vector<std::string>{"b"});
}

TEST_F(file_follower_test, bad_input_is_reported) {
  EXPECT_THROW(file_follower(dir.path(), start_position::beginning), std::invalid_argument);
  follower_options options;
  options.max_line_bytes = 10;
  EXPECT_THROW(file_follower(log, start_position::beginning, options), std::invalid_argument);
}

} // namespace
} // namespace vigil
