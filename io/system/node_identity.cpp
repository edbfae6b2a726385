#include "io/system/node_identity.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <fcntl.h>
#include <fstream>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <optional>
#include <sstream>
#include <sys/random.h>
#include <system_error>
#include <unistd.h>

namespace vigil {

namespace {

// Application key for the machine-id derivation; changing it changes every node id.
constexpr std::string_view app_key = "vigil-node-id-v1";

using uuid_bytes = std::array<unsigned char, 16>;

std::string format_uuid(uuid_bytes b) {
  b[6] = (b[6] & 0x0f) | 0x40; // version 4 layout, as sd_id128_make_v4_uuid does
  b[8] = (b[8] & 0x3f) | 0x80; // RFC 4122 variant
  char out[37];
  std::snprintf(out, sizeof out,
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
                b[15]);
  return out;
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r'))
    s.pop_back();
  return s;
}

std::optional<uuid_bytes> derive_from_machine_id(const std::string& path) {
  std::ifstream in{path};
  std::string id;
  if (!in || !std::getline(in, id))
    return std::nullopt;
  id = trim(id);
  if (id.size() != 32 || id.find_first_not_of("0123456789abcdef") != std::string::npos)
    return std::nullopt;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), id.data(), static_cast<int>(id.size()),
       reinterpret_cast<const unsigned char*>(app_key.data()), app_key.size(), mac, &len);
  uuid_bytes b{};
  std::copy_n(mac, b.size(), b.begin());
  return b;
}

uuid_bytes random_uuid() {
  uuid_bytes b{};
  if (getrandom(b.data(), b.size(), 0) != static_cast<ssize_t>(b.size()))
    throw std::system_error(errno, std::generic_category(), "getrandom for the node id");
  return b;
}

// Writes via a temporary file and rename so a crash never leaves a half-written id.
void write_atomically(const std::string& path, const std::string& text) {
  auto tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    throw std::system_error(errno, std::generic_category(), "cannot create " + tmp);
  auto ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
            ::fsync(fd) == 0;
  auto err = errno;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    err = ok ? errno : err;
    ::unlink(tmp.c_str());
    throw std::system_error(err, std::generic_category(), "cannot write " + path);
  }
}

} // namespace

bool is_uuid(const std::string& s) {
  if (s.size() != 36)
    return false;
  for (size_t i = 0; i < s.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !std::isxdigit(static_cast<unsigned char>(s[i])) || std::isupper(s[i]))
      return false;
  }
  return true;
}

std::string load_or_create_node_id(const std::string& state_dir,
                                   const std::string& machine_id_path) {
  auto path = state_dir + "/node_id";
  if (std::ifstream in{path}) {
    std::string id;
    std::getline(in, id);
    id = trim(id);
    if (is_uuid(id))
      return id;
    // A damaged file is replaced rather than trusted: an id must be a UUID.
  } else if (errno != ENOENT) {
    throw std::system_error(errno, std::generic_category(), "cannot read " + path);
  }
  auto bytes = derive_from_machine_id(machine_id_path);
  auto id = format_uuid(bytes ? *bytes : random_uuid());
  write_atomically(path, id + "\n");
  return id;
}

} // namespace vigil
