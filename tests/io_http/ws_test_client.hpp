#pragma once

// A blocking WebSocket client for tests, on Beast directly (independent of the code under
// test). Every operation has a deadline so a test can never hang. Text frames for the
// transport tests (io_http), JSON messages for the stream tests (websocket).

#include "tests/io_http/io_http_test_support.hpp"

#include <boost/beast/websocket.hpp>
#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <optional>
#include <string>

namespace vigil::test {

using namespace vigil::testing;
namespace websocket = beast::websocket;
using nlohmann::json;

class ws_client {
public:
  ws_client(std::uint16_t port, const std::string& target,
            std::map<std::string, std::string> headers = {}, int receive_buffer = 0)
      : ws_(runner_.io) {
    auto& socket = ws_.next_layer();
    socket.open(tcp::v4());
    if (receive_buffer > 0)
      socket.set_option(asio::socket_base::receive_buffer_size(receive_buffer));
    beast::error_code ec;
    socket.connect({asio::ip::make_address("127.0.0.1"), port}, ec);
    if (ec) {
      handshake_error = ec;
      return;
    }
    ws_.set_option(websocket::stream_base::decorator([headers](websocket::request_type& request) {
      for (auto& [name, value] : headers)
        request.set(name, value);
    }));
    ws_.read_message_max(64 * 1024 * 1024);
    handshake_error = run([&](auto handler) {
      ws_.async_handshake(handshake_response, "127.0.0.1", target, handler);
    });
  }

  bool connected() const { return !handshake_error; }

  void send_text(const std::string& text) {
    auto ec = run([&](auto handler) { ws_.async_write(asio::buffer(text), handler); });
    if (ec)
      throw beast::system_error(ec);
  }

  void send(const json& message) { send_text(message.dump()); }

  // The next text message, or the error that ended the stream.
  beast::error_code read_raw(std::string& out, std::chrono::milliseconds deadline = 10s) {
    buffer_.clear();
    auto ec = run([&](auto handler) { ws_.async_read(buffer_, handler); }, deadline);
    out = beast::buffers_to_string(buffer_.data());
    return ec;
  }

  std::string read_text() {
    std::string out;
    if (auto ec = read_raw(out))
      throw beast::system_error(ec);
    return out;
  }

  // The next message as JSON, or nullopt when the connection ended (or the deadline passed).
  std::optional<json> read(std::chrono::milliseconds deadline = 30s) {
    std::string text;
    last_error = read_raw(text, deadline);
    if (last_error)
      return std::nullopt;
    return json::parse(text, nullptr, false);
  }

  // Reads until a message satisfies `wanted` (returned) or the connection ends / the overall
  // deadline passes (nullopt). Messages read on the way go to `seen` when given.
  std::optional<json> read_until(const std::function<bool(const json&)>& wanted,
                                 std::chrono::milliseconds deadline = 30s,
                                 std::vector<json>* seen = nullptr) {
    auto end = std::chrono::steady_clock::now() + deadline;
    while (std::chrono::steady_clock::now() < end) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          end - std::chrono::steady_clock::now());
      auto m = read(std::max(left, std::chrono::milliseconds{1}));
      if (!m)
        return std::nullopt;
      if (wanted(*m))
        return m;
      if (seen)
        seen->push_back(*m);
    }
    return std::nullopt;
  }

  std::optional<json> read_type(const std::string& type, std::chrono::milliseconds deadline = 30s) {
    return read_until([&](const json& m) { return m.value("type", "") == type; }, deadline);
  }

  void close() {
    run([&](auto handler) { ws_.async_close(websocket::close_code::normal, handler); });
  }

  // Drops the TCP connection without a closing handshake.
  void abort() {
    beast::error_code ignored;
    ws_.next_layer().close(ignored);
  }

  std::string close_reason() const { return std::string(ws_.reason().reason.c_str()); }

  beast::error_code handshake_error;
  beast::error_code last_error;
  websocket::response_type handshake_response;

private:
  template <class Start>
  beast::error_code run(Start start, std::chrono::milliseconds deadline = 10s) {
    return runner_.run(
        start, [&] { ws_.next_layer().close(); }, deadline);
  }

  bounded_runner runner_;
  websocket::stream<tcp::socket> ws_;
  beast::flat_buffer buffer_;
};

} // namespace vigil::test
