#include "runtime/status_command.hpp"

#include "io/http/http_client.hpp"

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include <iostream>

namespace vigil {

int run_status_command(const parsed_command_line& cl) {
  auto loaded = load_config(cl.config);
  if (!loaded.ok()) {
    for (auto& e : loaded.errors)
      std::cerr << "error: " << e << "\n";
    return 1;
  }
  auto& s = *loaded.value;
  auto url = cl.status_url;
  if (url.empty()) {
    auto host = s.api.bind == "0.0.0.0"                     ? std::string{"127.0.0.1"}
                : s.api.bind == "::"                        ? std::string{"[::1]"}
                : s.api.bind.find(':') != std::string::npos ? "[" + s.api.bind + "]"
                                                            : s.api.bind;
    url = "http://" + host + ":" + std::to_string(s.api.control_port);
  }
  std::map<std::string, std::string> headers;
  for (auto& t : s.api.tokens)
    if (!t.token.empty()) {
      headers["Authorization"] = "Bearer " + t.token;
      break;
    }
  boost::asio::io_context io;
  http_client client{io};
  http_client_result result;
  client.request("GET", url + "/status", headers, "", std::chrono::seconds{10},
                 [&](http_client_result r) { result = std::move(r); });
  io.run();
  if (!result.transport_ok()) {
    std::cerr << "vigil: agent not reachable at " << url << ": " << to_string(result.error)
              << (result.error_detail.empty() ? "" : " (" + result.error_detail + ")") << "\n";
    return 3;
  }
  auto body = nlohmann::json::parse(result.body, nullptr, false);
  std::cout << (body.is_discarded() ? result.body : body.dump(2)) << "\n";
  return result.status == 200 ? 0 : 1;
}

} // namespace vigil
