#include "io/files/file_browser.hpp"

#include "io/logs/event_json.hpp"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <filesystem>
#include <memory>
#include <queue>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>

namespace vigil {

namespace {

class unique_fd {
public:
  explicit unique_fd(int fd)
      : fd_(fd) {}
  ~unique_fd() {
    if (fd_ >= 0)
      ::close(fd_);
  }
  unique_fd(const unique_fd&) = delete;
  unique_fd& operator=(const unique_fd&) = delete;

  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

private:
  int fd_;
};

struct dir_closer {
  void operator()(DIR* d) const { ::closedir(d); }
};

browse_error error(browse_error_kind kind, std::string detail) {
  return {kind, std::move(detail)};
}

// The resolved path, or the errno of realpath.
std::variant<std::string, int> real_path(const std::string& path) {
  std::unique_ptr<char, decltype(&std::free)> resolved{::realpath(path.c_str(), nullptr),
                                                       &std::free};
  if (!resolved)
    return errno;
  return std::string{resolved.get()};
}

// "/var/log/" → "/var/log", "/var/log/../tmp" → "/var/tmp"; "/" stays "/".
std::string lexically_normal(std::string_view path) {
  auto normal = std::filesystem::path{path}.lexically_normal().string();
  if (normal.size() > 1 && normal.back() == '/')
    normal.pop_back();
  return normal;
}

// `path` is `root` or below it: "/var/log2" is not below "/var/log".
bool is_within(std::string_view path, std::string_view root) {
  return path.substr(0, root.size()) == root &&
         (path.size() == root.size() || root.back() == '/' || path[root.size()] == '/');
}

bool is_within_any(std::string_view path, const std::vector<std::string>& roots) {
  return std::any_of(roots.begin(), roots.end(),
                     [&](const std::string& root) { return is_within(path, root); });
}

browse_error outside_roots(const std::vector<std::string>& roots) {
  if (roots.empty())
    return error(browse_error_kind::forbidden, "path: no roots are configured (api.file_roots)");
  std::string listed;
  for (const auto& root : roots)
    listed += (listed.empty() ? "" : ", ") + root;
  return error(browse_error_kind::forbidden, "path: outside the allowed roots (" + listed + ")");
}

// An errno from resolving, stat-ing or opening a path inside the roots.
browse_error failure(int err) {
  switch (err) {
  case ENOENT:
  case ENOTDIR:
    return error(browse_error_kind::not_found, "path: no such file or directory");
  case EACCES:
  case EPERM:
    return error(browse_error_kind::forbidden, "path: the agent is not allowed to read it");
  default:
    return error(browse_error_kind::io_error, std::string{"path: "} + std::strerror(err));
  }
}

browse_error changed_while_opening() {
  return error(browse_error_kind::forbidden, "path: changed while being opened; try again");
}

const char* special_kind(mode_t mode) {
  if (S_ISFIFO(mode))
    return "a FIFO";
  if (S_ISSOCK(mode))
    return "a socket";
  if (S_ISCHR(mode) || S_ISBLK(mode))
    return "a device";
  return "not a regular file";
}

browse_error not_regular(mode_t mode) {
  return error(browse_error_kind::not_regular,
               std::string{"path: "} + special_kind(mode) +
                   "; only regular files and directories can be read");
}

std::chrono::system_clock::time_point modified_time(const struct stat& st) {
  return std::chrono::system_clock::time_point{
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::seconds{st.st_mtim.tv_sec} + std::chrono::nanoseconds{st.st_mtim.tv_nsec})};
}

file_kind kind_of(mode_t mode) {
  if (S_ISREG(mode))
    return file_kind::file;
  if (S_ISDIR(mode))
    return file_kind::directory;
  if (S_ISLNK(mode))
    return file_kind::symlink;
  return file_kind::other;
}

// The length of `bytes` without a character whose first bytes end it (its rest lies beyond
// the window); all of it when nothing else would remain, so a reader always advances.
std::size_t without_split_character(std::string_view bytes) {
  auto n = bytes.size();
  for (std::size_t back = 1; back <= 3 && back <= n; ++back) {
    auto c = static_cast<unsigned char>(bytes[n - back]);
    if ((c & 0xC0) == 0x80)
      continue; // a continuation byte: the character starts further back
    std::size_t length = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    return length > back && back < n ? n - back : n;
  }
  return n;
}

browse_result list_directory(unique_fd& fd, const std::string& path, std::size_t max_entries) {
  std::unique_ptr<DIR, dir_closer> dir{::fdopendir(fd.get())};
  if (!dir)
    return failure(errno);
  fd.release(); // the DIR owns it now
  directory_listing listing;
  listing.path = to_valid_utf8(path);
  // The first max_entries names in byte order, in bounded memory however large the directory:
  // a max-heap whose top is the name to drop when a smaller one turns up.
  std::priority_queue<std::string> first_names;
  for (;;) {
    errno = 0; // readdir tells its end from an error only by errno
    auto* entry = ::readdir(dir.get());
    if (!entry && errno != 0)
      return failure(errno);
    if (!entry)
      break;
    std::string_view name = entry->d_name;
    if (name == "." || name == "..")
      continue;
    ++listing.total;
    if (first_names.size() < max_entries) {
      first_names.emplace(name);
    } else if (max_entries > 0 && name < first_names.top()) {
      first_names.pop();
      first_names.emplace(name);
    }
  }
  std::vector<std::string> names;
  names.reserve(first_names.size());
  for (; !first_names.empty(); first_names.pop())
    names.push_back(first_names.top());
  std::reverse(names.begin(), names.end());
  for (auto& name : names) {
    struct stat st {};
    if (::fstatat(::dirfd(dir.get()), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      --listing.total; // removed since it was read
      continue;
    }
    listing.entries.push_back({to_valid_utf8(name), kind_of(st.st_mode),
                               static_cast<uint64_t>(st.st_size), modified_time(st)});
  }
  listing.truncated = listing.total > listing.entries.size();
  return listing;
}

browse_result read_file(const unique_fd& fd, const struct stat& st, const std::string& path,
                        const browse_request& request) {
  file_chunk chunk;
  chunk.path = to_valid_utf8(path);
  chunk.size = static_cast<uint64_t>(st.st_size);
  chunk.modified = modified_time(st);
  if (request.offset >= 0) {
    chunk.offset = std::min(static_cast<uint64_t>(request.offset), chunk.size);
  } else {
    auto back = static_cast<uint64_t>(-(request.offset + 1)) + 1; // no overflow at INT64_MIN
    chunk.offset = back >= chunk.size ? 0 : chunk.size - back;
  }
  auto wanted = std::min(request.max_bytes, chunk.size - chunk.offset);
  std::string bytes(wanted, '\0');
  std::size_t got = 0;
  while (got < wanted) {
    auto n =
        ::pread(fd.get(), bytes.data() + got, wanted - got, static_cast<off_t>(chunk.offset + got));
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return failure(errno);
    if (n == 0)
      break; // shrunk since fstat
    got += static_cast<std::size_t>(n);
  }
  bytes.resize(got);
  bool more = got == wanted && chunk.offset + got < chunk.size;
  if (more)
    bytes.resize(without_split_character(bytes));
  chunk.next_offset = chunk.offset + bytes.size();
  chunk.eof = !more;
  chunk.text = to_valid_utf8(bytes);
  return chunk;
}

} // namespace

const char* to_string(file_kind kind) {
  switch (kind) {
  case file_kind::file:
    return "file";
  case file_kind::directory:
    return "directory";
  case file_kind::symlink:
    return "symlink";
  case file_kind::other:
    break;
  }
  return "other";
}

std::string to_valid_utf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (std::size_t i = 0; i < bytes.size();) {
    if (static_cast<unsigned char>(bytes[i]) < 0x80) {
      out += bytes[i++];
    } else if (auto n = utf8_sequence_length(bytes, i)) {
      out.append(bytes.substr(i, n));
      i += n;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

browse_result browse(const std::vector<std::string>& roots, const browse_request& request) {
  auto requested = request.path;
  if (requested.empty() || requested.front() != '/')
    return error(browse_error_kind::bad_request,
                 "path: must be absolute, not \"" + std::string{requested} + "\"");
  if (requested.find('\0') != std::string_view::npos)
    return error(browse_error_kind::bad_request, "path: contains a NUL byte");
  std::vector<std::string> resolved_roots;
  std::vector<std::string> written_roots;
  for (const auto& root : roots) {
    if (auto resolved = real_path(root); auto* path = std::get_if<std::string>(&resolved))
      resolved_roots.push_back(std::move(*path));
    written_roots.push_back(lexically_normal(root));
  }
  auto resolution = real_path(std::string{requested});
  if (auto* err = std::get_if<int>(&resolution)) {
    // Only a path inside a root as written may be reported missing: a 404 for one outside
    // would tell whether it exists.
    auto written = lexically_normal(requested);
    if (!is_within_any(written, written_roots) && !is_within_any(written, resolved_roots))
      return outside_roots(roots);
    return failure(*err);
  }
  const auto& resolved = std::get<std::string>(resolution);
  if (!is_within_any(resolved, resolved_roots))
    return outside_roots(roots);
  // Refused before opening: opening a device can have effects of its own.
  struct stat checked {};
  if (::stat(resolved.c_str(), &checked) != 0)
    return failure(errno);
  if (!S_ISREG(checked.st_mode) && !S_ISDIR(checked.st_mode))
    return not_regular(checked.st_mode);
  unique_fd fd{::open(resolved.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)};
  if (fd.get() < 0) // ELOOP: it became a symlink since realpath
    return errno == ELOOP ? changed_while_opening() : failure(errno);
  // O_NOFOLLOW guards only the last component: what was opened must still be what was
  // checked, at the same path (a parent directory swapped for a symlink since realpath).
  char opened_path[PATH_MAX];
  auto link = "/proc/self/fd/" + std::to_string(fd.get());
  auto length = ::readlink(link.c_str(), opened_path, sizeof opened_path);
  if (length < 0 || std::string_view{opened_path, static_cast<std::size_t>(length)} != resolved)
    return changed_while_opening();
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0)
    return failure(errno);
  if (S_ISDIR(st.st_mode))
    return list_directory(fd, resolved, request.max_entries);
  if (S_ISREG(st.st_mode))
    return read_file(fd, st, resolved, request);
  return not_regular(st.st_mode);
}

} // namespace vigil
