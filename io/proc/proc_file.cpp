#include "io/proc/proc_file.hpp"

#include <cerrno>
#include <fcntl.h>
#include <system_error>
#include <unistd.h>

namespace vigil::proc {

std::string path_under(const std::filesystem::path& root, std::string_view relative) {
  std::string path = root.string();
  while (!relative.empty() && relative.front() == '/')
    relative.remove_prefix(1);
  if (path.empty() || path.back() != '/')
    path += '/';
  path += relative;
  return path;
}

proc_file_reader::proc_file_reader(std::size_t initial_capacity)
    : buffer_(initial_capacity < 64 ? 64 : initial_capacity) {}

int proc_file_reader::read_fd(int fd, std::string_view& out, std::size_t max_bytes,
                              bool* truncated) noexcept {
  std::size_t used = 0;
  if (truncated)
    *truncated = false;
  for (;;) {
    if (used == max_bytes) {
      // Full: one more byte tells whether the file held more.
      char probe;
      ssize_t n;
      do
        n = ::read(fd, &probe, 1);
      while (n < 0 && errno == EINTR);
      if (truncated && n > 0)
        *truncated = true;
      break;
    }
    if (!make_room(used))
      return ENOMEM;
    std::size_t want = buffer_.size() - used;
    if (want > max_bytes - used)
      want = max_bytes - used;
    ssize_t n = ::read(fd, buffer_.data() + used, want);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return errno;
    }
    if (n == 0)
      break;
    used += static_cast<std::size_t>(n);
  }
  out = std::string_view{buffer_.data(), used};
  return 0;
}

bool proc_file_reader::make_room(std::size_t used) noexcept {
  if (used < buffer_.size())
    return true;
  try {
    buffer_.resize(buffer_.size() * 2);
    return true;
  } catch (...) {
    return false;
  }
}

int proc_file_reader::read_at(int dir_fd, const char* relative, std::string_view& out,
                              std::size_t max_bytes, bool* truncated) noexcept {
  int fd;
  do
    fd = ::openat(dir_fd, relative, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  while (fd < 0 && errno == EINTR);
  if (fd < 0)
    return errno;
  int error = read_fd(fd, out, max_bytes, truncated);
  ::close(fd);
  return error;
}

int proc_file_reader::reread(int fd, std::string_view& out) noexcept {
  std::size_t used = 0;
  for (;;) {
    if (!make_room(used))
      return ENOMEM;
    std::size_t want = buffer_.size() - used;
    ssize_t n = ::pread(fd, buffer_.data() + used, want, static_cast<off_t>(used));
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return errno;
    }
    used += static_cast<std::size_t>(n);
    if (static_cast<std::size_t>(n) < want)
      break; // saves the second syscall that would return 0
  }
  out = std::string_view{buffer_.data(), used};
  return 0;
}

std::optional<std::string_view> proc_file_reader::read_if_exists(const std::string& path) {
  std::string_view out;
  int error = read_at(AT_FDCWD, path.c_str(), out);
  if (error == 0)
    return out;
  if (error == ENOENT || error == ENOTDIR || error == ESRCH)
    return std::nullopt;
  throw std::system_error(error, std::generic_category(), "cannot read " + path);
}

std::string_view proc_file_reader::read(const std::string& path) {
  std::string_view out;
  int error = read_at(AT_FDCWD, path.c_str(), out);
  if (error != 0)
    throw std::system_error(error, std::generic_category(), "cannot read " + path);
  return out;
}

} // namespace vigil::proc
