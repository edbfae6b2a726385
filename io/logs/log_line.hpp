#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vigil {

// Which file a byte offset belongs to: device + inode alone are not enough because inodes
// are reused, so a hash of the first bytes (up to fingerprint_bytes) is part of it.
struct file_identity {
  std::uint64_t device = 0;
  std::uint64_t inode = 0;
  std::uint64_t fingerprint = 0;       // FNV-1a 64 of the first fingerprint_bytes bytes
  std::uint32_t fingerprint_bytes = 0; // < the configured size while the file is shorter
  friend bool operator==(const file_identity&, const file_identity&) = default;
};

// Where to resume: offset is the first byte not yet durably handled, next_line its number.
struct follower_checkpoint {
  file_identity identity;
  std::uint64_t offset = 0;
  std::uint64_t next_line = 1;
  friend bool operator==(const follower_checkpoint&, const follower_checkpoint&) = default;
};

// One complete line inside line_batch::text (without "\n" / "\r\n").
struct log_line {
  std::uint32_t begin = 0;         // index into line_batch::text
  std::uint32_t length = 0;        // bytes of text, marker included when truncated
  std::uint64_t offset = 0;        // byte offset of the line start in its file
  std::uint64_t number = 0;        // 1-based line number in its file
  std::uint64_t dropped_bytes = 0; // > 0: the line was truncated, this many bytes cut
};

// Lines share one buffer so a batch costs two allocations however many lines it holds; the
// buffer is reused across reads when the caller keeps the batch.
struct line_batch {
  file_identity identity;         // the file all lines come from
  std::uint64_t begin_offset = 0; // offset of the first byte this batch consumed
  std::uint64_t end_offset = 0;   // offset after the last consumed byte ("\n" included)
  std::uint64_t next_line = 1;    // number of the line that starts at end_offset
  std::string text;
  std::vector<log_line> lines;

  std::string_view line_text(const log_line& line) const noexcept {
    return std::string_view(text).substr(line.begin, line.length);
  }
  // The position to save once every line of this batch is durably handled.
  follower_checkpoint checkpoint() const noexcept { return {identity, end_offset, next_line}; }
  bool empty() const noexcept { return lines.empty(); }
  void clear() noexcept {
    text.clear();
    lines.clear();
  }
};

} // namespace vigil
