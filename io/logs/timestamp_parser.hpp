#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace vigil {

using log_time = std::chrono::sys_time<std::chrono::milliseconds>;

// How to read a timestamp that carries no zone (RFC 3164, "2024-01-15 10:30:45").
enum class naive_time_zone { utc, local };

// Recognises the timestamp a log line starts with:
//   RFC 5424   "<34>1 2024-01-15T10:30:45.123Z host ..."
//   RFC 3339 / ISO 8601 "2024-01-15T10:30:45Z", "2024-01-15 10:30:45,123", "...+02:00",
//              also "2024/01/15 10:30:45" (nginx error log) and a leading '['
//   RFC 3164   "Jan  5 10:30:45" (optionally after "<PRI>"), year taken from `now`
//   Common Log Format "host - - [15/Jan/2024:10:30:45 +0000] ..." within the first 128 bytes
class timestamp_parser {
public:
  explicit timestamp_parser(naive_time_zone zone = naive_time_zone::utc)
      : zone_(zone) {}

  // `now` infers the RFC 3164 year: a date more than a week ahead of now is last year's (a
  // December line read in January). nullopt when no supported timestamp starts the line.
  std::optional<log_time> parse(std::string_view line, log_time now) const;

private:
  naive_time_zone zone_;
};

enum class timestamp_precision { seconds, milliseconds };

// "2024-01-15T10:30:45Z" (or "2024-01-15T10:30:45.123Z"): the payload's `timestamp` format.
std::string format_iso8601_utc(log_time time,
                               timestamp_precision precision = timestamp_precision::seconds);

} // namespace vigil
