#pragma once

// A one-for-one supervisor: monitors its children, restarts a crashed one after an
// exponential backoff, and gives up on a child that crashes more than
// supervision.max_restarts times within supervision.window — the child is then
// reported as "failed" in /status and the logs instead of looping silently.
// On shutdown it stops its children one by one in reverse start order, so that
// producers stop (and flush) before the consumers they feed.

#include "messages/supervision.hpp"

#include <caf/fwd.hpp>
#include <caf/timestamp.hpp>

#include <deque>
#include <string>
#include <vector>

namespace vigil {

struct supervisor_state {
  struct child {
    child_spec_ptr spec;
    caf::actor handle; // null while a restart is pending, after giving up, or stopped
    std::deque<caf::timestamp> crashes; // within the intensity window
    uint32_t restarts = 0;
    std::string state = "running";
    std::string last_error;
    uint64_t generation = 0; // invalidates pending restarts of a replaced child
  };
  std::string label;
  std::vector<child> children; // in start order
  settings_ptr current;
  bool shutting_down = false;
  caf::error exit_reason;
  static inline const char* name = "supervisor";
};

using supervisor_pointer = supervisor_actor::stateful_pointer<supervisor_state>;

supervisor_actor::behavior_type supervisor(supervisor_pointer self, std::string label,
                                           std::vector<child_spec_ptr> children,
                                           settings_ptr current);

} // namespace vigil
