#pragma once

// Internal to vigil_io_http (includes Beast): the implementation behind websocket_session.

#include "io/http/connection_registry.hpp"
#include "io/http/websocket_session.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <atomic>
#include <deque>
#include <mutex>
#include <optional>

namespace vigil {

class websocket_connection final : public websocket_session,
                                   public tracked_connection,
                                   public std::enable_shared_from_this<websocket_connection> {
public:
  websocket_connection(boost::asio::any_io_executor strand, websocket_options options,
                       websocket_callbacks callbacks, http_request request,
                       std::shared_ptr<connection_registry> registry);
  ~websocket_connection() override;

  // On the strand: takes over the upgraded TCP stream and answers the handshake.
  void start(boost::beast::tcp_stream stream,
             boost::beast::http::request<boost::beast::http::string_body> upgrade_request);
  // On the strand: the upgrade could not happen (the HTTP connection was gone).
  void abort(std::string reason);

  bool send_text(std::string text) override;
  void close(std::string reason) override;
  std::uint64_t dropped() const override { return dropped_.load(); }
  std::size_t queued_messages() const override;
  std::size_t queued_bytes() const override;
  bool is_open() const override { return phase_.load() == phase::open; }
  const http_request& request() const override { return request_; }

  void force_close() override;

private:
  enum class phase { connecting, open, closing, closed };

  void on_handshake(boost::system::error_code ec);
  void read_next();
  void write_next();
  void begin_close();
  void finish(std::string reason);

  const boost::asio::any_io_executor strand_;
  const websocket_options options_;
  const http_request request_;
  const std::shared_ptr<connection_registry> registry_;

  // Shared with other threads, under mutex_ (phase_ is also readable lock-free).
  mutable std::mutex mutex_;
  std::deque<std::string> queue_;
  std::size_t queued_bytes_ = 0;
  bool write_active_ = false; // a write is in flight or scheduled
  std::string close_reason_;
  std::atomic<phase> phase_{phase::connecting};
  std::atomic<std::uint64_t> dropped_{0};

  // Strand only.
  websocket_callbacks callbacks_;
  std::optional<boost::beast::websocket::stream<boost::beast::tcp_stream>> ws_;
  boost::beast::flat_buffer read_buffer_;
  std::string writing_; // the message in flight, outside the queue bounds
  boost::asio::steady_timer close_timer_;
  bool handshake_done_ = false;
  bool close_started_ = false;
  bool finished_ = false;
  std::uint64_t registry_id_ = 0;
};

} // namespace vigil
