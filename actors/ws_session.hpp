#pragma once

// One actor per connected WebSocket client (docs/websocket-protocol.md). It wraps an
// io/http websocket_session, whose callbacks (on an Asio thread) only anon_send to it.
//
// - telemetry: subscribed to the telemetry feed; keeps only the latest snapshot and sends it
//   every `interval` (1–3600 s, default 3 s, set by the client), and only when the previous
//   one has left the connection's queue — a slow client gets fewer snapshots, never a backlog.
// - live logs: subscribed to the live logs hub with the client's filter; every matching event
//   of a committed batch goes into the connection's bounded drop-oldest queue; the client is
//   told {"type":"dropped","count":N}, and a client that keeps losing messages for longer than
//   `stuck_limit` is closed with a reason. Each session has its own queue, so one slow client
//   never delays another.

#include "actors/live_log_hub.hpp"
#include "io/http/http_message.hpp"
#include "io/http/http_server.hpp"
#include "io/http/websocket_session.hpp"
#include "messages/telemetry.hpp"

#include <caf/actor_system.hpp>
#include <caf/typed_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace vigil {

enum class ws_stream { live_logs, telemetry };

std::string_view ws_stream_name(ws_stream kind); // "live_logs", "telemetry"

struct ws_session_options {
  std::chrono::seconds default_interval{3}; // telemetry, the seed's default
  // How often the session looks at its connection's losses (reports `dropped`, detects stuck
  // clients).
  std::chrono::milliseconds check_interval{1000};
  // A client whose queue keeps overflowing for this long is closed.
  std::chrono::milliseconds stuck_limit{30'000};
};

using ws_session_actor = caf::typed_actor<
    // From the live logs hub / the telemetry feed.
    caf::reacts_to<atom::publish, live_log_batch_ptr>,
    caf::reacts_to<atom::publish, telemetry_snapshot_ptr>,
    // The stream was started / stopped (POST /control).
    caf::reacts_to<atom::enable>, caf::reacts_to<atom::disable>,
    // INTERNAL: from the connection's callbacks: a client text message / the connection ended.
    caf::reacts_to<atom::ingest, std::string>, caf::reacts_to<atom::shutdown, std::string>,
    // INTERNAL: the telemetry timer of one interval setting (generation) / the loss check.
    caf::reacts_to<atom::tick, uint64_t>, caf::reacts_to<atom::tick>>;

struct ws_session_state {
  ws_stream kind = ws_stream::telemetry;
  settings_ptr current;
  ws_session_options options;
  std::shared_ptr<websocket_session> ws;
  bool stream_enabled = true;
  // telemetry
  std::chrono::seconds interval{3};
  uint64_t timer_generation = 0;
  telemetry_snapshot_ptr latest;
  uint64_t snapshots_sent = 0;
  uint64_t snapshots_skipped = 0; // the client had not taken the previous one yet
  // live logs
  live_log_filter filter;
  uint64_t dropped_reported = 0;
  uint64_t dropped_at_last_check = 0;
  std::chrono::milliseconds overflowing_for{0};
  static inline const char* name = "ws_session";
};

ws_session_actor::behavior_type
ws_session(ws_session_actor::stateful_pointer<ws_session_state> self, ws_stream kind,
           websocket_upgrade upgrade, std::string subprotocol, settings_ptr current,
           ws_session_options options);

/// WebSocket sessions alive in this process (for /status and leak checks).
std::size_t ws_session_count();

/// Which stream an upgrade path of the control port serves: /ws/logs → live logs,
/// /ws/telemetry and /ws (SysMedic's) → telemetry.
std::optional<ws_stream> control_port_ws_stream(std::string_view path);

/// The WebSocket paths of the control port.
std::set<std::string> control_port_ws_paths();

/// Whether `token` is one of api.tokens and carries `scope` ("read" or "control"; control
/// implies read). Compared in constant time over the whole token list. The check of the
/// control API's requests and of WebSocket upgrades.
bool token_allows(const settings& s, std::string_view token, std::string_view scope);

/// What every API port shares: the bind address, the client allow-list and the rate limit.
http_server_options api_server_options(const settings& s, std::uint16_t port);

/// Who presented `token`, for the audit log: the matching token's name (or "token <n>"),
/// "anonymous" when no tokens are configured, "no token" when none was sent, "unknown token"
/// when none matches.
std::string token_principal(const settings& s, std::string_view token);

/// Authenticates an upgrade request (scope read; token from a "bearer.<token>" subprotocol,
/// ?token= or Authorization: Bearer) and starts a session, or rejects with 401. The chosen
/// subprotocol (the offered one that carried the token, else the first offered) is answered.
/// Call from an actor with the current settings.
void start_ws_session(caf::actor_system& sys, const settings_ptr& current, ws_stream kind,
                      const http_request& request, const websocket_upgrade& upgrade,
                      const ws_session_options& options = {});

} // namespace vigil

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(vigil::http_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(vigil::websocket_upgrade)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(vigil::ws_stream)
