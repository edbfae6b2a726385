#include "io/http/http_client.hpp"

#include "io/http/url.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <optional>
#include <stdexcept>
#include <sys/socket.h>
#include <unordered_set>
#include <vector>

namespace vigil {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

std::string_view to_string(http_transport_error error) {
  switch (error) {
  case http_transport_error::none:
    return "none";
  case http_transport_error::invalid_url:
    return "invalid_url";
  case http_transport_error::resolve_failed:
    return "resolve_failed";
  case http_transport_error::connection_refused:
    return "connection_refused";
  case http_transport_error::connect_failed:
    return "connect_failed";
  case http_transport_error::timeout:
    return "timeout";
  case http_transport_error::tls_failed:
    return "tls_failed";
  case http_transport_error::send_failed:
    return "send_failed";
  case http_transport_error::receive_failed:
    return "receive_failed";
  case http_transport_error::response_too_large:
    return "response_too_large";
  case http_transport_error::cancelled:
    return "cancelled";
  }
  return "unknown";
}

std::string_view http_client_result::header(std::string_view lower_case_name) const {
  auto it = headers.find(std::string(lower_case_name));
  return it == headers.end() ? std::string_view{} : std::string_view{it->second};
}

namespace {

using strand_type = asio::strand<asio::io_context::executor_type>;

std::string lower_case(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view to_std(beast::string_view text) {
  return {text.data(), text.size()};
}

bool is_ip_literal(const std::string& host) {
  beast::error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

// One TCP (+TLS) connection, reusable across requests to the same origin.
struct pooled_connection {
  pooled_connection(const strand_type& strand, ssl::context* tls_context) {
    if (tls_context)
      secure.emplace(strand, *tls_context);
    else
      plain.emplace(strand);
  }

  beast::tcp_stream& tcp() { return secure ? beast::get_lowest_layer(*secure) : *plain; }

  // Calls f with the stream requests are written to.
  template <class F>
  void with_stream(F&& f) {
    if (secure)
      f(*secure);
    else
      f(*plain);
  }

  void close() {
    beast::error_code ignored;
    tcp().socket().shutdown(tcp::socket::shutdown_both, ignored);
    tcp().socket().close(ignored);
  }

  // A pooled connection the server has closed (or sent unexpected bytes on) is not reusable;
  // peeking without blocking catches most of them before a request is risked on it.
  bool looks_reusable() {
    auto& socket = tcp().socket();
    if (!socket.is_open() || buffer.size() != 0)
      return false;
    char byte = 0;
    auto n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }

  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure;
  beast::flat_buffer buffer;
  std::chrono::steady_clock::time_point idle_since;
};

class request_operation;

} // namespace

struct detail::http_client_core {
  http_client_core(asio::io_context& io_context, http_client_options opts)
      : strand(asio::make_strand(io_context))
      , options(std::move(opts))
      , tls_context(ssl::context::tls_client) {
    tls_context.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                            ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                            ssl::context::no_tlsv1_1);
    if (options.verify_peer) {
      tls_context.set_verify_mode(ssl::verify_peer);
      tls_context.set_default_verify_paths();
    } else {
      tls_context.set_verify_mode(ssl::verify_none);
    }
    if (!options.ca_file.empty()) {
      beast::error_code ec;
      tls_context.load_verify_file(options.ca_file, ec);
      if (ec)
        throw std::runtime_error("http_client: cannot load CA file " + options.ca_file + ": " +
                                 ec.message());
    }
  }

  // Strand only below.
  std::shared_ptr<pooled_connection> take_idle(const std::string& key) {
    auto it = idle.find(key);
    if (it == idle.end())
      return nullptr;
    auto& list = it->second;
    auto now = std::chrono::steady_clock::now();
    std::shared_ptr<pooled_connection> found;
    while (!list.empty() && !found) {
      auto candidate = std::move(list.back());
      list.pop_back();
      --idle_count;
      if (now - candidate->idle_since < options.max_idle_time && candidate->looks_reusable())
        found = std::move(candidate);
      else
        candidate->close();
    }
    if (list.empty())
      idle.erase(it);
    return found;
  }

  void give_back(const std::string& key, std::shared_ptr<pooled_connection> connection) {
    auto& list = idle[key];
    if (stopped || list.size() >= options.max_idle_per_host) {
      connection->close();
      if (list.empty())
        idle.erase(key);
      return;
    }
    connection->idle_since = std::chrono::steady_clock::now();
    list.push_back(std::move(connection));
    ++idle_count;
  }

  strand_type strand;
  http_client_options options;
  ssl::context tls_context;
  std::map<std::string, std::vector<std::shared_ptr<pooled_connection>>> idle;
  std::unordered_set<request_operation*> in_flight;
  bool stopped = false;
  std::atomic<std::size_t> idle_count{0};
  std::atomic<std::uint64_t> opened{0};
};

namespace {

// One request from start to callback; lives on the client's strand.
class request_operation : public std::enable_shared_from_this<request_operation> {
public:
  request_operation(std::shared_ptr<detail::http_client_core> client, std::string method,
                    std::string url, std::map<std::string, std::string> headers, std::string body,
                    std::chrono::milliseconds timeout, http_client_callback callback)
      : client_(std::move(client))
      , method_(std::move(method))
      , url_(std::move(url))
      , headers_(std::move(headers))
      , body_(std::move(body))
      , timeout_(timeout)
      , callback_(std::move(callback))
      , resolver_(client_->strand)
      , deadline_(client_->strand) {}

  void start() {
    if (client_->stopped) {
      fail(http_transport_error::cancelled, "client shut down");
      return;
    }
    auto parsed = parse_url(url_);
    if (!parsed) {
      fail(http_transport_error::invalid_url, "not an absolute http(s) URL: " + url_);
      return;
    }
    target_ = std::move(*parsed);
    pool_key_ = target_.scheme + "://" + target_.host + ":" + std::to_string(target_.port);
    build_request();
    client_->in_flight.insert(this);
    deadline_.expires_after(timeout_);
    deadline_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec)
        self->on_deadline();
    });
    if (auto pooled = client_->take_idle(pool_key_)) {
      connection_ = std::move(pooled);
      reused_ = true;
      send();
    } else {
      connect();
    }
  }

  void cancel() {
    cancelled_ = true;
    abort_io();
  }

private:
  bool secure() const { return target_.scheme == "https"; }

  void build_request() {
    auto verb = http::string_to_verb(method_);
    if (verb == http::verb::unknown)
      request_.method_string(method_);
    else
      request_.method(verb);
    request_.target(target_.target);
    request_.version(11);
    bool default_port = target_.port == (secure() ? 443 : 80);
    auto host =
        target_.host.find(':') != std::string::npos ? "[" + target_.host + "]" : target_.host;
    if (!default_port)
      host += ":" + std::to_string(target_.port);
    request_.set(http::field::host, host);
    request_.set(http::field::user_agent, client_->options.user_agent);
    for (auto& [name, value] : headers_)
      request_.set(name, value);
    request_.body() = body_;
    request_.keep_alive(true);
    request_.prepare_payload();
  }

  void connect() {
    reused_ = false;
    connection_ = std::make_shared<pooled_connection>(client_->strand,
                                                      secure() ? &client_->tls_context : nullptr);
    resolver_.async_resolve(
        target_.host, std::to_string(target_.port),
        [self = shared_from_this()](beast::error_code ec, tcp::resolver::results_type results) {
          if (ec) {
            self->fail_io(http_transport_error::resolve_failed, "resolve " + self->target_.host,
                          ec);
            return;
          }
          self->connection_->tcp().async_connect(
              results, [self](beast::error_code connect_ec, const tcp::endpoint&) {
                self->on_connect(connect_ec);
              });
        });
  }

  void on_connect(beast::error_code ec) {
    if (ec) {
      auto kind = ec == asio::error::connection_refused ? http_transport_error::connection_refused
                                                        : http_transport_error::connect_failed;
      fail_io(kind, "connect " + pool_key_, ec);
      return;
    }
    ++client_->opened;
    if (!secure()) {
      send();
      return;
    }
    auto& stream = *connection_->secure;
    // SNI is for names only; IP literals are verified against the certificate's IP entries.
    if (!is_ip_literal(target_.host) &&
        !SSL_set_tlsext_host_name(stream.native_handle(), target_.host.c_str())) {
      fail(http_transport_error::tls_failed, "cannot set SNI host name");
      return;
    }
    if (client_->options.verify_peer)
      stream.set_verify_callback(ssl::host_name_verification(target_.host));
    stream.async_handshake(
        ssl::stream_base::client, [self = shared_from_this()](beast::error_code handshake_ec) {
          if (handshake_ec) {
            self->fail_io(http_transport_error::tls_failed, "TLS handshake", handshake_ec);
            return;
          }
          self->send();
        });
  }

  void send() {
    connection_->with_stream([this](auto& stream) {
      http::async_write(
          stream, request_,
          [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_sent(ec); });
    });
  }

  void on_sent(beast::error_code ec) {
    if (ec) {
      // Nothing reached the server as a complete request, so one retry cannot duplicate it.
      if (reused_ && !retried_ && !timed_out_ && !cancelled_) {
        retried_ = true;
        connection_->close();
        connect();
        return;
      }
      fail_io(http_transport_error::send_failed, "send request", ec);
      return;
    }
    parser_.emplace();
    parser_->body_limit(client_->options.max_response_body_bytes);
    if (request_.method() == http::verb::head)
      parser_->skip(true); // a HEAD response announces a body it does not carry
    connection_->with_stream([this](auto& stream) {
      http::async_read(stream, connection_->buffer, *parser_,
                       [self = shared_from_this()](beast::error_code ec, std::size_t) {
                         self->on_response(ec);
                       });
    });
  }

  void on_response(beast::error_code ec) {
    if (ec) {
      auto kind = ec == http::error::body_limit ? http_transport_error::response_too_large
                                                : http_transport_error::receive_failed;
      fail_io(kind, "read response", ec);
      return;
    }
    auto message = parser_->release();
    http_client_result result;
    result.status = static_cast<int>(message.result_int());
    for (const auto& field : message) {
      auto [it, inserted] = result.headers.emplace(lower_case(to_std(field.name_string())),
                                                   std::string(field.value()));
      if (!inserted)
        it->second.append(", ").append(to_std(field.value()));
    }
    result.body = std::move(message.body());
    if (message.keep_alive() && !message.need_eof())
      client_->give_back(pool_key_, std::move(connection_));
    else
      connection_->close();
    connection_.reset();
    complete(std::move(result));
  }

  void on_deadline() {
    if (done_)
      return; // fired just before complete() cancelled it
    timed_out_ = true;
    abort_io();
  }

  // Completes pending resolve/connect/handshake/read/write with an error.
  void abort_io() {
    resolver_.cancel();
    if (connection_)
      connection_->close();
  }

  void fail_io(http_transport_error kind, const std::string& what, beast::error_code ec) {
    if (cancelled_)
      fail(http_transport_error::cancelled, "client shut down");
    else if (timed_out_)
      fail(http_transport_error::timeout,
           "no complete response within " + std::to_string(timeout_.count()) + " ms");
    else
      fail(kind, what + ": " + ec.message());
  }

  void fail(http_transport_error kind, std::string detail) {
    if (connection_) {
      connection_->close();
      connection_.reset();
    }
    http_client_result result;
    result.error = kind;
    result.error_detail = std::move(detail);
    complete(std::move(result));
  }

  void complete(http_client_result result) {
    if (done_)
      return;
    done_ = true;
    deadline_.cancel();
    client_->in_flight.erase(this);
    auto callback = std::move(callback_);
    if (callback) {
      try {
        callback(std::move(result));
      } catch (...) {
        // The caller's exception must not unwind into Asio's run loop.
      }
    }
  }

  std::shared_ptr<detail::http_client_core> client_;
  std::string method_;
  std::string url_;
  std::map<std::string, std::string> headers_;
  std::string body_;
  std::chrono::milliseconds timeout_;
  http_client_callback callback_;
  tcp::resolver resolver_;
  asio::steady_timer deadline_;
  parsed_url target_;
  std::string pool_key_;
  http::request<http::string_body> request_;
  std::optional<http::response_parser<http::string_body>> parser_;
  std::shared_ptr<pooled_connection> connection_;
  bool reused_ = false;
  bool retried_ = false;
  bool timed_out_ = false;
  bool cancelled_ = false;
  bool done_ = false;
};

} // namespace

http_client::http_client(asio::io_context& io, http_client_options options)
    : core_(std::make_shared<detail::http_client_core>(io, std::move(options))) {}

http_client::~http_client() {
  shutdown();
}

void http_client::request(std::string method, std::string url,
                          std::map<std::string, std::string> headers, std::string body,
                          std::chrono::milliseconds timeout, http_client_callback callback) {
  auto operation = std::make_shared<request_operation>(core_, std::move(method), std::move(url),
                                                       std::move(headers), std::move(body), timeout,
                                                       std::move(callback));
  asio::post(core_->strand, [operation] { operation->start(); });
}

void http_client::shutdown() {
  asio::post(core_->strand, [c = core_] {
    c->stopped = true;
    for (auto& [key, list] : c->idle)
      for (auto& connection : list)
        connection->close();
    c->idle.clear();
    c->idle_count = 0;
    // cancel() only closes sockets; completions arrive later and erase from in_flight.
    for (auto* operation : c->in_flight)
      operation->cancel();
  });
}

std::size_t http_client::idle_connections() const {
  return core_->idle_count.load();
}

std::uint64_t http_client::connections_opened() const {
  return core_->opened.load();
}

} // namespace vigil
