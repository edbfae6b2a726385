#include "runtime/agent_client.hpp"

#include "io/http/http_client.hpp"

#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <iostream>

namespace vigil {

namespace {

// The control API as seen from this host: an agent listening on all addresses is reached
// over loopback.
std::string control_api_url(const api_settings& api) {
  auto host = api.bind == "0.0.0.0"                     ? std::string{"127.0.0.1"}
              : api.bind == "::"                        ? std::string{"[::1]"}
              : api.bind.find(':') != std::string::npos ? "[" + api.bind + "]"
                                                        : api.bind;
  return "http://" + host + ":" + std::to_string(api.control_port);
}

// A control-scope token when the request needs one; otherwise, or when there is none, the
// first token, so that a read-only token earns the agent's own 403 with its reason.
const api_token* choose_token(const std::vector<api_token>& tokens, bool needs_control) {
  const api_token* first = nullptr;
  for (auto& t : tokens) {
    if (t.token.empty())
      continue;
    if (!first)
      first = &t;
    if (needs_control && std::find(t.scopes.begin(), t.scopes.end(), "control") != t.scopes.end())
      return &t;
  }
  return first;
}

} // namespace

agent_answer ask_agent(const parsed_command_line& cl, const agent_request& request) {
  agent_answer answer;
  auto loaded = load_config(cl.config);
  if (!loaded.ok()) {
    for (auto& e : loaded.errors)
      std::cerr << "error: " << e << "\n";
    answer.exit_code = 1;
    return answer;
  }
  auto& s = *loaded.value;
  auto url = cl.api_url.empty() ? control_api_url(s.api) : cl.api_url;
  std::map<std::string, std::string> headers;
  if (auto* token = choose_token(s.api.tokens, request.needs_control))
    headers["Authorization"] = "Bearer " + token->token;
  std::string body;
  if (!request.body.is_null()) {
    headers["Content-Type"] = "application/json";
    body = request.body.dump();
  }
  boost::asio::io_context io;
  http_client client{io};
  http_client_result result;
  client.request(request.method, url + request.target, headers, body, std::chrono::seconds{10},
                 [&](http_client_result r) { result = std::move(r); });
  io.run();
  if (!result.transport_ok()) {
    std::cerr << "vigil: agent not reachable at " << url << ": " << to_string(result.error)
              << (result.error_detail.empty() ? "" : " (" + result.error_detail + ")") << "\n";
    answer.exit_code = 3;
    return answer;
  }
  answer.status = result.status;
  answer.text = std::move(result.body);
  answer.body = nlohmann::json::parse(answer.text, nullptr, false);
  return answer;
}

int report_api_error(const agent_answer& answer) {
  auto& b = answer.body;
  auto field = [&](const char* name) {
    return b.is_object() && b.contains(name) && b[name].is_string() ? b[name].get<std::string>()
                                                                    : std::string{};
  };
  auto error = field("error"), detail = field("detail");
  std::cerr << "vigil: " << (detail.empty() ? (error.empty() ? answer.text : error) : detail)
            << " (HTTP " << answer.status << (error.empty() ? "" : " " + error) << ")\n";
  return 1;
}

} // namespace vigil
