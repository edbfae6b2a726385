#pragma once

// What /status shows of the HTTP backend poster.

#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace vigil {

struct backend_stream_status {
  std::string name; // outbox stream: heartbeat, system_info, telemetry, alerts
  uint64_t sent = 0;
  uint64_t failures = 0;      // attempts that will be retried
  uint64_t dead_lettered = 0; // refused by the backend for good (4xx), kept in the outbox
  std::string last_error;
  int64_t last_success_ms = 0; // ms since the epoch, 0: never
  int64_t retry_at_ms = 0;     // next attempt after a failure, 0: none pending
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, backend_stream_status& x) {
  return f(caf::meta::type_name("backend_stream_status"), x.name, x.sent, x.failures,
           x.dead_lettered, x.last_error, x.last_success_ms, x.retry_at_ms);
}

struct backend_status {
  std::string url;
  std::string token_state; // "none", "valid", "refreshing", "refresh_failed", "expired"
  int64_t token_expires_ms = 0;
  uint64_t token_refreshes = 0;
  std::string last_refresh_error;
  std::vector<backend_stream_status> streams;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, backend_status& x) {
  return f(caf::meta::type_name("backend_status"), x.url, x.token_state, x.token_expires_ms,
           x.token_refreshes, x.last_refresh_error, x.streams);
}

} // namespace vigil
