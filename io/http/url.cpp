#include "io/http/url.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace vigil {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

std::string to_lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

} // namespace

std::string percent_decode(std::string_view text, bool plus_as_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%' && i + 2 < text.size()) {
      int hi = hex_value(text[i + 1]);
      int lo = hex_value(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(plus_as_space && c == '+' ? ' ' : c);
  }
  return out;
}

std::map<std::string, std::string> parse_query_string(std::string_view query) {
  std::map<std::string, std::string> params;
  while (!query.empty()) {
    auto amp = query.find('&');
    auto pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty())
      continue;
    auto eq = pair.find('=');
    auto key = percent_decode(pair.substr(0, eq), true);
    auto value =
        eq == std::string_view::npos ? std::string{} : percent_decode(pair.substr(eq + 1), true);
    params[std::move(key)] = std::move(value);
  }
  return params;
}

std::optional<parsed_url> parse_url(std::string_view url) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos)
    return std::nullopt;
  parsed_url out;
  out.scheme = to_lower(url.substr(0, scheme_end));
  if (out.scheme == "http")
    out.port = 80;
  else if (out.scheme == "https")
    out.port = 443;
  else
    return std::nullopt;
  auto rest = url.substr(scheme_end + 3);
  auto path_start = rest.find_first_of("/?#");
  auto authority = rest.substr(0, path_start);
  auto target = path_start == std::string_view::npos ? std::string_view{} : rest.substr(path_start);
  // Credentials in URLs are not supported: they would leak into logs.
  if (authority.find('@') != std::string_view::npos)
    return std::nullopt;
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos)
      return std::nullopt;
    out.host = std::string(authority.substr(1, close - 1));
    auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':')
        return std::nullopt;
      port_text = after.substr(1);
    }
  } else {
    auto colon = authority.rfind(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos)
      port_text = authority.substr(colon + 1);
  }
  if (out.host.empty())
    return std::nullopt;
  if (!port_text.empty()) {
    unsigned value = 0;
    auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (ec != std::errc{} || ptr != port_text.data() + port_text.size() || value == 0 ||
        value > 65535)
      return std::nullopt;
    out.port = static_cast<std::uint16_t>(value);
  }
  auto fragment = target.find('#');
  target = target.substr(0, fragment);
  out.target = target.empty() ? "/" : std::string(target);
  if (out.target.front() == '?')
    out.target.insert(out.target.begin(), '/');
  return out;
}

} // namespace vigil
