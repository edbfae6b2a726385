#include "io/system/atomic_file.hpp"

#include <cerrno>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <sys/stat.h>
#include <system_error>
#include <unistd.h>

namespace vigil {

void write_file_atomically(const std::string& path, std::string_view text, mode_t mode) {
  std::filesystem::path target{path};
  auto dir = target.parent_path();
  if (dir.empty())
    dir = ".";
  std::string temp = (dir / ("." + target.filename().string() + ".XXXXXX")).string();
  int fd = ::mkostemp(temp.data(), O_CLOEXEC); // created 0600
  if (fd < 0)
    throw std::system_error(errno, std::generic_category(),
                            path + ": cannot create a temporary file");
  auto written = ::write(fd, text.data(), text.size());
  bool ok =
      written == static_cast<ssize_t>(text.size()) && ::fchmod(fd, mode) == 0 && ::fsync(fd) == 0;
  int saved = errno;
  ::close(fd);
  if (!ok || ::rename(temp.c_str(), path.c_str()) != 0) {
    saved = ok ? errno : saved;
    ::unlink(temp.c_str());
    throw std::system_error(saved, std::generic_category(), path + ": cannot write");
  }
}

} // namespace vigil
