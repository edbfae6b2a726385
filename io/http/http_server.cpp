#include "io/http/http_server.hpp"

#include "io/http/address_filter.hpp"
#include "io/http/connection_registry.hpp"
#include "io/http/rate_limiter.hpp"
#include "io/http/url.hpp"
#include "io/http/websocket_connection.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <optional>

namespace vigil {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// ---- websocket_upgrade --------------------------------------------------------------------

struct websocket_upgrade::state {
  std::atomic<bool> used{false};
  std::function<std::shared_ptr<websocket_session>(websocket_callbacks)> accept;
  std::function<void(http_response)> reject;

  ~state() {
    if (!used.exchange(true) && reject)
      reject(json_error_response(500, "internal_error", "the upgrade handler dropped the request"));
  }
};

namespace {

struct server_core {
  server_core(http_server_options server_options, http_handler request_handler,
              websocket_handler upgrade_handler)
      : options(std::move(server_options))
      , on_request(std::move(request_handler))
      , on_upgrade(std::move(upgrade_handler))
      , allow_list(options.allow_from)
      , limiter(options.rate_limit_per_minute) {}

  const http_server_options options;
  const http_handler on_request;
  const websocket_handler on_upgrade;
  const address_filter allow_list;
  rate_limiter limiter;
  std::shared_ptr<connection_registry> registry = std::make_shared<connection_registry>();
  std::atomic<std::uint64_t> rejected_forbidden{0};
  std::atomic<std::uint64_t> rejected_rate_limited{0};
};

std::string_view to_std(beast::string_view text) {
  return {text.data(), text.size()};
}

std::string lower_case(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool equals_ignore_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

http_request to_plain_request(const http::request<http::string_body>& message,
                              const std::string& remote_address, std::uint16_t remote_port) {
  http_request request;
  request.method = std::string(message.method_string());
  request.target = std::string(message.target());
  std::string_view target = request.target;
  auto question = target.find('?');
  request.path = percent_decode(target.substr(0, question), false);
  if (question != std::string_view::npos)
    request.query = parse_query_string(target.substr(question + 1));
  for (const auto& field : message) {
    auto name = lower_case(to_std(field.name_string()));
    auto [it, inserted] = request.headers.emplace(name, std::string(field.value()));
    if (!inserted)
      it->second.append(", ").append(to_std(field.value()));
  }
  request.body = message.body();
  request.remote_address = remote_address;
  request.remote_port = remote_port;
  request.version = message.version();
  return request;
}

const std::string continue_response = "HTTP/1.1 100 Continue\r\n\r\n";

// One HTTP connection: reads one request at a time, hands it to the handler, writes the answer,
// then reads the next (so pipelined requests are answered in order).
class http_connection final : public tracked_connection,
                              public std::enable_shared_from_this<http_connection> {
public:
  http_connection(std::shared_ptr<server_core> core, tcp::socket socket, tcp::endpoint remote)
      : core_(std::move(core))
      , strand_(socket.get_executor())
      , stream_(std::move(socket))
      , handler_timer_(strand_)
      , remote_(remote)
      , remote_address_(remote.address().to_string()) {}

  ~http_connection() override { unregister(); }

  void set_registry_id(std::uint64_t id) { registry_id_ = id; }

  void start() {
    asio::post(strand_, [self = shared_from_this()] {
      if (self->core_->allow_list.allows(self->remote_.address()))
        self->wait_for_request();
      else
        self->refuse_forbidden();
    });
  }

  void force_close() override {
    asio::post(strand_, [self = shared_from_this()] { self->close_connection(); });
  }

private:
  const http_server_options& options() const { return core_->options; }

  void unregister() {
    if (registry_id_ != 0) {
      core_->registry->remove(registry_id_);
      registry_id_ = 0;
    }
  }

  // The idle wait is separate from the request read so that a kept-alive connection can idle
  // longer than a single request may take to arrive.
  void wait_for_request() {
    if (closed_)
      return;
    if (buffer_.size() > 0) {
      read_header();
      return;
    }
    stream_.expires_after(first_request_ ? options().read_timeout
                                         : options().keep_alive_idle_timeout);
    stream_.async_read_some(buffer_.prepare(4096),
                            [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                              if (ec) {
                                self->close_connection();
                                return;
                              }
                              self->buffer_.commit(n);
                              self->read_header();
                            });
  }

  void read_header() {
    first_request_ = false;
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(options().max_header_bytes));
    parser_->body_limit(options().max_body_bytes);
    stream_.expires_after(options().read_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = shared_from_this()](beast::error_code ec, std::size_t) {
                              if (ec) {
                                self->on_read_error(ec);
                                return;
                              }
                              self->on_header();
                            });
  }

  void on_header() {
    auto& message = parser_->get();
    auto expect = message[http::field::expect];
    if (!parser_->is_done() && equals_ignore_case(to_std(expect), "100-continue")) {
      asio::async_write(stream_, asio::buffer(continue_response),
                        [self = shared_from_this()](beast::error_code ec, std::size_t) {
                          if (ec) {
                            self->close_connection();
                            return;
                          }
                          self->read_body();
                        });
      return;
    }
    read_body();
  }

  void read_body() {
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                       if (ec) {
                         self->on_read_error(ec);
                         return;
                       }
                       self->dispatch();
                     });
  }

  void on_read_error(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      write_response(json_error_response(413, "payload_too_large",
                                         "request body exceeds " +
                                             std::to_string(options().max_body_bytes) + " bytes"),
                     false);
    } else if (ec == http::error::header_limit) {
      write_response(json_error_response(431, "headers_too_large",
                                         "request headers exceed " +
                                             std::to_string(options().max_header_bytes) + " bytes"),
                     false);
    } else if (ec.category() == make_error_code(http::error::bad_target).category() &&
               ec != http::error::end_of_stream && ec != http::error::partial_message) {
      write_response(json_error_response(400, "bad_request", ec.message()), false);
    } else {
      // Timeouts, resets and clean closes: nobody to answer.
      close_connection();
    }
  }

  // Answers before reading anything, so nothing an unknown client sends is ever parsed.
  void refuse_forbidden() {
    ++core_->rejected_forbidden;
    drain_before_close_ = true;
    write_response(
        json_error_response(403, "forbidden",
                            "client address " + remote_address_ + " is not in api.allow_from"),
        false);
  }

  void refuse_rate_limited(std::chrono::seconds retry_after) {
    ++core_->rejected_rate_limited;
    auto response = json_error_response(429, "too_many_requests",
                                        "client address " + remote_address_ + " sent more than " +
                                            std::to_string(core_->limiter.per_minute()) +
                                            " requests in a minute (api.rate_limit_per_minute)");
    response.headers.emplace_back("Retry-After", std::to_string(retry_after.count()));
    write_response(std::move(response), keep_alive_);
  }

  // Closing a socket with unread input makes the kernel send a reset, which can destroy the
  // response before the client reads it: stop sending, discard what the client still sends
  // (bounded in bytes and time), close on its end of stream.
  void drain_then_close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(options().read_timeout);
    drain(0);
  }

  void drain(std::size_t drained) {
    stream_.async_read_some(buffer_.prepare(1024), [self = shared_from_this(),
                                                    drained](beast::error_code ec, std::size_t n) {
      if (ec || drained + n > self->options().max_header_bytes) {
        self->close_connection();
        return;
      }
      self->drain(drained + n);
    });
  }

  void dispatch() {
    keep_alive_ = parser_->get().keep_alive();
    if (auto decision = core_->limiter.admit(remote_.address()); !decision.admitted) {
      refuse_rate_limited(decision.retry_after);
      return;
    }
    auto request = to_plain_request(parser_->get(), remote_address_, remote_.port());
    auto seq = ++request_seq_;
    awaiting_ = seq;
    stream_.expires_never(); // the handler timer governs the wait for an answer
    handler_timer_.expires_after(options().handler_timeout);
    handler_timer_.async_wait([self = shared_from_this(), seq](beast::error_code ec) {
      if (!ec && self->awaiting_ == seq)
        self->on_response(seq, json_error_response(503, "handler_timeout",
                                                   "no answer within the handler timeout"));
    });

    if (core_->on_upgrade && beast::websocket::is_upgrade(parser_->get()) &&
        core_->options.websocket_paths.count(request.path) != 0) {
      offer_upgrade(std::move(request), seq);
      return;
    }
    http_responder responder{deliver_function(seq)};
    try {
      core_->on_request(std::move(request), responder);
    } catch (const std::exception& e) {
      responder(json_error_response(500, "internal_error", e.what()));
    } catch (...) {
      responder(json_error_response(500, "internal_error", "unknown exception"));
    }
  }

  std::function<void(http_response)> deliver_function(std::uint64_t seq) {
    return [weak = weak_from_this(), strand = strand_, seq](http_response response) {
      // Locking first: while the connection lives, so does its io_context and strand.
      if (auto self = weak.lock())
        asio::post(strand, [self, seq, response = std::move(response)]() mutable {
          self->on_response(seq, std::move(response));
        });
    };
  }

  void offer_upgrade(http_request request, std::uint64_t seq) {
    auto state = std::make_shared<websocket_upgrade::state>();
    state->reject = deliver_function(seq);
    state->accept = [weak = weak_from_this(), strand = strand_, seq, core = core_,
                     request](websocket_callbacks callbacks) {
      auto connection = std::make_shared<websocket_connection>(
          strand, core->options.websocket, std::move(callbacks), request, core->registry);
      asio::post(strand, [weak, connection, seq] {
        auto self = weak.lock();
        if (!self || self->closed_ || self->awaiting_ != seq) {
          connection->abort("connection closed before the upgrade");
          return;
        }
        self->hand_over(connection);
      });
      return std::shared_ptr<websocket_session>(connection);
    };
    try {
      core_->on_upgrade(std::move(request), websocket_upgrade{state});
    } catch (const std::exception& e) {
      websocket_upgrade{state}.reject(json_error_response(500, "internal_error", e.what()));
    }
  }

  void hand_over(const std::shared_ptr<websocket_connection>& connection) {
    awaiting_ = 0;
    closed_ = true;
    handler_timer_.cancel();
    stream_.expires_never();
    connection->start(std::move(stream_), parser_->release());
    unregister();
  }

  void on_response(std::uint64_t seq, http_response response) {
    if (closed_ || seq != awaiting_)
      return; // answered already (timeout) or connection gone
    awaiting_ = 0;
    handler_timer_.cancel();
    write_response(std::move(response), keep_alive_);
  }

  void write_response(http_response response, bool keep_alive) {
    response_ = {};
    int status = response.status;
    if (status < 100 || status > 599)
      status = 500;
    response_.result(static_cast<unsigned>(status));
    response_.version(parser_ ? parser_->get().version() : 11);
    response_.set(http::field::server, "vigil");
    if (!response.content_type.empty())
      response_.set(http::field::content_type, response.content_type);
    for (auto& [name, value] : response.headers)
      response_.insert(name, value);
    response_.body() = std::move(response.body);
    response_.keep_alive(keep_alive);
    response_.prepare_payload();
    stream_.expires_after(options().write_timeout);
    http::async_write(stream_, response_,
                      [self = shared_from_this(), keep_alive](beast::error_code ec, std::size_t) {
                        if (!ec && self->drain_before_close_) {
                          self->drain_then_close();
                          return;
                        }
                        if (ec || !keep_alive) {
                          self->close_connection();
                          return;
                        }
                        self->response_ = {};
                        self->wait_for_request();
                      });
  }

  void close_connection() {
    if (closed_)
      return;
    closed_ = true;
    awaiting_ = 0;
    handler_timer_.cancel();
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
    unregister();
  }

  const std::shared_ptr<server_core> core_;
  const asio::any_io_executor strand_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> response_;
  asio::steady_timer handler_timer_;
  const tcp::endpoint remote_;
  const std::string remote_address_; // remote_'s address as text, for requests and errors
  std::uint64_t registry_id_ = 0;
  std::uint64_t request_seq_ = 0;
  std::uint64_t awaiting_ = 0; // sequence number of the request waiting for its answer
  bool keep_alive_ = false;
  bool first_request_ = true;
  bool closed_ = false;
  bool drain_before_close_ = false;
};

} // namespace

websocket_upgrade::websocket_upgrade(std::shared_ptr<state> s)
    : state_(std::move(s)) {}

std::shared_ptr<websocket_session> websocket_upgrade::accept(websocket_callbacks callbacks) const {
  if (state_->used.exchange(true))
    return nullptr;
  return state_->accept(std::move(callbacks));
}

void websocket_upgrade::reject(http_response response) const {
  if (state_->used.exchange(true))
    return;
  state_->reject(std::move(response));
}

// ---- listener -----------------------------------------------------------------------------

struct http_server::listener : std::enable_shared_from_this<listener> {
  listener(asio::io_context& io_context, std::shared_ptr<server_core> server)
      : io(io_context)
      , core(std::move(server))
      , acceptor(asio::make_strand(io_context))
      , retry_timer(acceptor.get_executor()) {}

  void bind() {
    const auto& options = core->options;
    auto where = options.bind_address + ":" + std::to_string(options.port);
    beast::error_code ec;
    auto address = asio::ip::make_address(options.bind_address, ec);
    if (ec)
      throw http_bind_error("http_server: invalid bind address " + where + ": " + ec.message());
    tcp::endpoint endpoint{address, options.port};
    acceptor.open(endpoint.protocol(), ec);
    if (!ec)
      acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec)
      acceptor.bind(endpoint, ec);
    if (!ec)
      acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
      throw http_bind_error("http_server: cannot listen on " + where + ": " + ec.message());
    bound_port = acceptor.local_endpoint().port();
  }

  void accept_next() {
    acceptor.async_accept(asio::make_strand(io),
                          [self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
                            self->on_accept(ec, std::move(socket));
                          });
  }

  void on_accept(beast::error_code ec, tcp::socket socket) {
    if (!acceptor.is_open() || ec == asio::error::operation_aborted)
      return;
    if (ec) {
      // E.g. out of file descriptors: back off instead of spinning on the error.
      retry_timer.expires_after(std::chrono::milliseconds(100));
      retry_timer.async_wait([self = shared_from_this()](beast::error_code wait_ec) {
        if (!wait_ec && self->acceptor.is_open())
          self->accept_next();
      });
      return;
    }
    beast::error_code endpoint_ec;
    auto remote = socket.remote_endpoint(endpoint_ec);
    if (endpoint_ec) { // the peer is gone already
      accept_next();
      return;
    }
    auto connection = std::make_shared<http_connection>(core, std::move(socket), remote);
    auto id = core->registry->add(connection, core->options.max_connections);
    if (id != 0) {
      connection->set_registry_id(id);
      connection->start();
    } // else: dropping the connection closes the socket (bounded memory under a flood)
    accept_next();
  }

  asio::io_context& io;
  std::shared_ptr<server_core> core;
  tcp::acceptor acceptor;
  asio::steady_timer retry_timer;
  std::uint16_t bound_port = 0;
  std::atomic<bool> stopping{false};
};

http_server::http_server(asio::io_context& io, http_server_options options, http_handler handler,
                         websocket_handler on_upgrade) {
  auto core =
      std::make_shared<server_core>(std::move(options), std::move(handler), std::move(on_upgrade));
  listener_ = std::make_shared<listener>(io, std::move(core));
  listener_->bind();
  asio::post(listener_->acceptor.get_executor(), [l = listener_] { l->accept_next(); });
}

http_server::~http_server() {
  stop();
}

std::uint16_t http_server::port() const {
  return listener_->bound_port;
}

std::string http_server::bind_address() const {
  return listener_->core->options.bind_address;
}

std::size_t http_server::live_connections() const {
  return listener_->core->registry->size();
}

http_server_counters http_server::counters() const {
  const auto& core = *listener_->core;
  return {core.rejected_forbidden.load(), core.rejected_rate_limited.load()};
}

void http_server::stop() {
  if (listener_->stopping.exchange(true))
    return;
  listener_->core->registry->close_all();
  asio::post(listener_->acceptor.get_executor(), [l = listener_] {
    beast::error_code ignored;
    l->acceptor.close(ignored);
    l->retry_timer.cancel();
  });
}

} // namespace vigil
