#pragma once

// The dedicated WebSocket ports of the seeds: live logs on api.ws_port (8755; paths /logs,
// /livelogs, /ws/logs and /) and telemetry on api.telemetry_ws_port (8756; /telemetry,
// /ws/telemetry, /ws and /). Beast on the runtime's Asio threads; each upgrade request becomes
// a message to this actor, which authenticates it with the current settings and starts a
// ws_session. The control port serves the same streams under /ws/logs and /ws/telemetry.

#include "actors/ws_session.hpp"
#include "io/http/http_message.hpp"
#include "messages/supervision.hpp"

#include <caf/typed_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <memory>

namespace boost::asio {
class io_context;
}

namespace vigil {

class http_server;

using ws_listener_actor =
    caf::typed_actor<caf::reacts_to<http_request, websocket_upgrade, ws_stream>, // INTERNAL
                     caf::reacts_to<atom::tick>, // INTERNAL: retry a port that was taken
                     configurable>;

struct ws_listener_state {
  boost::asio::io_context* io = nullptr;
  settings_ptr current;
  ws_session_options options;
  // Null while the port could not be bound (retried). shared_ptr: http_server stays an
  // incomplete type here.
  std::shared_ptr<http_server> live_logs;
  std::shared_ptr<http_server> telemetry;
  static inline const char* name = "ws_listener";
};

ws_listener_actor::behavior_type
ws_listener(ws_listener_actor::stateful_pointer<ws_listener_state> self,
            boost::asio::io_context* io, settings_ptr current, ws_session_options options = {});

} // namespace vigil
