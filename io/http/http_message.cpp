#include "io/http/http_message.hpp"

#include <nlohmann/json.hpp>

#include <atomic>

namespace vigil {

std::string_view http_request::header(std::string_view lower_case_name) const {
  auto it = headers.find(std::string(lower_case_name));
  return it == headers.end() ? std::string_view{} : std::string_view{it->second};
}

http_response json_error_response(int status, std::string_view error, std::string_view detail) {
  http_response response;
  response.status = status;
  response.content_type = "application/json";
  // replace: a detail echoing client input may contain invalid UTF-8.
  response.body = nlohmann::json{{"error", error}, {"detail", detail}}.dump(
      -1, ' ', false, nlohmann::json::error_handler_t::replace);
  return response;
}

struct http_responder::state {
  std::function<void(http_response)> deliver;
  std::atomic<bool> used{false};

  ~state() {
    if (!used.exchange(true) && deliver) {
      try {
        deliver(json_error_response(500, "internal_error", "the handler dropped the request"));
      } catch (...) {
        // A destructor must not throw; the connection's own timeout closes it instead.
      }
    }
  }
};

http_responder::http_responder(std::function<void(http_response)> deliver)
    : state_(std::make_shared<state>()) {
  state_->deliver = std::move(deliver);
}

void http_responder::operator()(http_response response) const {
  if (state_->used.exchange(true))
    return;
  if (state_->deliver)
    state_->deliver(std::move(response));
}

bool http_responder::answered() const {
  return state_->used.load();
}

} // namespace vigil
