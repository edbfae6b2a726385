#include "io/logs/event_json.hpp"

namespace vigil {

namespace {

void append_field(std::string& out, std::string_view key, std::string_view value) {
  out += '"';
  out += key;
  out += "\":";
  append_json_string(out, value);
  out += ',';
}

} // namespace

size_t utf8_sequence_length(std::string_view s, size_t i) {
  auto c = static_cast<unsigned char>(s[i]);
  size_t n = c < 0xC2 ? 0 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : c < 0xF5 ? 4 : 0;
  if (n == 0 || i + n > s.size())
    return 0;
  for (size_t k = 1; k < n; ++k)
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80)
      return 0;
  auto c1 = static_cast<unsigned char>(s[i + 1]);
  if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 > 0x9F) || (c == 0xF0 && c1 < 0x90) ||
      (c == 0xF4 && c1 > 0x8F))
    return 0; // overlong, surrogate or beyond U+10FFFF
  return n;
}

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out += '"';
  size_t run = 0; // start of the pending run of bytes that need no escaping
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
      ++i;
      continue;
    }
    if (c >= 0x80) {
      if (auto n = utf8_sequence_length(s, i)) {
        i += n;
        continue;
      }
    }
    out.append(s.data() + run, i - run);
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\r':
      out += "\\r";
      break;
    case '\t':
      out += "\\t";
      break;
    default:
      if (c < 0x20) {
        out += "\\u00";
        out += hex[c >> 4];
        out += hex[c & 0xF];
      } else {
        out += "\xEF\xBF\xBD"; // U+FFFD for a byte that is not valid UTF-8
      }
    }
    run = ++i;
  }
  out.append(s.data() + run, s.size() - run);
  out += '"';
}

void append_event_json(std::string& out, const error_event_fields& e) {
  out += '{';
  append_field(out, "timestamp", e.timestamp);
  append_field(out, "system_ip", e.system_ip);
  append_field(out, "log_path", e.log_path);
  append_field(out, "application", e.application);
  append_field(out, "log_line", e.log_line);
  append_field(out, "severity", e.severity);
  append_field(out, "id", e.id);
  append_field(out, "node_id", e.node_id);
  append_field(out, "hostname", e.hostname);
  out += "\"line_number\":";
  out += std::to_string(e.line_number);
  out += ",\"offset\":";
  out += std::to_string(e.offset);
  out += '}';
}

} // namespace vigil
