#pragma once

// The JSON body of an error event as consumers of the seed daemon's queue expect it:
// its six fields exactly (timestamp, system_ip, log_path, application, log_line,
// severity) plus id, node_id, hostname, line_number and offset. Hand-written because
// it is on the hot path: one append per error line, no intermediate DOM.

#include <cstdint>
#include <string>
#include <string_view>

namespace vigil {

struct error_event_fields {
  std::string_view id;
  std::string_view timestamp; // ISO 8601 UTC, e.g. 2024-01-15T10:30:45Z
  std::string_view system_ip;
  std::string_view log_path;
  std::string_view application;
  std::string_view log_line;
  std::string_view severity;
  std::string_view node_id;
  std::string_view hostname;
  uint64_t line_number = 0;
  uint64_t offset = 0;
};

/// Appends the event as one JSON object to `out`.
void append_event_json(std::string& out, const error_event_fields& e);

/// Appends `text` as a JSON string literal; invalid UTF-8 becomes U+FFFD so the body
/// always parses.
void append_json_string(std::string& out, std::string_view text);

// Length of the valid UTF-8 sequence starting at s[i] (2 to 4), or 0 when it is invalid or
// s[i] is ASCII.
std::size_t utf8_sequence_length(std::string_view s, std::size_t i);

} // namespace vigil
