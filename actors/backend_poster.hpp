#pragma once

// Posts the backend's outbox streams — heartbeat, system_info, telemetry, alerts — to
// the HTTP backend (the seed's --api-url), each stream in order, one record at a time,
// deleting a record only after a 2xx. Failures are retried with exponential backoff and
// jitter (Retry-After honoured); a 4xx other than 401/408/429 moves the record to the
// dead letters, logged with the body. The JWT is refreshed before it expires and on any
// 401 (POST /api/auth/refresh), swapped in memory and written back to the secrets file.
// HTTP runs on the Asio threads (io/http/http_client); answers come back as messages.
// It also produces the heartbeat (every backend.heartbeat_interval) and the system
// profile (at start and when it changes) into their streams.

#include "io/http/http_client.hpp"
#include "messages/atoms.hpp"
#include "messages/backend.hpp"
#include "messages/log_pipeline.hpp"
#include "messages/supervision.hpp"

#include <caf/typed_event_based_actor.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace boost::asio {
class io_context;
} // namespace boost::asio

namespace vigil {

using backend_poster_actor = caf::typed_actor<
    caf::reacts_to<atom::resume>, // records may be due (appended, or a backoff ended)
    caf::reacts_to<atom::tick>,   // INTERNAL: heartbeat, system profile, safety poll
    caf::reacts_to<atom::answered, uint32_t, http_client_result>, // INTERNAL: HTTP done
    caf::replies_to<atom::status>::with<backend_status>, configurable>;

struct backend_poster_state {
  struct stream {
    std::string name;  // outbox stream
    std::string path;  // backend endpoint
    bool busy = false; // fetching from the outbox or posting
    std::optional<outbox_entry> record;
    uint32_t failures = 0; // in a row, for the backoff
    std::chrono::steady_clock::time_point not_before{};
    backend_stream_status status;
  };
  settings_ptr current;
  boost::asio::io_context* io = nullptr;
  std::unique_ptr<http_client> client;
  std::vector<stream> streams;
  std::string token;            // in use (possibly refreshed)
  std::string configured_token; // as last read from the settings
  std::optional<std::chrono::system_clock::time_point> token_expiry;
  bool refreshing = false;
  uint32_t refresh_failures = 0;
  std::chrono::steady_clock::time_point refresh_not_before{};
  backend_status status;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point next_heartbeat{};
  std::chrono::steady_clock::time_point next_profile_check{};
  std::chrono::steady_clock::time_point next_poll{};
  std::chrono::steady_clock::time_point next_telemetry{};
  static inline const char* name = "backend_poster";
};

backend_poster_actor::behavior_type
backend_poster(backend_poster_actor::stateful_pointer<backend_poster_state> self,
               boost::asio::io_context* io, settings_ptr current);

} // namespace vigil

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(vigil::http_client_result)
