#include "io/docker/docker_engine_client.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

namespace vigil::docker {

namespace {

namespace net = boost::asio;
namespace http = boost::beast::http;
using local = net::local::stream_protocol;
using boost::system::error_code;
using json = nlohmann::json;

// The engine's answer is a few hundred bytes per container; this is far beyond any real host.
constexpr std::uint64_t max_body_bytes = 32ull * 1024 * 1024;

std::string string_field(const json& c, const char* key) {
  auto it = c.find(key);
  if (it == c.end() || it->is_null())
    return {};
  if (!it->is_string())
    throw engine_error(std::string{"malformed container list: \""} + key + "\" is not a string");
  return it->get<std::string>();
}

// Not reachable rather than failed: nothing listens there, or we may not talk to it.
bool means_no_engine(const error_code& ec) {
  return ec == boost::system::errc::no_such_file_or_directory ||
         ec == boost::system::errc::connection_refused ||
         ec == boost::system::errc::permission_denied || ec == boost::system::errc::not_a_directory;
}

} // namespace

std::vector<container_info> parse_container_list(const std::string& body) {
  json doc;
  try {
    doc = json::parse(body);
  } catch (const json::parse_error& e) {
    throw engine_error(std::string{"malformed container list: "} + e.what());
  }
  if (!doc.is_array())
    throw engine_error("malformed container list: not a JSON array");
  std::vector<container_info> out;
  out.reserve(doc.size());
  for (auto& c : doc) {
    if (!c.is_object())
      throw engine_error("malformed container list: an entry is not an object");
    container_info info;
    info.id = string_field(c, "Id");
    if (info.id.empty())
      throw engine_error("malformed container list: an entry has no \"Id\"");
    if (auto names = c.find("Names");
        names != c.end() && names->is_array() && !names->empty() && names->front().is_string()) {
      info.name = names->front().get<std::string>();
      if (!info.name.empty() && info.name.front() == '/')
        info.name.erase(0, 1);
    }
    info.image = string_field(c, "Image");
    info.state = string_field(c, "State");
    info.status = string_field(c, "Status");
    if (auto created = c.find("Created"); created != c.end() && created->is_number_integer())
      info.created = created->get<std::int64_t>();
    out.push_back(std::move(info));
  }
  return out;
}

container_listing list_containers(const std::string& socket_path,
                                  std::chrono::milliseconds timeout) {
  net::io_context ioc;
  local::socket socket{ioc};
  net::steady_timer deadline{ioc};
  local::endpoint endpoint;
  try {
    endpoint = local::endpoint{socket_path};
  } catch (const boost::system::system_error& e) { // longer than sun_path
    throw engine_error("bad Docker socket path " + socket_path + ": " + e.what());
  }
  http::request<http::empty_body> request{http::verb::get, "/containers/json?all=1", 11};
  request.set(http::field::host, "docker"); // required by HTTP/1.1; the engine ignores it
  request.set(http::field::user_agent, "vigil");
  boost::beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(max_body_bytes);

  bool timed_out = false;
  bool connected = false;
  error_code failure;
  deadline.expires_after(timeout);
  deadline.async_wait([&](const error_code& ec) {
    if (ec)
      return; // cancelled: the exchange ended first
    timed_out = true;
    error_code ignored;
    socket.close(ignored); // aborts whichever operation is pending
  });
  socket.async_connect(endpoint, [&](const error_code& ec) {
    if (ec) {
      failure = ec;
      deadline.cancel();
      return;
    }
    connected = true;
    http::async_write(socket, request, [&](const error_code& ec, std::size_t) {
      if (ec) {
        failure = ec;
        deadline.cancel();
        return;
      }
      http::async_read(socket, buffer, parser, [&](const error_code& ec, std::size_t) {
        failure = ec;
        deadline.cancel();
      });
    });
  });
  ioc.run();

  if (timed_out)
    throw engine_error("no answer from the Docker engine at " + socket_path + " within " +
                       std::to_string(timeout.count()) + " ms");
  if (!connected) {
    if (means_no_engine(failure))
      return container_listing{
          false, "cannot connect to " + socket_path + ": " + failure.message(), {}};
    throw engine_error("cannot connect to " + socket_path + ": " + failure.message());
  }
  if (failure)
    throw engine_error("HTTP exchange with the Docker engine failed: " + failure.message());
  auto& response = parser.get();
  if (response.result() != http::status::ok) {
    std::string detail = response.body().substr(0, 200);
    try { // the engine's errors are {"message": "..."}
      auto doc = json::parse(response.body());
      if (doc.is_object() && doc.contains("message") && doc["message"].is_string())
        detail = doc["message"].get<std::string>();
    } catch (const json::exception&) {
    }
    throw engine_error("the Docker engine answered " + std::to_string(response.result_int()) +
                       ": " + detail);
  }
  return container_listing{true, {}, parse_container_list(response.body())};
}

} // namespace vigil::docker
