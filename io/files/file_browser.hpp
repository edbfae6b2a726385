#pragma once

// Read-only browsing below configured directories (GET /api/files): lists a directory or
// reads a window of a regular file. A path is resolved (realpath: "..", symlinks) and must
// then be one of the roots or lie below one, so neither ".." nor a symlink leads out of them;
// a symlink that stays inside is followed. FIFOs, devices and sockets are never opened; the
// open is O_NONBLOCK | O_NOFOLLOW and what it opened must still be at the resolved path
// (/proc/self/fd), so a file swapped since the check can neither block nor redirect the read.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace vigil {

enum class file_kind { file, directory, symlink, other };

// "file", "directory", "symlink", "other".
const char* to_string(file_kind kind);

struct file_entry {
  std::string name;                  // valid UTF-8: bytes that are not are U+FFFD
  file_kind kind = file_kind::other; // of the entry itself: a symlink is not followed
  uint64_t size = 0;
  std::chrono::system_clock::time_point modified;
};

struct directory_listing {
  std::string path;                // resolved; valid UTF-8 like every name
  std::vector<file_entry> entries; // sorted by name (bytes)
  uint64_t total = 0;              // entries in the directory ("." and ".." aside)
  bool truncated = false;          // total > entries.size(): the first by name are listed
};

struct file_chunk {
  std::string path; // resolved; valid UTF-8 (U+FFFD for bytes that are not)
  uint64_t size = 0;
  std::chrono::system_clock::time_point modified;
  uint64_t offset = 0;      // where `text` starts in the file
  uint64_t next_offset = 0; // where the next read continues
  bool eof = false;         // next_offset reached the size: nothing follows (yet)
  // The bytes as valid UTF-8, each byte that is not replaced by U+FFFD. The window never
  // ends inside a character (unless that is all it holds), so consecutive reads at
  // next_offset do not break a character in two.
  std::string text;
};

enum class browse_error_kind {
  bad_request, // not an absolute path
  forbidden,   // outside the roots, or the agent may not read it
  not_found,   // no such file or directory (inside a root)
  not_regular, // a FIFO, device or socket
  io_error     // reading failed
};

struct browse_error {
  browse_error_kind kind;
  std::string detail; // never names a resolved path outside the roots
};

struct browse_request {
  std::string_view path;            // absolute
  int64_t offset = 0;               // files: negative counts back from the end (tailing)
  uint64_t max_bytes = 1 << 20;     // files: the most bytes returned
  std::size_t max_entries = 10'000; // directories: the most entries listed
};

using browse_result = std::variant<directory_listing, file_chunk, browse_error>;

// Lists or reads `request.path` when it resolves to one of `roots` (themselves resolved;
// a root that does not exist is ignored) or to something below one.
browse_result browse(const std::vector<std::string>& roots, const browse_request& request);

// `bytes` with every byte that does not belong to a valid UTF-8 sequence (overlong forms,
// surrogates and code points beyond U+10FFFF are invalid) replaced by U+FFFD.
std::string to_valid_utf8(std::string_view bytes);

} // namespace vigil
