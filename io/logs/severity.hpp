#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace vigil {

// Ordered: a line's severity is the highest level any of its severity words maps to.
enum class severity : std::uint8_t { info = 0, warn = 1, error = 2, failure = 3, critical = 4 };

constexpr std::string_view to_string(severity level) noexcept {
  switch (level) {
  case severity::info:
    return "info";
  case severity::warn:
    return "warn";
  case severity::error:
    return "error";
  case severity::failure:
    return "failure";
  case severity::critical:
    return "critical";
  }
  return "info";
}

constexpr std::optional<severity> severity_from_string(std::string_view name) noexcept {
  for (auto level :
       {severity::info, severity::warn, severity::error, severity::failure, severity::critical})
    if (to_string(level) == name)
      return level;
  return std::nullopt;
}

} // namespace vigil
