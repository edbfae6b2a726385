#pragma once

// Allocation-free tokenizing and number parsing for /proc text (internal to io/proc).

#include <charconv>
#include <cstddef>
#include <string_view>
#include <system_error>

namespace vigil::proc::detail {

inline bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// Pops the next line (without its '\n') off `text`.
inline std::string_view next_line(std::string_view& text) {
  auto nl = text.find('\n');
  auto line = text.substr(0, nl);
  text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
  return line;
}

// Pops the next blank-separated token off `text`; empty when none is left.
inline std::string_view next_token(std::string_view& text) {
  std::size_t i = 0;
  while (i < text.size() && is_blank(text[i]))
    ++i;
  std::size_t j = i;
  while (j < text.size() && !is_blank(text[j]))
    ++j;
  auto token = text.substr(i, j - i);
  text.remove_prefix(j);
  return token;
}

inline std::string_view trim(std::string_view text) {
  while (!text.empty() && is_blank(text.front()))
    text.remove_prefix(1);
  while (!text.empty() && is_blank(text.back()))
    text.remove_suffix(1);
  return text;
}

// The whole token must be a number.
template <class T>
bool parse_integer(std::string_view token, T& out, int base = 10) {
  if (token.empty())
    return false;
  auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), out, base);
  return ec == std::errc{} && end == token.data() + token.size();
}

inline bool parse_double(std::string_view token, double& out) {
  if (token.empty())
    return false;
  auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), out);
  return ec == std::errc{} && end == token.data() + token.size();
}

template <class T>
bool next_integer(std::string_view& text, T& out) {
  return parse_integer(next_token(text), out);
}

} // namespace vigil::proc::detail
