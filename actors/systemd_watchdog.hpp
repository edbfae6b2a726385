#pragma once

// Pings systemd's watchdog (WATCHDOG=1) from inside the actor system, at half the
// WatchdogSec= interval. The ping is a scheduled message like any other, so a wedged
// scheduler stops the pings and systemd restarts the agent.

#include "messages/supervision.hpp"

#include <caf/typed_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <chrono>
#include <cstdint>

namespace vigil {

using systemd_watchdog_actor =
    caf::typed_actor<caf::reacts_to<atom::tick>,                    // INTERNAL: time to ping
                     caf::replies_to<atom::status>::with<uint64_t>, // pings sent so far
                     configurable>;

struct systemd_watchdog_state {
  std::chrono::microseconds interval{0};
  uint64_t pings = 0;
  static inline const char* name = "systemd_watchdog";
};

systemd_watchdog_actor::behavior_type
systemd_watchdog(systemd_watchdog_actor::stateful_pointer<systemd_watchdog_state> self,
                 std::chrono::microseconds interval);

} // namespace vigil
