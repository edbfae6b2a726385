#pragma once

#include "io/http/http_message.hpp"
#include "io/http/websocket_session.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace boost::asio {
class io_context;
} // namespace boost::asio

namespace vigil {

struct http_server_options {
  std::string bind_address = "127.0.0.1";
  std::uint16_t port = 0; // 0 = ephemeral; see http_server::port()
  std::size_t max_body_bytes = 1024 * 1024;
  std::size_t max_header_bytes = 16 * 1024;
  // From the first byte of a request to its last.
  std::chrono::milliseconds read_timeout{10'000};
  // Waiting for the next request on a kept-alive connection.
  std::chrono::milliseconds keep_alive_idle_timeout{30'000};
  std::chrono::milliseconds write_timeout{30'000};
  // A handler that has not answered by then gets the client a 503 (a later answer is ignored).
  std::chrono::milliseconds handler_timeout{60'000};
  // HTTP and WebSocket connections together; connections beyond it are closed on accept.
  std::size_t max_connections = 256;
  // Upgrade requests to these paths go to the websocket_handler; elsewhere they are plain
  // requests for the http_handler.
  std::set<std::string> websocket_paths;
  websocket_options websocket;
  // Client addresses allowed to connect, as CIDRs ("10.0.0.0/8", "192.168.1.7", "fd00::/8"; see
  // parse_cidr); empty: everyone. Anyone else gets one 403 and the connection is closed before
  // a request is read. IPv4 entries also match IPv4-mapped IPv6 peers (::ffff:10.1.2.3).
  std::vector<std::string> allow_from;
  // Requests per client address per minute on this server (a token bucket; WebSocket upgrade
  // requests count too); 0: no limit. Over it: 429 with Retry-After, the connection kept open.
  // Buckets are kept for the 4,096 most recently seen addresses (see rate_limiter).
  std::uint32_t rate_limit_per_minute = 0;
};

// Requests refused by the server itself, since it started (monotonic).
struct http_server_counters {
  std::uint64_t rejected_forbidden = 0;    // connections from outside allow_from
  std::uint64_t rejected_rate_limited = 0; // requests answered 429
};

// Thrown by the constructor when the listener cannot be set up; what() names address:port.
// (A bad allow_from entry throws std::invalid_argument naming it instead.)
class http_bind_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// HTTP/1.1 + WebSocket server on a caller-owned io_context (run it on any number of threads;
// each connection is serialised on its own strand). Binds and listens in the constructor.
// Handlers are called on io_context threads and must not block; they answer through the
// responder, possibly later and from another thread.
class http_server {
public:
  http_server(boost::asio::io_context& io, http_server_options options, http_handler handler,
              websocket_handler on_upgrade = {});
  ~http_server(); // stop()

  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  std::uint16_t port() const; // the bound port, also when options.port was 0
  std::string bind_address() const;

  // Live HTTP connections plus open WebSocket sessions.
  std::size_t live_connections() const;

  http_server_counters counters() const;

  // Closes the listener and every connection (WebSocket sessions get on_close). Idempotent,
  // callable from any thread; completes asynchronously on the io_context.
  void stop();

private:
  struct listener;
  std::shared_ptr<listener> listener_;
};

} // namespace vigil
