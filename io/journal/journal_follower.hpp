#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

// libsystemd's handle, declared here so that the header does not pull in <systemd/sd-journal.h>.
struct sd_journal;

namespace vigil {

struct journal_options {
  // Empty: the local machine's journal (system and user files, SD_JOURNAL_LOCAL_ONLY). Else a
  // directory of journal files (files that appear in it later are picked up too).
  std::string directory;
  // Empty: every unit. Else only entries whose _SYSTEMD_UNIT is one of these; a name without a
  // unit suffix gets ".service" (as systemctl/journalctl do). No globs.
  std::vector<std::string> units;
  // When set (0..7), only entries with PRIORITY <= it. As with `journalctl -p`, entries without
  // a PRIORITY field then do not match (sd-journal cannot match a missing field), except at 7
  // where no priority filter is applied at all.
  std::optional<int> max_priority;
};

enum class journal_start {
  beginning, // the oldest entry still in the journal
  end,       // only entries written after the follower was opened
};

struct journal_entry {
  std::string cursor;           // sd-journal's position of this entry, to resume after it
  std::int64_t realtime_us = 0; // __REALTIME_TIMESTAMP (µs since the epoch)
  int priority = 6;             // PRIORITY, 6 (info) when absent or invalid
  std::string unit;             // _SYSTEMD_UNIT, empty when absent
  std::string identifier;       // SYSLOG_IDENTIFIER, else _COMM, else empty
  std::int64_t pid = 0;         // _PID, 0 when absent
  std::string message;          // MESSAGE bytes as stored (not necessarily UTF-8); cut to
                                // max_message_bytes ending in " [truncated N bytes]"
};

struct journal_counters {
  std::uint64_t entries = 0;            // returned by read()
  std::uint64_t bytes = 0;              // message bytes returned (after truncation)
  std::uint64_t truncated_messages = 0; // messages cut at max_message_bytes
  std::uint64_t gaps = 0;               // resume cursors not found: entries may have been lost
};

// Reads the systemd journal through sd-journal (libsystemd), with the filters applied by the
// journal's own indexes. Synchronous like file_follower: each call reads what is there and
// returns; the owner polls wait_fd() (or uses a timer) and decides when to read again. sd-journal
// handles are not thread-safe: use one follower from one thread at a time. Rotation and vacuuming
// (journal files renamed, created, deleted while open) are handled by sd-journal through the
// inotify descriptor behind wait_fd(); read() processes its events itself, so a timer-driven
// owner that never polls still follows rotations.
class journal_follower {
public:
  static constexpr std::size_t min_message_bytes = 64; // room for the truncation marker

  // Throws std::system_error naming the journal when it cannot be opened (missing or unreadable
  // directory, no journal file readable), std::invalid_argument for bad options.
  // With a cursor: continues right after that entry. When the journal no longer holds it
  // (vacuumed, another machine's journal, unparsable), reading starts at the oldest entry and
  // counters().gaps is incremented: entries between the cursor and the oldest may be lost.
  // Without a cursor: starts at `start`.
  journal_follower(journal_options options, std::optional<std::string> cursor, journal_start start,
                   std::size_t max_message_bytes = 64 * 1024);
  ~journal_follower();
  journal_follower(journal_follower&& other) noexcept;
  journal_follower& operator=(journal_follower&& other) noexcept;
  journal_follower(const journal_follower&) = delete;
  journal_follower& operator=(const journal_follower&) = delete;

  // Appends up to max_entries entries to `out`, stopping early once the returned messages reach
  // max_bytes (at least one entry is returned when there is one). Returns how many were
  // appended. Throws std::system_error when sd-journal fails to iterate.
  std::size_t read(std::vector<journal_entry>& out, std::size_t max_entries, std::size_t max_bytes);
  // True when the last read() stopped because the journal had nothing more (not at a limit):
  // wait for wait_fd() or a timer before reading again.
  bool at_end() const noexcept { return at_end_; }

  // A descriptor (inotify, owned by the follower) that becomes readable when the journal
  // changes: poll it for POLLIN. Journals on network file systems do not notify reliably; an
  // owner that also reads on a timer covers that case.
  int wait_fd() const noexcept { return fd_; }
  // Call after wait_fd() became readable: consumes its events and tells whether new entries
  // may be there (entries appended or journal files added/removed).
  bool process();

  // Everything up to and including this entry has been consumed: the last entry read() returned,
  // else the resume cursor that was found, else (start = end) the last entry present at
  // opening. nullopt when nothing was consumed yet; pass it back to the constructor to resume.
  const std::optional<std::string>& cursor() const noexcept { return cursor_; }
  const journal_counters& counters() const noexcept { return counters_; }

private:
  struct closer {
    void operator()(sd_journal* journal) const noexcept;
  };

  void open(const std::string& directory);
  void check_readable();
  bool holds_cursor(const std::string& cursor);
  void add_matches();
  void position(const std::optional<std::string>& cursor, journal_start start);
  void fill_entry(journal_entry& entry);
  std::string current_cursor();

  journal_options options_;
  std::size_t max_message_bytes_;
  std::unique_ptr<sd_journal, closer> journal_;
  int fd_ = -1;
  // Set after seeking to a found cursor: sd-journal then stops at (not after) that entry, which
  // read() must skip once.
  std::optional<std::string> skip_cursor_;
  std::optional<std::string> cursor_;
  bool at_end_ = false;
  journal_counters counters_;
};

} // namespace vigil
