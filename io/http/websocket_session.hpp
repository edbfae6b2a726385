#pragma once

#include "io/http/http_message.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace vigil {

struct websocket_options {
  // Outgoing queue bounds: past either one the oldest queued messages are dropped (counted).
  std::size_t max_queued_messages = 1024;
  std::size_t max_queued_bytes = 4 * 1024 * 1024;
  std::size_t max_incoming_message_bytes = 64 * 1024;
  // A ping goes out after idle_timeout/2 without incoming data; the session is closed when
  // nothing at all arrives within idle_timeout. Reaps dead peers and clients that never read.
  std::chrono::milliseconds idle_timeout{30'000};
  // Limit for the opening handshake and for the closing handshake after close().
  std::chrono::milliseconds handshake_timeout{10'000};
};

// Callbacks run on the session's strand (an io_context thread), one at a time per session.
struct websocket_callbacks {
  std::function<void(std::string text)> on_text;
  // Called exactly once when the session ends, for any reason (peer close, error, close(),
  // idle timeout, server stop). The callbacks are released right after it, which breaks
  // reference cycles through captured session pointers.
  std::function<void(std::string reason)> on_close;
  // Answered as Sec-WebSocket-Protocol when not empty: a browser that offered subprotocols
  // (e.g. "bearer.<token>") fails the connection unless the server picks one of them.
  std::string subprotocol{};
};

// An accepted WebSocket connection. Every member is safe to call from any thread and never
// blocks on the network.
class websocket_session {
public:
  virtual ~websocket_session() = default;

  // Queues a text frame. When the queue is over its bounds the oldest queued messages are
  // dropped and counted, so a slow client costs bounded memory and never slows anyone else.
  // Returns false when the session is closed (the message is discarded, not counted).
  virtual bool send_text(std::string text) = 0;

  // Starts the closing handshake with a normal-closure code and the given reason; queued
  // messages are discarded. Idempotent.
  virtual void close(std::string reason) = 0;

  // Messages dropped because the queue was full (monotonic).
  virtual std::uint64_t dropped() const = 0;
  virtual std::size_t queued_messages() const = 0;
  virtual std::size_t queued_bytes() const = 0;
  virtual bool is_open() const = 0;

  // The upgrade request as seen by the server (path, query, headers, remote address).
  virtual const http_request& request() const = 0;
};

// Offered to the caller for each upgrade request on a WebSocket path. Copyable; use once, from
// any thread: accept() or reject(). Dropping every copy unused answers 500.
class websocket_upgrade {
public:
  struct state;
  explicit websocket_upgrade(std::shared_ptr<state> s);

  // Completes the handshake. The session can be used (send_text) at once; messages queued
  // before the handshake finishes are sent after it. Returns nullptr if already used.
  std::shared_ptr<websocket_session> accept(websocket_callbacks callbacks) const;

  // Answers with a plain HTTP response instead (401/403/...) and closes the connection.
  void reject(http_response response) const;

private:
  std::shared_ptr<state> state_;
};

using websocket_handler = std::function<void(http_request, websocket_upgrade)>;

} // namespace vigil
