#pragma once

#include <filesystem>
#include <stdlib.h>
#include <string>

namespace vigil::test {

/// A fresh directory under /tmp, removed with everything in it at scope exit.
class temp_dir {
public:
  temp_dir() {
    char tmpl[] = "/tmp/vigil-test-XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

private:
  std::string path_;
};

} // namespace vigil::test
