#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace vigil::test {

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it.
class temp_directory {
public:
  temp_directory() {
    auto base = std::filesystem::temp_directory_path() / "vigil-test-XXXXXX";
    std::string name = base.string();
    if (!::mkdtemp(name.data()))
      throw std::runtime_error("mkdtemp failed for " + name);
    path_ = name;
  }
  ~temp_directory() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  temp_directory(const temp_directory&) = delete;
  temp_directory& operator=(const temp_directory&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(std::string_view name) const { return path_ / name; }

private:
  std::filesystem::path path_;
};

inline void append_file(const std::filesystem::path& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::app);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  if (!out)
    throw std::runtime_error("cannot append to " + path.string());
}

// Truncates and rewrites in place: same inode, new content.
inline void rewrite_file(const std::filesystem::path& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  if (!out)
    throw std::runtime_error("cannot write " + path.string());
}

} // namespace vigil::test
