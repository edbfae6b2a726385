// SHA-256 through OpenSSL's low-level interface (deprecated in 3.0, still provided): the EVP
// interface initializes OpenSSL's providers, ≈2 MB that would stay resident for the agent's
// life only to derive this id once.
#define OPENSSL_SUPPRESS_DEPRECATED

#include "io/system/node_identity.hpp"

#include "io/system/atomic_file.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <fstream>
#include <openssl/sha.h>
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

// HMAC-SHA256 (RFC 2104) for a key of at most one block, as HMAC(EVP_sha256(), ...) computes.
std::array<unsigned char, SHA256_DIGEST_LENGTH> hmac_sha256(std::string_view key,
                                                            std::string_view message) {
  constexpr std::size_t block = SHA256_CBLOCK;
  std::array<unsigned char, block> inner_pad{};
  std::array<unsigned char, block> outer_pad{};
  std::copy(key.begin(), key.end(), inner_pad.begin()); // key.size() <= block
  outer_pad = inner_pad;
  for (auto& b : inner_pad)
    b ^= 0x36;
  for (auto& b : outer_pad)
    b ^= 0x5c;
  std::array<unsigned char, SHA256_DIGEST_LENGTH> inner{};
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, inner_pad.data(), inner_pad.size());
  SHA256_Update(&ctx, message.data(), message.size());
  SHA256_Final(inner.data(), &ctx);
  std::array<unsigned char, SHA256_DIGEST_LENGTH> mac{};
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, outer_pad.data(), outer_pad.size());
  SHA256_Update(&ctx, inner.data(), inner.size());
  SHA256_Final(mac.data(), &ctx);
  return mac;
}

std::optional<uuid_bytes> derive_from_machine_id(const std::string& path) {
  std::ifstream in{path};
  std::string id;
  if (!in || !std::getline(in, id))
    return std::nullopt;
  id = trim(id);
  if (id.size() != 32 || id.find_first_not_of("0123456789abcdef") != std::string::npos)
    return std::nullopt;
  auto mac = hmac_sha256(id, app_key); // the 32 hex digits are the key
  uuid_bytes b{};
  std::copy_n(mac.begin(), b.size(), b.begin());
  return b;
}

uuid_bytes random_uuid() {
  uuid_bytes b{};
  if (getrandom(b.data(), b.size(), 0) != static_cast<ssize_t>(b.size()))
    throw std::system_error(errno, std::generic_category(), "getrandom for the node id");
  return b;
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
  write_file_atomically(path, id + "\n", 0644);
  return id;
}

} // namespace vigil
