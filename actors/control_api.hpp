#pragma once

// The control API: an HTTP server (Beast, on the runtime's Asio threads) whose
// requests become messages to this actor, which answers them from actor state or by
// asking other actors. Requests authenticate with bearer tokens (scope "read" for
// GET, "control" for changes) whenever tokens are configured.

#include "actors/ws_session.hpp"
#include "io/http/http_message.hpp"
#include "messages/supervision.hpp"

#include <caf/actor_cast.hpp>
#include <caf/actor_registry.hpp>
#include <caf/actor_system.hpp>
#include <caf/atom.hpp>
#include <caf/typed_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <memory>

namespace boost::asio {
class io_context;
}

namespace vigil {

class http_server;

/// What the control API needs from the runtime, which owns configuration handling.
struct control_api_hooks {
  std::function<nlohmann::json()> effective_config;              // redacted
  std::function<std::pair<int, nlohmann::json>()> reload_config; // status code, body
  // POST /api/config: a merge patch of the config file, validated, written, applied.
  std::function<std::pair<int, nlohmann::json>(const nlohmann::json&)> update_config;
};

using control_api_actor =
    caf::typed_actor<caf::reacts_to<http_request, http_responder>,    // INTERNAL: from the server
                     caf::reacts_to<http_request, websocket_upgrade>, // INTERNAL: /ws upgrades
                     configurable>;

struct control_api_state {
  settings_ptr current;
  control_api_hooks hooks;
  std::shared_ptr<http_server> server; // shared_ptr: http_server stays an incomplete type here
  std::chrono::steady_clock::time_point started;
  uint64_t requests = 0;
  uint64_t rejected = 0; // authentication failures
  static inline const char* name = "control_api";
};

control_api_actor::behavior_type
control_api(control_api_actor::stateful_pointer<control_api_state> self,
            boost::asio::io_context* io, settings_ptr current, control_api_hooks hooks);

/// For answers gathered from other actors (/status, /metrics): asks the actor registered as
/// `name` for its status, calls `got(status)` when it answers within 2 s, and then `next()` —
/// also right away when it is absent (not configured, restarting) and after a failure or
/// timeout, so such a part is left out of the answer.
template <class Handle, class Status, class Got, class Next>
void ask_status(control_api_actor::stateful_pointer<control_api_state> self, const char* name,
                Got got, Next next) {
  auto handle =
      caf::actor_cast<Handle>(self->home_system().registry().get(caf::atom_from_string(name)));
  if (!handle)
    return next();
  self->request(handle, std::chrono::seconds{2}, atom::status_v)
      .then(
          [=](const Status& x) {
            got(x);
            next();
          },
          [=](caf::error&) { next(); });
}

} // namespace vigil

// vigil::http_request is allowed in actors/ws_session.hpp (included above).
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(vigil::http_responder)
