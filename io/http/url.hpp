#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace vigil {

// Decodes %XX escapes; with plus_as_space also '+' (query strings only). Malformed escapes are
// kept literally rather than rejected: a lenient decoder never loses the rest of the string.
std::string percent_decode(std::string_view text, bool plus_as_space);

// "a=1&b=x%20y&flag" -> {a:1, b:"x y", flag:""}; the last value wins on repeated keys.
std::map<std::string, std::string> parse_query_string(std::string_view query);

struct parsed_url {
  std::string scheme; // "http" or "https", lower-case
  std::string host;   // without brackets for IPv6 literals
  std::uint16_t port = 0;
  std::string target; // path + query, at least "/"
};

// Absolute http(s) URL -> parts; nullopt when the scheme is not http/https or the URL is malformed.
std::optional<parsed_url> parse_url(std::string_view url);

} // namespace vigil
