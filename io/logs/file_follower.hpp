#pragma once

#include "io/logs/log_line.hpp"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace vigil {

enum class start_position {
  beginning, // read the file from byte 0
  end,       // skip what the file holds at first sight (from its last complete line)
};

struct follower_options {
  std::size_t fingerprint_bytes = 1024;
  std::size_t max_line_bytes = 64 * 1024; // longer lines are cut, ending in " [truncated N bytes]"
};

enum class follow_state {
  waiting,   // no file at the path yet; it is read from byte 0 when it appears
  following, // reading the file the path names
  draining,  // the open file was renamed/deleted/replaced: reading it to its end first
  gone,      // the path names no file and the open file is drained (its fd is still held)
};

enum class follower_event_kind {
  opened,          // started on a file (detail: where)
  resumed_rotated, // checkpointed file found under another name in the directory
  rotated,         // switched from the drained old file to the new one at the path
  truncated,       // same file got shorter than the read offset (copytruncate): from 0
  replaced,        // same inode but different first bytes (inode reuse, rewrite): from 0
  gap,             // bytes that will never be read (checkpointed file vanished, truncation)
  gone,            // the path names no file any more and the old file is drained
};

struct follower_event {
  follower_event_kind kind;
  std::string path;
  std::string detail;
};

struct follower_counters {
  std::uint64_t rotations = 0;
  std::uint64_t truncations = 0;
  std::uint64_t replacements = 0;
  std::uint64_t gaps = 0;       // events where data was lost for good
  std::uint64_t lost_bytes = 0; // known part of those losses (unknown when a file vanished)
  std::uint64_t truncated_lines = 0;
  std::uint64_t lines = 0;
  std::uint64_t bytes = 0;
};

// Follows the file at one path across rotations and yields complete lines. Synchronous: each
// call does a few stat/pread calls and returns; the owner decides when to call again (after an
// inotify event or a timer, when it has credit). Memory is bounded by max_bytes + max_line_bytes.
class file_follower {
public:
  // Throws std::system_error naming the path when it exists but cannot be opened/read,
  // std::invalid_argument for bad options.
  file_follower(std::filesystem::path path, start_position start, follower_options options = {});
  // Resumes at a saved position; finds the checkpointed file among the path's siblings when it
  // was rotated meanwhile, else counts a gap and reads the current file from byte 0.
  file_follower(std::filesystem::path path, const follower_checkpoint& resume,
                follower_options options = {});
  ~file_follower();
  file_follower(file_follower&& other) noexcept;
  file_follower& operator=(file_follower&& other) noexcept;
  file_follower(const file_follower&) = delete;
  file_follower& operator=(const file_follower&) = delete;

  // Detects rotation, then fills `out` (cleared first) with complete lines from at most
  // max_bytes of one file (a single longer line is still read whole, up to max_line_bytes).
  // An unterminated last line stays unread, except at the end of a rotated-away file.
  // An empty batch with a new identity means the follower switched files.
  void read(line_batch& out, std::size_t max_bytes);
  // Rotation/truncation detection alone (read() calls it).
  void check();

  follow_state state() const noexcept { return state_; }
  // True when the last read() reached the end of the data: wait for the file to change.
  bool at_eof() const noexcept { return at_eof_; }
  // Position after everything returned so far.
  follower_checkpoint position() const noexcept { return {identity_, offset_, next_line_}; }
  const follower_counters& counters() const noexcept { return counters_; }
  // Events since the last call, oldest first.
  std::vector<follower_event> take_events();
  const std::filesystem::path& path() const noexcept { return path_; }

private:
  struct long_line_scan {
    std::uint64_t offset;     // start of the long line
    std::uint64_t scanned_to; // no '\n' in [offset, scanned_to)
  };

  bool open_path(bool at_end);
  void close_file() noexcept;
  void restart_from_zero();
  void refresh_fingerprint();
  bool prefix_matches(const file_identity& identity);
  std::size_t read_at(char* buffer, std::size_t size, std::uint64_t offset);
  void read_lines(line_batch& out, std::size_t max_bytes, bool final);
  std::size_t read_long_line(line_batch& out, std::size_t have, std::size_t chunk, bool final);
  void add_line(line_batch& out, std::size_t begin, std::size_t length, bool whole_in_buffer);
  void emit(follower_event_kind kind, std::string detail);

  std::filesystem::path path_;
  std::filesystem::path open_path_; // name the open file had when opened (for messages)
  follower_options options_;
  int fd_ = -1;
  file_identity identity_;
  std::uint64_t offset_ = 0;
  std::uint64_t next_line_ = 1;
  std::uint64_t last_size_ = 0; // size seen at the last check, to size a truncation's loss
  // Modification and change times at the last prefix check: while neither moved, the
  // first bytes cannot have changed and re-reading them is skipped (cheap idle checks).
  struct timespec prefix_checked_mtime_ {};
  struct timespec prefix_checked_ctime_ {};
  follow_state state_ = follow_state::waiting;
  bool at_eof_ = false;
  std::optional<std::uint64_t> successor_size_; // size of the other file at the path, if any
  std::optional<long_line_scan> long_line_;
  follower_counters counters_;
  std::vector<follower_event> events_;
};

} // namespace vigil
