#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vigil {

// One parsed request, plain data so it can be copied into actor messages.
struct http_request {
  std::string method;                         // upper-case token as sent: "GET", "POST", ...
  std::string target;                         // raw request-target: "/api/x%20y?a=1"
  std::string path;                           // percent-decoded path without the query: "/api/x y"
  std::map<std::string, std::string> query;   // decoded query parameters
  std::map<std::string, std::string> headers; // lower-case names; repeats joined with ", "
  std::string body;
  std::string remote_address; // peer IP as text
  std::uint16_t remote_port = 0;
  unsigned version = 11; // 10 or 11

  // Header value or "" when absent; name must be lower-case.
  std::string_view header(std::string_view lower_case_name) const;
};

struct http_response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers; // extra headers, sent as given
};

// {"error": error, "detail": detail} with the given status, the error shape of the whole API.
http_response json_error_response(int status, std::string_view error, std::string_view detail);

// Completes one request. Copyable; call it once, from any thread, at any later time: the
// response is posted back to the connection's strand. Later calls are ignored. If every copy
// is destroyed without a call, the client gets a 500 so a lost reply never hangs a connection.
class http_responder {
public:
  // The server builds these; tests of request handlers can build one around a lambda.
  explicit http_responder(std::function<void(http_response)> deliver);
  // Answers nowhere; exists because message frameworks want default-constructible types.
  http_responder()
      : http_responder(std::function<void(http_response)>{}) {}

  void operator()(http_response response) const;

  // True once some copy has been called.
  bool answered() const;

private:
  struct state;
  std::shared_ptr<state> state_;
};

using http_handler = std::function<void(http_request, http_responder)>;

} // namespace vigil
