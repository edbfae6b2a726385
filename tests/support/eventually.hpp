#pragma once

// Waits for a condition that other threads (actors, child processes) bring about: polls
// `done` every 20 ms until it holds or `limit` passes; returns whether it held.

#include <chrono>
#include <functional>
#include <thread>

namespace vigil::test {

inline bool eventually(const std::function<bool()>& done,
                       std::chrono::seconds limit = std::chrono::seconds{30}) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done())
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
  return done();
}

} // namespace vigil::test
