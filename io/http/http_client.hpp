#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace boost::asio {
class io_context;
} // namespace boost::asio

namespace vigil {

namespace detail {
struct http_client_core;
} // namespace detail

struct http_client_options {
  // Idle keep-alive connections kept per (scheme, host, port); extra ones are closed.
  std::size_t max_idle_per_host = 4;
  // Pooled connections idle longer than this are not reused (servers close them anyway).
  std::chrono::milliseconds max_idle_time{30'000};
  bool verify_peer = true; // https: certificate chain and host name
  std::string ca_file;     // PEM bundle trusted in addition to the system store
  std::size_t max_response_body_bytes = 16 * 1024 * 1024;
  std::string user_agent = "vigil";
};

// Why no HTTP status could be obtained. Kept apart from HTTP statuses: a 503 is an answer,
// a refused connection is not.
enum class http_transport_error {
  none,
  invalid_url,
  resolve_failed,
  connection_refused,
  connect_failed,
  timeout,
  tls_failed,
  send_failed,
  receive_failed, // connection closed or reset before a complete response
  response_too_large,
  cancelled, // client shut down
};

std::string_view to_string(http_transport_error error);

struct http_client_result {
  http_transport_error error = http_transport_error::none;
  std::string error_detail; // human-readable cause when error != none

  // Valid when error == none.
  int status = 0;
  std::map<std::string, std::string> headers; // lower-case names; repeats joined with ", "
  std::string body;

  bool transport_ok() const { return error == http_transport_error::none; }
  // Header value or "" when absent; name must be lower-case.
  std::string_view header(std::string_view lower_case_name) const;
};

using http_client_callback = std::function<void(http_client_result)>;

// Asynchronous HTTP/1.1 client for http:// and https:// on a caller-owned io_context.
// request() may be called from any thread; the callback runs later on an io_context thread,
// never inside request(). Keep-alive connections are pooled per (scheme, host, port).
class http_client {
public:
  // Throws std::runtime_error when options.ca_file cannot be loaded.
  explicit http_client(boost::asio::io_context& io, http_client_options options = {});
  // shutdown(); callbacks of requests still in flight then run with `cancelled`.
  ~http_client();

  http_client(const http_client&) = delete;
  http_client& operator=(const http_client&) = delete;

  // `timeout` bounds the whole exchange: resolve, connect, TLS handshake, write and read.
  // A pooled connection found broken is replaced by a fresh one once, and only while the
  // request has not been sent, so a non-idempotent request is never sent twice.
  void request(std::string method, std::string url, std::map<std::string, std::string> headers,
               std::string body, std::chrono::milliseconds timeout, http_client_callback callback);

  // Closes pooled connections and cancels requests in flight. Idempotent, any thread.
  void shutdown();

  std::size_t idle_connections() const;     // currently pooled
  std::uint64_t connections_opened() const; // TCP connections established so far

private:
  std::shared_ptr<detail::http_client_core> core_;
};

} // namespace vigil
