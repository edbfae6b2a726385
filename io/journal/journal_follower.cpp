#include "io/journal/journal_follower.hpp"

#include <systemd/sd-journal.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <unistd.h>
#include <utility>

namespace vigil {

namespace {

// Unit types systemd knows; a name ending in none of them is a service (unit_name_mangle).
constexpr std::array<std::string_view, 11> unit_suffixes{
    ".service", ".socket", ".target", ".device", ".mount", ".automount",
    ".swap",    ".timer",  ".path",   ".slice",  ".scope"};

std::string unit_name(const std::string& name) {
  for (auto suffix : unit_suffixes)
    if (name.size() > suffix.size() && name.ends_with(suffix))
      return name;
  return name + ".service";
}

[[noreturn]] void throw_sd(int r, const std::string& what) {
  throw std::system_error(-r, std::generic_category(), what);
}

std::string describe(const journal_options& options) {
  return options.directory.empty() ? std::string("the local journal")
                                   : "journal directory " + options.directory;
}

// The value of a "FIELD=value" datum when it is that field.
std::optional<std::string_view> field_value(std::string_view datum, std::string_view field) {
  if (datum.size() > field.size() && datum[field.size()] == '=' && datum.starts_with(field))
    return datum.substr(field.size() + 1);
  return std::nullopt;
}

template <typename Int>
std::optional<Int> parse_int(std::string_view text) {
  Int value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size())
    return std::nullopt;
  return value;
}

// Journal files in `dir` and, `depth` levels down, its subdirectories (one per machine id) that
// this process may not read.
std::size_t unreadable_journal_files(const std::filesystem::path& dir, int depth) {
  std::size_t denied = 0;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const auto& path = it->path();
    std::error_code type_ec;
    if (it->is_directory(type_ec)) {
      if (depth > 0)
        denied += unreadable_journal_files(path, depth - 1);
    } else if ((path.extension() == ".journal" || path.extension() == ".journal~") &&
               ::access(path.c_str(), R_OK) != 0 && errno == EACCES) {
      ++denied;
    }
  }
  return denied;
}

} // namespace

void journal_follower::closer::operator()(sd_journal* journal) const noexcept {
  sd_journal_close(journal);
}

journal_follower::journal_follower(journal_options options, std::optional<std::string> cursor,
                                   journal_start start, std::size_t max_message_bytes)
    : options_(std::move(options))
    , max_message_bytes_(max_message_bytes) {
  if (max_message_bytes_ < min_message_bytes)
    throw std::invalid_argument("journal: max_message_bytes must be at least " +
                                std::to_string(min_message_bytes));
  if (options_.max_priority && (*options_.max_priority < 0 || *options_.max_priority > 7))
    throw std::invalid_argument("journal: max_priority must be 0..7, not " +
                                std::to_string(*options_.max_priority));
  for (auto& unit : options_.units) {
    if (unit.empty())
      throw std::invalid_argument("journal: empty unit name");
    unit = unit_name(unit);
  }
  open(options_.directory);
  position(cursor, start);
}

journal_follower::~journal_follower() = default;
journal_follower::journal_follower(journal_follower&& other) noexcept = default;
journal_follower& journal_follower::operator=(journal_follower&& other) noexcept = default;

void journal_follower::open(const std::string& directory) {
  sd_journal* journal = nullptr;
  int r = directory.empty() ? sd_journal_open(&journal, SD_JOURNAL_LOCAL_ONLY)
                            : sd_journal_open_directory(&journal, directory.c_str(), 0);
  if (r < 0)
    throw_sd(r, "cannot open " + describe(options_));
  journal_.reset(journal);
  check_readable();
  // The inotify watches are created here, before positioning, so that no file created from now
  // on is missed; without them sd-journal never notices new (rotated) files.
  fd_ = sd_journal_get_fd(journal);
  if (fd_ < 0)
    throw_sd(fd_, "cannot watch " + describe(options_));
  // 0 = no limit: get the whole field so that the truncation marker can count what was cut
  // (current libsystemd decompresses whole fields anyway; older ones would cut at 64 KiB).
  r = sd_journal_set_data_threshold(journal, 0);
  if (r < 0)
    throw_sd(r, "cannot configure " + describe(options_));
}

// sd-journal skips journal files it may not read and still succeeds (journalctl only warns):
// with none readable the follower would wait on nothing forever, typically because the agent's
// user is not in the systemd-journal group. Refuse that with EACCES instead. When some files are
// readable, sd-journal's choice stands (a user may legitimately read only their own journal).
void journal_follower::check_readable() {
  std::uint64_t usage = 0;
  if (sd_journal_get_usage(journal_.get(), &usage) < 0 || usage > 0)
    return;
  std::vector<std::filesystem::path> roots;
  if (options_.directory.empty())
    roots = {"/var/log/journal", "/run/log/journal"};
  else
    roots = {options_.directory};
  std::size_t denied = 0;
  for (const auto& root : roots)
    denied += unreadable_journal_files(root, 1);
  if (denied > 0)
    throw std::system_error(EACCES, std::generic_category(),
                            "cannot read " + describe(options_) +
                                ": no permission for any of its " + std::to_string(denied) +
                                " journal files (run as root or in the systemd-journal group)");
}

// Whether the journal holds the entry `cursor` names, whatever the filters. Looked up without
// matches: the cursor may name an entry the current filters exclude (the configuration changed
// since it was saved), which is no gap. A parse error (-EINVAL) counts as not held.
bool journal_follower::holds_cursor(const std::string& cursor) {
  sd_journal* j = journal_.get();
  if (sd_journal_seek_cursor(j, cursor.c_str()) < 0)
    return false;
  // Seeking finds the first entry at or after the cursor's seqnum/monotonic/realtime position,
  // which is another entry when the cursor's own is gone: only test_cursor tells.
  if (sd_journal_next(j) <= 0)
    return false;
  return sd_journal_test_cursor(j, cursor.c_str()) > 0;
}

// Matches on the same field are ORed, on different fields ANDed: (unit1 | unit2) & (p0 | p1..).
void journal_follower::add_matches() {
  sd_journal* j = journal_.get();
  for (const auto& unit : options_.units) {
    std::string match = "_SYSTEMD_UNIT=" + unit;
    if (int r = sd_journal_add_match(j, match.data(), match.size()); r < 0)
      throw_sd(r, "cannot filter " + describe(options_) + " on " + match);
  }
  if (options_.max_priority && *options_.max_priority < 7)
    for (int p = 0; p <= *options_.max_priority; ++p) {
      std::string match = "PRIORITY=" + std::to_string(p);
      if (int r = sd_journal_add_match(j, match.data(), match.size()); r < 0)
        throw_sd(r, "cannot filter " + describe(options_) + " on " + match);
    }
}

void journal_follower::position(const std::optional<std::string>& cursor, journal_start start) {
  sd_journal* j = journal_.get();
  bool found = cursor && holds_cursor(*cursor);
  if (cursor && !found)
    ++counters_.gaps;
  add_matches();
  int r = 0;
  if (found) {
    // The first next() stops at the cursor's entry if it passes the filters (read() skips it),
    // else at the first matching entry after it.
    r = sd_journal_seek_cursor(j, cursor->c_str());
    skip_cursor_ = cursor;
    cursor_ = cursor;
  } else if (cursor || start == journal_start::beginning) {
    r = sd_journal_seek_head(j);
  } else {
    // start = end. Not seek_tail() alone: libsystemd 252's next() after seek_tail() returns the
    // last old entry, and when the journal was empty it later returns only the last of the new
    // entries. Instead stand ON the last (matching) entry: next() then yields what follows it.
    r = sd_journal_seek_tail(j);
    if (r >= 0)
      r = sd_journal_previous(j);
    if (r > 0)
      cursor_ = current_cursor();
    else if (r == 0) // nothing (matching) yet: everything that comes is new
      r = sd_journal_seek_head(j);
  }
  if (r < 0)
    throw_sd(r, "cannot position in " + describe(options_));
}

std::size_t journal_follower::read(std::vector<journal_entry>& out, std::size_t max_entries,
                                   std::size_t max_bytes) {
  // Files created, renamed or deleted since the last call (rotation, vacuuming) are only seen
  // once their inotify events are processed.
  process();
  sd_journal* j = journal_.get();
  std::size_t count = 0;
  std::size_t bytes = 0;
  at_end_ = false;
  while (count < max_entries && (count == 0 || bytes < max_bytes)) {
    int r = sd_journal_next(j);
    if (r < 0)
      throw_sd(r, "cannot read " + describe(options_));
    if (r == 0) {
      // Stays on the last entry: once more is written, next() continues after it.
      at_end_ = true;
      break;
    }
    if (skip_cursor_) {
      bool is_cursor = sd_journal_test_cursor(j, skip_cursor_->c_str()) > 0;
      skip_cursor_.reset();
      if (is_cursor)
        continue;
    }
    journal_entry& entry = out.emplace_back();
    fill_entry(entry);
    cursor_ = entry.cursor;
    bytes += entry.message.size();
    counters_.bytes += entry.message.size();
    ++counters_.entries;
    ++count;
  }
  return count;
}

bool journal_follower::process() {
  int r = sd_journal_process(journal_.get());
  if (r < 0)
    throw_sd(r, "cannot process changes of " + describe(options_));
  return r != SD_JOURNAL_NOP;
}

std::string journal_follower::current_cursor() {
  char* text = nullptr;
  if (int r = sd_journal_get_cursor(journal_.get(), &text); r < 0)
    throw_sd(r, "cannot get a cursor in " + describe(options_));
  std::string cursor(text);
  std::free(text);
  return cursor;
}

// One pass over the entry's fields (instead of one sd_journal_get_data() scan per field). A
// datum is only valid until the next sd-journal call, so values are copied at once.
void journal_follower::fill_entry(journal_entry& entry) {
  sd_journal* j = journal_.get();
  entry.cursor = current_cursor();
  std::uint64_t realtime = 0;
  if (sd_journal_get_realtime_usec(j, &realtime) >= 0)
    entry.realtime_us = static_cast<std::int64_t>(realtime);

  bool have_message = false, have_priority = false, have_unit = false, have_identifier = false,
       have_pid = false;
  std::optional<std::string> comm;
  const void* data = nullptr;
  std::size_t length = 0;
  sd_journal_restart_data(j);
  // enumerate_available_data skips fields it cannot decode (unknown compression, corruption)
  // instead of failing the whole entry.
  while (sd_journal_enumerate_available_data(j, &data, &length) > 0) {
    std::string_view datum(static_cast<const char*>(data), length);
    // A field may occur more than once; like sd_journal_get_data(), the first one wins.
    if (auto v = field_value(datum, "MESSAGE"); v && !have_message) {
      have_message = true;
      if (v->size() <= max_message_bytes_) {
        entry.message.assign(*v);
      } else {
        // The marker's length depends on the count it prints: settle both.
        std::string marker;
        std::size_t keep = 0;
        for (std::size_t marker_size = 0;; marker_size = marker.size()) {
          keep = max_message_bytes_ - marker_size;
          marker = " [truncated " + std::to_string(v->size() - keep) + " bytes]";
          if (marker.size() == marker_size)
            break;
        }
        entry.message.reserve(max_message_bytes_);
        entry.message.assign(v->substr(0, keep));
        entry.message += marker;
        ++counters_.truncated_messages;
      }
    } else if (auto v = field_value(datum, "PRIORITY"); v && !have_priority) {
      have_priority = true;
      if (auto p = parse_int<int>(*v); p && *p >= 0 && *p <= 7)
        entry.priority = *p;
    } else if (auto v = field_value(datum, "_SYSTEMD_UNIT"); v && !have_unit) {
      have_unit = true;
      entry.unit.assign(*v);
    } else if (auto v = field_value(datum, "SYSLOG_IDENTIFIER"); v && !have_identifier) {
      have_identifier = true;
      entry.identifier.assign(*v);
    } else if (auto v = field_value(datum, "_COMM"); v && !comm) {
      comm.emplace(*v);
    } else if (auto v = field_value(datum, "_PID"); v && !have_pid) {
      have_pid = true;
      entry.pid = parse_int<std::int64_t>(*v).value_or(0);
    }
  }
  if (!have_identifier && comm)
    entry.identifier = std::move(*comm);
}

} // namespace vigil
