#include "runtime/token_commands.hpp"

#include "io/system/host_info.hpp"
#include "io/system/secrets_file.hpp"

#include <nlohmann/json.hpp>

#include <array>
#include <cerrno>
#include <iostream>
#include <sys/random.h>
#include <system_error>

namespace vigil {

namespace {

std::string random_token() {
  std::array<unsigned char, 32> bytes{};
  if (getrandom(bytes.data(), bytes.size(), 0) != static_cast<ssize_t>(bytes.size()))
    throw std::system_error(errno, std::generic_category(), "getrandom for a token");
  static constexpr char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  unsigned bits = 0, value = 0;
  for (auto b : bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += alphabet[(value >> bits) & 63];
    }
  }
  if (bits > 0)
    out += alphabet[(value << (6 - bits)) & 63];
  return out; // 43 characters, no padding
}

int print_errors(const config_result& r) {
  for (auto& e : r.errors)
    std::cerr << "error: " << e << "\n";
  return 1;
}

} // namespace

std::string connect_host_for(const std::string& bind, const std::string& primary_ip) {
  if (bind == "0.0.0.0" || bind == "::")
    return primary_ip.empty() ? "127.0.0.1" : primary_ip;
  if (bind.find(':') != std::string::npos)
    return "[" + bind + "]";
  return bind;
}

int run_secret_new(const parsed_command_line& cl) {
  auto loaded = load_config(cl.config);
  if (!loaded.ok())
    return print_errors(loaded);
  auto& path = loaded.value->secrets_file;
  auto token = random_token();
  try {
    edit_secrets(path, [&](nlohmann::json& doc) {
      auto& tokens = doc["api"]["tokens"];
      if (!tokens.is_array())
        tokens = nlohmann::json::array();
      nlohmann::json entry{{"token", token}, {"scopes", {cl.token_scope}}};
      if (!cl.token_name.empty())
        entry["name"] = cl.token_name;
      tokens.push_back(std::move(entry));
    });
  } catch (const std::exception& e) {
    std::cerr << "vigil: " << e.what() << "\n";
    return 1;
  }
  std::cerr << "added a " << cl.token_scope << " token"
            << (cl.token_name.empty() ? "" : " for " + cl.token_name) << " to " << path
            << "; reload the agent (systemctl reload vigil) to use it. It is shown only now:\n";
  std::cout << token << "\n";
  return 0;
}

int run_connect_url(const parsed_command_line& cl) {
  auto loaded = load_config(cl.config);
  if (!loaded.ok())
    return print_errors(loaded);
  auto& s = *loaded.value;
  const api_token* chosen = nullptr;
  for (auto& t : s.api.tokens) {
    bool named = !cl.token_name.empty() && t.name == cl.token_name;
    bool readable = false;
    for (auto& scope : t.scopes)
      readable = readable || scope == "read" || scope == "control";
    if (named || (cl.token_name.empty() && readable)) {
      chosen = &t;
      break;
    }
  }
  if (!cl.token_name.empty() && !chosen) {
    std::cerr << "vigil: no token named '" << cl.token_name << "' in " << s.secrets_file << "\n";
    return 1;
  }
  if (!chosen && !s.api.tokens.empty()) {
    std::cerr << "vigil: no token with read scope; create one with 'vigil secret new'\n";
    return 1;
  }
  auto host = cl.connect_host.empty() ? connect_host_for(s.api.bind, read_host_info().primary_ip)
                                      : cl.connect_host;
  auto port = std::to_string(s.api.control_port);
  // Without tokens (only possible on loopback) the URL carries no secret.
  std::cout << "vigil://" << (chosen ? chosen->token + "@" : "") << host << ":" << port << "/\n";
  return 0;
}

} // namespace vigil
