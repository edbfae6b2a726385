#pragma once

#include <cstdint>
#include <optional>

namespace vigil::proc {

// Increase of a monotonic kernel counter between two readings. Some counters are 32-bit
// (diskstats times in ms, many NIC drivers' byte counters) and wrap at 2^32: a counter that went
// backwards from a value that fits in 32 bits is taken as one wrap when the wrapped increase is
// plausible (below 2^31). Anything else that went backwards is a reset (device re-created,
// statistics cleared, 64-bit wrap): std::nullopt, the interval has no value.
inline std::optional<std::uint64_t> counter_delta(std::uint64_t previous, std::uint64_t current) {
  if (current >= previous)
    return current - previous;
  constexpr std::uint64_t max32 = 0xffffffffu;
  if (previous <= max32) {
    std::uint64_t wrapped = (max32 - previous) + current + 1;
    if (wrapped < (std::uint64_t{1} << 31))
      return wrapped;
  }
  return std::nullopt;
}

} // namespace vigil::proc
