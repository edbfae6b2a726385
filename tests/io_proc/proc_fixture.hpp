#pragma once

// Fake /proc and /sys trees for the io/proc readers: files written under a temp directory that
// is then passed as the readers' root.

#include "tests/support/temp_directory.hpp"

#include <filesystem>
#include <string_view>

namespace vigil::test {

class proc_fixture {
public:
  const std::filesystem::path& root() const { return dir_.path(); }

  // Writes root/relative (creating directories), replacing any previous content.
  void write(std::string_view relative, std::string_view text) const {
    auto path = dir_.path() / relative;
    std::filesystem::create_directories(path.parent_path());
    rewrite_file(path, text);
  }

  void make_directory(std::string_view relative) const {
    std::filesystem::create_directories(dir_.path() / relative);
  }

  void remove(std::string_view relative) const {
    std::filesystem::remove_all(dir_.path() / relative);
  }

private:
  temp_directory dir_;
};

} // namespace vigil::test
