#include "actors/ws_listener.hpp"

#include "io/http/http_server.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

namespace vigil {

namespace {

using namespace std::chrono_literals;
using listener_pointer = ws_listener_actor::stateful_pointer<ws_listener_state>;

// A port that is taken (another agent, a leftover process) is retried this often instead of
// crash-looping the actor: the control port's /ws paths keep serving both streams meanwhile.
constexpr auto rebind_interval = 30s;

std::shared_ptr<http_server> listen(boost::asio::io_context& io, ws_listener_actor hdl,
                                    const settings& s, ws_stream kind) {
  bool telemetry = kind == ws_stream::telemetry;
  auto opts = api_server_options(s, telemetry ? s.api.telemetry_ws_port : s.api.ws_port);
  opts.websocket_paths = telemetry
                             ? std::set<std::string>{"/", "/telemetry", "/ws", "/ws/telemetry"}
                             : std::set<std::string>{"/", "/logs", "/livelogs", "/ws", "/ws/logs"};
  auto name = std::string{ws_stream_name(kind)};
  try {
    auto server = std::make_shared<http_server>(
        io, opts,
        [name](http_request, http_responder respond) {
          respond(json_error_response(426, "upgrade required",
                                      "this port serves the " + name + " WebSocket stream"));
        },
        // Runs on an Asio thread: hand the upgrade to the actor, never touch `self` here.
        [hdl, kind](http_request req, websocket_upgrade upgrade) {
          caf::anon_send(hdl, std::move(req), std::move(upgrade), kind);
        });
    spdlog::info("{} WebSocket listening on ws://{}:{}", telemetry ? "telemetry" : "live logs",
                 server->bind_address(), server->port());
    return server;
  } catch (const http_bind_error& e) {
    spdlog::error("{} WebSocket: {}; retrying every {}s (the control port serves /ws/{})",
                  telemetry ? "telemetry" : "live logs", e.what(), rebind_interval.count(),
                  telemetry ? "telemetry" : "logs");
    return nullptr;
  }
}

void bind_missing(listener_pointer self) {
  auto& st = self->state;
  auto hdl = caf::actor_cast<ws_listener_actor>(self);
  if (!st.live_logs)
    st.live_logs = listen(*st.io, hdl, *st.current, ws_stream::live_logs);
  if (!st.telemetry)
    st.telemetry = listen(*st.io, hdl, *st.current, ws_stream::telemetry);
  if (!st.live_logs || !st.telemetry)
    self->delayed_send(self, rebind_interval, atom::tick_v);
}

} // namespace

ws_listener_actor::behavior_type
ws_listener(ws_listener_actor::stateful_pointer<ws_listener_state> self,
            boost::asio::io_context* io, settings_ptr current, ws_session_options options) {
  auto& st = self->state;
  st.io = io;
  st.current = std::move(current);
  st.options = options;
  bind_missing(self);
  // The servers stop (closing every session of these ports: their actors end on the close
  // callback) when the state is destroyed with this actor.
  return {
      [=](http_request& req, websocket_upgrade& upgrade, ws_stream kind) {
        start_ws_session(self->home_system(), self->state.current, kind, req, upgrade,
                         self->state.options);
      },
      [=](atom::tick) { bind_missing(self); },
      [=](atom::configure, settings_ptr& s) { self->state.current = std::move(s); },
  };
}

} // namespace vigil
