#pragma once

// What supervisors exchange: child state for /status, and their typed interface.

#include "messages/atoms.hpp"
#include "messages/settings.hpp"

#include <caf/actor.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace vigil {

/// One supervised child as /status shows it. Supervisors nest, so do statuses.
struct child_status {
  std::string name;
  std::string state; // "running", "restarting", "failed" (given up), "stopped"
  uint32_t restarts = 0;
  std::string last_error;
  std::vector<child_status> children;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, child_status& x) {
  return f(caf::meta::type_name("child_status"), x.name, x.state, x.restarts, x.last_error,
           x.children);
}

enum class restart_policy : uint8_t {
  permanent, // always restarted
  transient, // restarted only after an abnormal exit
};

/// How to start (and restart) a child. `start` spawns it with the current settings.
struct child_spec {
  std::string name;
  std::function<caf::actor(caf::actor_system&, const settings_ptr&)> start;
  restart_policy policy = restart_policy::permanent;
  bool is_supervisor = false; // its status and fault-injection paths nest below it
};

using child_spec_ptr = std::shared_ptr<const child_spec>;

/// Every long-lived vigil actor accepts new settings through this message.
using configurable = caf::reacts_to<atom::configure, settings_ptr>;

using supervisor_actor = caf::typed_actor<
    // The state of every child, recursively.
    caf::replies_to<atom::status>::with<std::vector<child_status>>,
    // Fault injection: crash the child at a '/'-separated path ("sources/tailer-1").
    // Refused unless the agent runs with --enable-fault-injection.
    caf::replies_to<atom::crash, std::string>::with<std::string>,
    // Add a child at run time (e.g. a tailer for a newly matched file); replaced if the name
    // exists.
    caf::replies_to<atom::add_child, child_spec_ptr>::with<caf::actor>,
    // Stop and forget a child (e.g. a file that no longer exists).
    caf::reacts_to<atom::stop_child, std::string>,
    // INTERNAL: a backoff elapsed; restart the child if its generation still matches.
    caf::reacts_to<atom::restart, std::string, uint64_t>, configurable>;

} // namespace vigil

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(vigil::child_spec_ptr)
