#pragma once

// Whole-file reads of small /proc and /sys files into one reused buffer: no iostreams, no
// allocation once the buffer has grown to the largest file read.
//
// Every reader in io/proc takes a root directory ("/" in production; a fixture tree in tests)
// and owns its buffers: use one reader object from one thread at a time.

#include <cstddef>
#include <filesystem>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::proc {

// `root` joined with a path below it: "/" + "proc/stat" → "/proc/stat",
// "/tmp/fixture" + "proc/stat" → "/tmp/fixture/proc/stat".
std::string path_under(const std::filesystem::path& root, std::string_view relative);

class proc_file_reader {
public:
  explicit proc_file_reader(std::size_t initial_capacity = 4096);

  // The whole file, valid until the next call. Throws std::system_error naming the path when
  // it cannot be opened or read.
  std::string_view read(const std::string& path);

  // Like read(), but std::nullopt when the file does not exist (ENOENT, ENOTDIR) or belongs to
  // a process that is gone (ESRCH). Other errors still throw.
  std::optional<std::string_view> read_if_exists(const std::string& path);

  // openat(dir_fd, relative) and reads at most max_bytes. Never throws: returns 0 and sets
  // `out` (and `truncated` when the file held more than max_bytes), or returns the errno.
  int read_at(int dir_fd, const char* relative, std::string_view& out,
              std::size_t max_bytes = std::numeric_limits<std::size_t>::max(),
              bool* truncated = nullptr) noexcept;

  // The whole open file `fd`, read with pread from offset 0: /proc regenerates a file read at
  // offset 0, so a /proc file kept open can be re-read with one syscall per sample. A short
  // read ends it (a /proc seq file fills the request when it can). Never throws: 0 or the errno.
  int reread(int fd, std::string_view& out) noexcept;

  std::size_t capacity() const { return buffer_.size(); }

private:
  int read_fd(int fd, std::string_view& out, std::size_t max_bytes, bool* truncated) noexcept;
  // Doubles the buffer when `used` bytes fill it; false when memory runs out.
  bool make_room(std::size_t used) noexcept;

  std::vector<char> buffer_; // size() is the capacity; only the prefix read is meaningful
};

} // namespace vigil::proc
