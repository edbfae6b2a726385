#include "io/logs/file_follower.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <stdexcept>
#include <sys/stat.h>
#include <system_error>
#include <unistd.h>
#include <utility>

namespace vigil {

namespace {

constexpr std::size_t min_line_bytes = 64; // room for the truncation marker
constexpr std::size_t scan_chunk_bytes = 64 * 1024;

[[noreturn]] void throw_errno(const std::string& what, const std::filesystem::path& path) {
  throw std::system_error(errno, std::generic_category(), what + " " + path.string());
}

// nullopt when the path names nothing (or nothing we can follow: a dangling link, no dir).
std::optional<struct stat> stat_path(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0)
    return st;
  if (errno == ENOENT || errno == ENOTDIR)
    return std::nullopt;
  throw_errno("cannot stat", path);
}

struct stat stat_fd(int fd, const std::filesystem::path& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0)
    throw_errno("cannot fstat", path);
  return st;
}

std::uint64_t fnv1a(const char* data, std::size_t size) {
  std::uint64_t hash = 14695981039346656037ull;
  for (std::size_t i = 0; i < size; ++i) {
    hash ^= static_cast<unsigned char>(data[i]);
    hash *= 1099511628211ull;
  }
  return hash;
}

bool same_file(const struct stat& a, const struct stat& b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

bool same_file(const struct stat& st, const file_identity& id) {
  return static_cast<std::uint64_t>(st.st_dev) == id.device &&
         static_cast<std::uint64_t>(st.st_ino) == id.inode;
}

void check_options(const follower_options& options) {
  if (options.fingerprint_bytes == 0 || options.fingerprint_bytes > 1024 * 1024)
    throw std::invalid_argument("fingerprint_bytes must be within 1..1048576");
  if (options.max_line_bytes < min_line_bytes || options.max_line_bytes > (1u << 30))
    throw std::invalid_argument("max_line_bytes must be within 64..1073741824");
}

} // namespace

file_follower::file_follower(std::filesystem::path path, start_position start,
                             follower_options options)
    : path_(std::move(path))
    , options_(options) {
  check_options(options_);
  open_path(start == start_position::end);
}

file_follower::file_follower(std::filesystem::path path, const follower_checkpoint& resume,
                             follower_options options)
    : path_(std::move(path))
    , options_(options) {
  check_options(options_);
  auto adopt = [&](int fd, const std::filesystem::path& name) {
    fd_ = fd;
    open_path_ = name;
    identity_ = resume.identity;
    offset_ = resume.offset;
    next_line_ = resume.next_line;
    last_size_ = static_cast<std::uint64_t>(stat_fd(fd_, open_path_).st_size);
    if (!prefix_matches(identity_)) {
      close_file();
      open_path_.clear();
      return false;
    }
    refresh_fingerprint();
    return true;
  };
  auto open_candidate = [&](const std::filesystem::path& name) -> int {
    int fd = ::open(name.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
      return -1;
    struct stat st = stat_fd(fd, name);
    if (!S_ISREG(st.st_mode) || !same_file(st, resume.identity)) {
      ::close(fd);
      return -1;
    }
    return fd;
  };

  // Still at the path?
  if (int fd = open_candidate(path_); fd >= 0 && adopt(fd, path_)) {
    state_ = follow_state::following;
    emit(follower_event_kind::opened, "resumed at offset " + std::to_string(offset_));
    return;
  }
  // Renamed by a rotation: same device + inode + first bytes among the siblings.
  std::error_code ec;
  auto directory = path_.has_parent_path() ? path_.parent_path() : std::filesystem::path(".");
  for (std::filesystem::directory_iterator it(directory, ec), end; !ec && it != end;
       it.increment(ec)) {
    if (it->path() == path_)
      continue;
    struct stat st {};
    if (::stat(it->path().c_str(), &st) != 0 || !S_ISREG(st.st_mode) ||
        !same_file(st, resume.identity))
      continue;
    if (int fd = open_candidate(it->path()); fd >= 0 && adopt(fd, it->path())) {
      state_ = follow_state::draining;
      emit(follower_event_kind::resumed_rotated, "checkpointed file is now " + it->path().string() +
                                                     ", resuming it at offset " +
                                                     std::to_string(offset_));
      check(); // learn about the successor at the path
      return;
    }
  }
  ++counters_.gaps;
  emit(follower_event_kind::gap, "checkpointed file (device " +
                                     std::to_string(resume.identity.device) + ", inode " +
                                     std::to_string(resume.identity.inode) +
                                     ") not found; its unread lines are lost; reading from 0");
  open_path(false);
}

file_follower::~file_follower() {
  close_file();
}

file_follower::file_follower(file_follower&& other) noexcept
    : path_(std::move(other.path_))
    , open_path_(std::move(other.open_path_))
    , options_(other.options_)
    , fd_(std::exchange(other.fd_, -1))
    , identity_(other.identity_)
    , offset_(other.offset_)
    , next_line_(other.next_line_)
    , last_size_(other.last_size_)
    , prefix_checked_mtime_(other.prefix_checked_mtime_)
    , prefix_checked_ctime_(other.prefix_checked_ctime_)
    , state_(other.state_)
    , at_eof_(other.at_eof_)
    , successor_size_(other.successor_size_)
    , long_line_(other.long_line_)
    , counters_(other.counters_)
    , events_(std::move(other.events_)) {}

file_follower& file_follower::operator=(file_follower&& other) noexcept {
  if (this != &other) {
    close_file();
    path_ = std::move(other.path_);
    open_path_ = std::move(other.open_path_);
    options_ = other.options_;
    fd_ = std::exchange(other.fd_, -1);
    identity_ = other.identity_;
    offset_ = other.offset_;
    next_line_ = other.next_line_;
    last_size_ = other.last_size_;
    prefix_checked_mtime_ = other.prefix_checked_mtime_;
    prefix_checked_ctime_ = other.prefix_checked_ctime_;
    state_ = other.state_;
    at_eof_ = other.at_eof_;
    successor_size_ = other.successor_size_;
    long_line_ = other.long_line_;
    counters_ = other.counters_;
    events_ = std::move(other.events_);
  }
  return *this;
}

void file_follower::close_file() noexcept {
  if (fd_ >= 0)
    ::close(fd_);
  fd_ = -1;
}

std::vector<follower_event> file_follower::take_events() {
  return std::exchange(events_, {});
}

void file_follower::emit(follower_event_kind kind, std::string detail) {
  events_.push_back({kind, (open_path_.empty() ? path_ : open_path_).string(), std::move(detail)});
}

std::size_t file_follower::read_at(char* buffer, std::size_t size, std::uint64_t offset) {
  std::size_t done = 0;
  while (done < size) {
    ssize_t n = ::pread(fd_, buffer + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR)
        continue;
      throw_errno("cannot read", open_path_);
    }
    if (n == 0)
      break;
    done += static_cast<std::size_t>(n);
  }
  return done;
}

bool file_follower::prefix_matches(const file_identity& identity) {
  std::string prefix(identity.fingerprint_bytes, '\0');
  if (read_at(prefix.data(), prefix.size(), 0) != prefix.size())
    return false;
  return fnv1a(prefix.data(), prefix.size()) == identity.fingerprint;
}

// The fingerprint covers min(fingerprint_bytes, size): it grows with a short file.
void file_follower::refresh_fingerprint() {
  if (identity_.fingerprint_bytes >= options_.fingerprint_bytes ||
      last_size_ <= identity_.fingerprint_bytes)
    return;
  std::string prefix(std::min<std::uint64_t>(options_.fingerprint_bytes, last_size_), '\0');
  prefix.resize(read_at(prefix.data(), prefix.size(), 0));
  identity_.fingerprint = fnv1a(prefix.data(), prefix.size());
  identity_.fingerprint_bytes = static_cast<std::uint32_t>(prefix.size());
}

bool file_follower::open_path(bool at_end) {
  int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) {
      state_ = follow_state::waiting;
      return false;
    }
    throw_errno("cannot open", path_);
  }
  struct stat st = stat_fd(fd, path_);
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw std::invalid_argument("not a regular file: " + path_.string());
  }
  fd_ = fd;
  open_path_ = path_;
  identity_ = {static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino), 0, 0};
  identity_.fingerprint = fnv1a(nullptr, 0);
  last_size_ = static_cast<std::uint64_t>(st.st_size);
  refresh_fingerprint();
  offset_ = 0;
  next_line_ = 1;
  long_line_.reset();
  successor_size_.reset();
  at_eof_ = false;
  state_ = follow_state::following;
  if (at_end) {
    // Start after the last complete line; count lines so numbers stay true to the file.
    std::string chunk(scan_chunk_bytes, '\0');
    std::uint64_t position = 0;
    while (position < last_size_) {
      std::size_t n = read_at(chunk.data(), chunk.size(), position);
      if (n == 0)
        break;
      for (const char* p = chunk.data();
           (p = static_cast<const char*>(std::memchr(p, '\n', chunk.data() + n - p))); ++p) {
        ++next_line_;
        offset_ = position + static_cast<std::uint64_t>(p - chunk.data()) + 1;
      }
      position += n;
    }
  }
  emit(follower_event_kind::opened, "reading from offset " + std::to_string(offset_));
  return true;
}

void file_follower::restart_from_zero() {
  offset_ = 0;
  next_line_ = 1;
  long_line_.reset();
  identity_.fingerprint = fnv1a(nullptr, 0);
  identity_.fingerprint_bytes = 0;
  refresh_fingerprint();
}

void file_follower::check() {
  if (fd_ < 0) {
    open_path(false); // a file appearing after we started is new: all of it counts
    return;
  }
  struct stat open_st = stat_fd(fd_, open_path_);
  auto path_st = stat_path(path_);
  auto size = static_cast<std::uint64_t>(open_st.st_size);

  if (path_st && same_file(*path_st, open_st)) {
    successor_size_.reset();
    state_ = follow_state::following;
    if (size < offset_) {
      // copytruncate: whatever was written between our last read and the copy is in the copy.
      ++counters_.truncations;
      std::uint64_t lost = last_size_ > offset_ ? last_size_ - offset_ : 0;
      emit(follower_event_kind::truncated, "size " + std::to_string(size) + " < offset " +
                                               std::to_string(offset_) + "; reading from 0");
      if (lost > 0) {
        ++counters_.gaps;
        counters_.lost_bytes += lost;
        emit(follower_event_kind::gap, std::to_string(lost) + " unread bytes truncated away");
      }
      last_size_ = size;
      restart_from_zero();
      return;
    }
    auto same_time = [](const timespec& a, const timespec& b) {
      return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
    };
    bool untouched = size == last_size_ && same_time(open_st.st_mtim, prefix_checked_mtime_) &&
                     same_time(open_st.st_ctim, prefix_checked_ctime_);
    last_size_ = size;
    if (untouched)
      return; // same size and times as at the last check: the first bytes are unchanged
    prefix_checked_mtime_ = open_st.st_mtim;
    prefix_checked_ctime_ = open_st.st_ctim;
    if (!prefix_matches(identity_)) {
      // Same inode, other content: the file was rewritten in place (or the inode reused).
      ++counters_.replacements;
      emit(follower_event_kind::replaced, "first bytes changed; reading from 0");
      restart_from_zero();
      return;
    }
    refresh_fingerprint();
    return;
  }

  // The open file is no longer at the path: it is drained before anything else.
  last_size_ = size;
  if (path_st && S_ISREG(path_st->st_mode)) {
    successor_size_ = static_cast<std::uint64_t>(path_st->st_size);
    if (state_ != follow_state::draining)
      state_ = follow_state::draining;
  } else {
    successor_size_.reset();
    if (state_ == follow_state::following)
      state_ = follow_state::draining;
  }
}

void file_follower::read(line_batch& out, std::size_t max_bytes) {
  out.clear();
  check();
  if (fd_ < 0) {
    out.identity = identity_;
    out.begin_offset = out.end_offset = offset_;
    out.next_line = next_line_;
    at_eof_ = true;
    return;
  }
  read_lines(out, max_bytes, false);
  if (!out.empty() || !at_eof_ || state_ == follow_state::following)
    return;

  // The old file is drained up to a possible unterminated last line. Leave it once the writer
  // has moved on: the new file has data, or there is no file at the path any more.
  bool successor_ready = successor_size_ && *successor_size_ > 0;
  if (!successor_ready && successor_size_)
    return; // new file still empty: the writer may not have reopened yet
  read_lines(out, max_bytes, true);
  if (!out.empty())
    return;
  if (successor_ready) {
    ++counters_.rotations;
    emit(follower_event_kind::rotated,
         "old file drained at offset " + std::to_string(offset_) + "; reading the new file from 0");
    close_file();
    if (open_path(false))
      read_lines(out, max_bytes, false);
    else
      out.identity = identity_;
    return;
  }
  if (state_ != follow_state::gone) {
    state_ = follow_state::gone;
    emit(follower_event_kind::gone, "file removed; drained at offset " + std::to_string(offset_));
  }
}

void file_follower::read_lines(line_batch& out, std::size_t max_bytes, bool final) {
  out.clear();
  out.identity = identity_;
  out.begin_offset = offset_;
  // Read at most what the last fstat saw beyond our offset (plus slack for what arrived
  // since): a quiet file costs a small read, not a large zero-filled buffer. More data than
  // the slack is left for the next read.
  constexpr std::size_t growth_slack = 4 * 1024;
  std::size_t budget = std::max<std::size_t>(max_bytes, 1);
  if (last_size_ >= offset_)
    budget = std::min<std::size_t>(budget, last_size_ - offset_ + growth_slack);
  out.text.resize(budget);
  std::size_t n = read_at(out.text.data(), budget, offset_);
  bool hit_eof = n < budget;
  std::size_t consumed = 0;
  const char* base = out.text.data();
  while (consumed < n) {
    auto* newline = static_cast<const char*>(std::memchr(base + consumed, '\n', n - consumed));
    if (!newline)
      break;
    auto length = static_cast<std::size_t>(newline - (base + consumed));
    add_line(out, consumed, length, true);
    consumed += length + 1;
  }
  if (consumed < n && out.lines.empty() && !hit_eof) {
    // The first line is longer than the budget.
    consumed = read_long_line(out, n, std::max(budget, std::size_t{4096}), final);
    hit_eof = at_eof_;
  } else {
    if (consumed < n && final && hit_eof) {
      add_line(out, consumed, n - consumed, true); // unterminated end of a rotated-away file
      consumed = n;
    }
    out.text.resize(n);
  }
  at_eof_ = hit_eof;
  offset_ += consumed;
  counters_.bytes += consumed;
  counters_.lines += out.lines.size();
  out.end_offset = offset_;
  out.next_line = next_line_;
}

// `have` bytes from offset_ are in out.text with no '\n'. Returns the bytes consumed (the line
// and its newline) or 0 when the line is not complete yet; sets at_eof_.
std::size_t file_follower::read_long_line(line_batch& out, std::size_t have, std::size_t chunk,
                                          bool final) {
  const std::size_t limit = options_.max_line_bytes;
  auto& text = out.text;
  at_eof_ = false;
  if (have <= limit) {
    // It may still fit in max_line_bytes.
    text.resize(limit + 1);
    std::size_t more = read_at(text.data() + have, limit + 1 - have, offset_ + have);
    if (auto* newline = static_cast<const char*>(std::memchr(text.data() + have, '\n', more))) {
      auto length = static_cast<std::size_t>(newline - text.data());
      add_line(out, 0, length, true);
      text.resize(length);
      return length + 1;
    }
    have += more;
    if (have <= limit) {
      at_eof_ = true;
      text.resize(have);
      if (!final)
        return 0;
      add_line(out, 0, have, true);
      return have;
    }
  }
  // Longer than max_line_bytes: keep its first `limit` bytes, find its end with a bounded buffer.
  std::uint64_t scan_from = long_line_ && long_line_->offset == offset_
                                ? long_line_->scanned_to
                                : offset_ + static_cast<std::uint64_t>(have);
  text.resize(limit + chunk);
  for (;;) {
    std::size_t n = read_at(text.data() + limit, chunk, scan_from);
    if (auto* newline = static_cast<const char*>(std::memchr(text.data() + limit, '\n', n))) {
      std::uint64_t length =
          scan_from + static_cast<std::uint64_t>(newline - (text.data() + limit)) - offset_;
      long_line_.reset();
      add_line(out, 0, static_cast<std::size_t>(length), false);
      text.resize(limit);
      return static_cast<std::size_t>(length) + 1;
    }
    scan_from += n;
    if (n < chunk) {
      at_eof_ = true;
      std::uint64_t length = scan_from - offset_;
      if (!final) {
        long_line_ = long_line_scan{offset_, scan_from};
        text.resize(0);
        return 0;
      }
      long_line_.reset();
      add_line(out, 0, static_cast<std::size_t>(length), false);
      text.resize(limit);
      return static_cast<std::size_t>(length);
    }
  }
}

// Adds text[begin, begin + length) as a line. A line over max_line_bytes keeps its head and gets
// the marker written over the cut part, so the buffer never grows for it.
void file_follower::add_line(line_batch& out, std::size_t begin, std::size_t length,
                             bool whole_in_buffer) {
  if (whole_in_buffer && length > 0 && out.text[begin + length - 1] == '\r')
    --length;
  log_line line;
  line.begin = static_cast<std::uint32_t>(begin);
  line.offset = offset_ + begin;
  line.number = next_line_++;
  if (length > options_.max_line_bytes) {
    // The marker's length depends on the count it prints: settle both.
    std::string marker;
    std::size_t keep = 0;
    for (std::size_t marker_size = 0;; marker_size = marker.size()) {
      keep = options_.max_line_bytes - marker_size;
      marker = " [truncated " + std::to_string(length - keep) + " bytes]";
      if (marker.size() == marker_size)
        break;
    }
    std::memcpy(out.text.data() + begin + keep, marker.data(), marker.size());
    line.dropped_bytes = length - keep;
    length = keep + marker.size();
    ++counters_.truncated_lines;
  }
  line.length = static_cast<std::uint32_t>(length);
  out.lines.push_back(line);
}

} // namespace vigil
