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
};

// Thrown by the constructor when the listener cannot be set up; what() names address:port.
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

  // Closes the listener and every connection (WebSocket sessions get on_close). Idempotent,
  // callable from any thread; completes asynchronously on the io_context.
  void stop();

private:
  struct listener;
  std::shared_ptr<listener> listener_;
};

} // namespace vigil
