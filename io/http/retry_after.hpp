#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace vigil {

// Retry-After header value -> how long to wait. Accepts delay-seconds ("120") and HTTP-date in
// all three RFC 9110 forms (IMF-fixdate, RFC 850, asctime). A date in the past gives 0 s.
// nullopt when the value is neither.
std::optional<std::chrono::seconds>
parse_retry_after(std::string_view value,
                  std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

// HTTP-date -> time point; nullopt when malformed.
std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view text);

} // namespace vigil
