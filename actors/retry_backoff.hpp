#pragma once

// The delay before the next attempt of a delivery that failed `failures` times in a row:
// exponential from `initial` up to `max`, with full jitter between half and all of the step,
// so many agents that lost the same receiver do not come back in lockstep.

#include <chrono>
#include <cstdint>
#include <random>

namespace vigil {

inline std::chrono::milliseconds retry_backoff(std::chrono::milliseconds initial,
                                               std::chrono::milliseconds max, uint32_t failures) {
  auto step = initial;
  for (uint32_t i = 1; i < failures && step < max; ++i)
    step *= 2;
  step = std::min(step, max);
  static thread_local std::minstd_rand rng{std::random_device{}()};
  std::uniform_int_distribution<int64_t> jitter{step.count() / 2, step.count()};
  return std::chrono::milliseconds{jitter(rng)};
}

} // namespace vigil
