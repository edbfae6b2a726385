#include "io/http/websocket_connection.hpp"

#include <boost/asio/post.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/websocket.hpp>

#include <limits>

namespace vigil {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;

websocket_connection::websocket_connection(asio::any_io_executor strand, websocket_options options,
                                           websocket_callbacks callbacks, http_request request,
                                           std::shared_ptr<connection_registry> registry)
    : strand_(std::move(strand))
    , options_(std::move(options))
    , request_(std::move(request))
    , registry_(std::move(registry))
    , callbacks_(std::move(callbacks))
    , close_timer_(strand_) {}

websocket_connection::~websocket_connection() {
  if (registry_id_ != 0)
    registry_->remove(registry_id_);
}

void websocket_connection::start(beast::tcp_stream stream,
                                 beast::http::request<beast::http::string_body> upgrade_request) {
  ws_.emplace(std::move(stream));
  // Already counted against max_connections as the HTTP connection being upgraded.
  registry_id_ = registry_->add(weak_from_this(), std::numeric_limits<std::size_t>::max());
  if (registry_id_ == 0) {
    finish("server stopped");
    return;
  }
  if (phase_.load() != phase::connecting) {
    finish(close_reason_.empty() ? "closed before the handshake" : close_reason_);
    return;
  }
  // Beast's own timers replace the tcp_stream deadline from here on.
  beast::get_lowest_layer(*ws_).expires_never();
  websocket::stream_base::timeout timeouts;
  timeouts.handshake_timeout = options_.handshake_timeout;
  timeouts.idle_timeout = options_.idle_timeout;
  timeouts.keep_alive_pings = true;
  ws_->set_option(timeouts);
  ws_->set_option(websocket::stream_base::decorator(
      [subprotocol = callbacks_.subprotocol](websocket::response_type& response) {
        response.set(beast::http::field::server, "vigil");
        if (!subprotocol.empty())
          response.set(beast::http::field::sec_websocket_protocol, subprotocol);
      }));
  ws_->read_message_max(options_.max_incoming_message_bytes);
  ws_->async_accept(upgrade_request,
                    [self = shared_from_this()](beast::error_code ec) { self->on_handshake(ec); });
}

void websocket_connection::abort(std::string reason) {
  finish(std::move(reason));
}

void websocket_connection::on_handshake(beast::error_code ec) {
  if (ec) {
    finish("handshake failed: " + ec.message());
    return;
  }
  handshake_done_ = true;
  bool write_now = false;
  bool closing = false;
  {
    std::lock_guard lock{mutex_};
    auto expected = phase::connecting;
    if (phase_.compare_exchange_strong(expected, phase::open)) {
      if (!queue_.empty() && !write_active_)
        write_active_ = write_now = true;
    } else {
      closing = true;
    }
  }
  if (closing) {
    begin_close();
    return;
  }
  read_next();
  if (write_now)
    write_next();
}

void websocket_connection::read_next() {
  ws_->async_read(read_buffer_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
    if (ec) {
      if (ec == websocket::error::closed) {
        auto reason = std::string(self->ws_->reason().reason.c_str());
        self->finish(reason.empty() ? "closed by peer" : "closed by peer: " + reason);
      } else if (ec == beast::error::timeout) {
        self->finish("timeout: peer did not answer pings");
      } else {
        self->finish(ec.message());
      }
      return;
    }
    if (self->ws_->got_text() && self->callbacks_.on_text) {
      try {
        self->callbacks_.on_text(beast::buffers_to_string(self->read_buffer_.data()));
      } catch (...) {
        self->read_buffer_.consume(self->read_buffer_.size());
        self->finish("on_text callback threw");
        return;
      }
    }
    self->read_buffer_.consume(self->read_buffer_.size());
    if (!self->finished_)
      self->read_next();
  });
}

bool websocket_connection::send_text(std::string text) {
  bool kick = false;
  {
    std::lock_guard lock{mutex_};
    auto current = phase_.load();
    if (current == phase::closing || current == phase::closed)
      return false;
    if (text.size() > options_.max_queued_bytes) {
      ++dropped_;
      return true;
    }
    queued_bytes_ += text.size();
    queue_.push_back(std::move(text));
    while (queue_.size() > options_.max_queued_messages ||
           queued_bytes_ > options_.max_queued_bytes) {
      queued_bytes_ -= queue_.front().size();
      queue_.pop_front();
      ++dropped_;
    }
    if (current == phase::open && !write_active_)
      write_active_ = kick = true;
  }
  // One post per idle->busy transition, never one per message: the io_context queue stays
  // bounded however fast callers send.
  if (kick)
    asio::post(strand_, [self = shared_from_this()] { self->write_next(); });
  return true;
}

void websocket_connection::write_next() {
  {
    std::lock_guard lock{mutex_};
    if (phase_.load() != phase::open || queue_.empty() || finished_) {
      write_active_ = false;
      return;
    }
    writing_ = std::move(queue_.front());
    queue_.pop_front();
    queued_bytes_ -= writing_.size();
  }
  ws_->text(true);
  ws_->async_write(asio::buffer(writing_),
                   [self = shared_from_this()](beast::error_code ec, std::size_t) {
                     if (ec) {
                       self->finish("write failed: " + ec.message());
                       return;
                     }
                     self->write_next();
                   });
}

std::size_t websocket_connection::queued_messages() const {
  std::lock_guard lock{mutex_};
  return queue_.size();
}

std::size_t websocket_connection::queued_bytes() const {
  std::lock_guard lock{mutex_};
  return queued_bytes_;
}

void websocket_connection::close(std::string reason) {
  {
    std::lock_guard lock{mutex_};
    auto current = phase_.load();
    if (current == phase::closing || current == phase::closed)
      return;
    phase_ = phase::closing;
    close_reason_ = std::move(reason);
    queue_.clear();
    queued_bytes_ = 0;
  }
  asio::post(strand_, [self = shared_from_this()] {
    // Before the handshake completes, on_handshake (or start) picks the close up.
    if (self->handshake_done_)
      self->begin_close();
  });
}

void websocket_connection::begin_close() {
  if (close_started_ || finished_)
    return;
  close_started_ = true;
  std::string reason;
  {
    std::lock_guard lock{mutex_};
    reason = close_reason_;
  }
  // A peer that never reads could stall the close frame behind a blocked write; cut it off.
  close_timer_.expires_after(options_.handshake_timeout);
  close_timer_.async_wait([self = shared_from_this(), reason](beast::error_code ec) {
    if (!ec)
      self->finish(reason);
  });
  // Close reasons are limited to 123 bytes by the protocol.
  websocket::close_reason frame{websocket::close_code::normal, reason.substr(0, 120)};
  ws_->async_close(frame, [self = shared_from_this(), reason](beast::error_code) {
    // The pending read sees the peer's close frame and ends the session; cover the case
    // where the read already ended.
    self->finish(reason);
  });
}

void websocket_connection::force_close() {
  asio::post(strand_, [self = shared_from_this()] { self->finish("server stopped"); });
}

void websocket_connection::finish(std::string reason) {
  if (finished_)
    return;
  finished_ = true;
  {
    std::lock_guard lock{mutex_};
    phase_ = phase::closed;
    queue_.clear();
    queued_bytes_ = 0;
    write_active_ = false;
  }
  close_timer_.cancel();
  if (ws_) {
    beast::error_code ignored;
    beast::get_lowest_layer(*ws_).socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(*ws_).socket().close(ignored);
  }
  if (registry_id_ != 0) {
    registry_->remove(registry_id_);
    registry_id_ = 0;
  }
  // Released after the call: callbacks often capture this session.
  auto callbacks = std::move(callbacks_);
  callbacks_ = {};
  if (callbacks.on_close) {
    try {
      callbacks.on_close(std::move(reason));
    } catch (...) {
      // Nothing left to do with the connection; the caller's bug must not unwind Asio.
    }
  }
}

} // namespace vigil
