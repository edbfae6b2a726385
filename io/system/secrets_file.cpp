#include "io/system/secrets_file.hpp"

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <sys/stat.h>
#include <unistd.h>

namespace vigil {

namespace {

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw std::runtime_error(path + ": " + what);
}

} // namespace

void write_secret(const std::string& path, const std::vector<std::string>& key_path,
                  const std::string& value) {
  nlohmann::json doc = nlohmann::json::object();
  if (std::ifstream in{path}) {
    std::stringstream text;
    text << in.rdbuf();
    doc = nlohmann::json::parse(text.str(), nullptr, false, /*ignore_comments=*/true);
    if (!doc.is_object())
      fail(path, "not a JSON object; secret not written");
  }
  auto* node = &doc;
  for (auto& key : key_path) {
    if (!node->contains(key) || !(*node)[key].is_object())
      (*node)[key] = key == key_path.back() ? nlohmann::json{} : nlohmann::json::object();
    node = &(*node)[key];
  }
  *node = value;
  auto text = doc.dump(2) + "\n";

  auto dir = std::filesystem::path{path}.parent_path();
  if (dir.empty())
    dir = ".";
  std::string temp = (dir / ".secrets.XXXXXX").string();
  int fd = ::mkstemp(temp.data()); // created 0600
  if (fd < 0)
    fail(path, std::string{"cannot create a temporary file: "} + std::strerror(errno));
  auto written = ::write(fd, text.data(), text.size());
  bool ok =
      written == static_cast<ssize_t>(text.size()) && ::fchmod(fd, 0600) == 0 && ::fsync(fd) == 0;
  int saved = errno;
  ::close(fd);
  if (!ok || ::rename(temp.c_str(), path.c_str()) != 0) {
    saved = ok ? errno : saved;
    ::unlink(temp.c_str());
    fail(path, std::string{"cannot write: "} + std::strerror(saved));
  }
}

} // namespace vigil
