#pragma once

// Shared by the io_http tests: an io_context on background threads, bounded waiting, and
// small blocking clients built directly on Beast (independent of the code under test).

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace vigil::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

// Runs the io_context on `threads` threads until destroyed.
class io_runner {
public:
  explicit io_runner(int threads = 2)
      : guard_(asio::make_work_guard(io)) {
    for (int i = 0; i < threads; ++i)
      threads_.emplace_back([this] { io.run(); });
  }
  ~io_runner() {
    guard_.reset();
    io.stop();
    for (auto& t : threads_)
      t.join();
  }
  asio::io_context io;

private:
  asio::executor_work_guard<asio::io_context::executor_type> guard_;
  std::vector<std::thread> threads_;
};

// Polls `condition` until true or the deadline passes; returns the last result.
inline bool wait_until(const std::function<bool()>& condition,
                       std::chrono::milliseconds deadline = 10s) {
  auto end = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < end) {
    if (condition())
      return true;
    std::this_thread::sleep_for(5ms);
  }
  return condition();
}

// Runs one asynchronous operation on a private io_context with a deadline, so that blocking
// test clients can never hang a test. On timeout `on_timeout` must cancel the operation.
class bounded_runner {
public:
  template <class Start>
  beast::error_code run(Start start, const std::function<void()>& on_timeout,
                        std::chrono::milliseconds timeout = 10s) {
    beast::error_code result;
    bool done = false;
    start([&](beast::error_code ec, auto&&...) {
      result = ec;
      done = true;
    });
    io.restart();
    io.run_for(timeout);
    if (!done) {
      on_timeout();
      io.restart();
      io.run();
      return asio::error::timed_out;
    }
    return result;
  }
  asio::io_context io;
};

// A TCP connection to 127.0.0.1:port driven synchronously with a deadline per operation.
class raw_connection {
public:
  // `from`: the local address to connect from; on Linux all of 127.0.0.0/8 is loopback.
  explicit raw_connection(std::uint16_t port, const std::string& from = "127.0.0.1")
      : socket_(runner_.io) {
    socket_.open(tcp::v4());
    socket_.bind({asio::ip::make_address(from), 0});
    socket_.connect({asio::ip::make_address("127.0.0.1"), port});
  }

  void write(const std::string& bytes) {
    auto ec =
        runner_.run([&](auto handler) { asio::async_write(socket_, asio::buffer(bytes), handler); },
                    [&] { socket_.close(); });
    if (ec)
      throw beast::system_error(ec);
  }

  // Reads one response; throws on EOF/timeout.
  http::response<http::string_body> read_response() {
    http::response<http::string_body> response;
    auto ec =
        runner_.run([&](auto handler) { http::async_read(socket_, buffer_, response, handler); },
                    [&] { socket_.close(); });
    if (ec)
      throw beast::system_error(ec);
    return response;
  }

  http::response<http::string_body> exchange(const std::string& request_bytes) {
    write(request_bytes);
    return read_response();
  }

  // True when the peer closed the connection (EOF or reset) before sending anything more.
  bool closed_by_peer(std::chrono::milliseconds timeout = 10s) {
    char byte;
    auto ec =
        runner_.run([&](auto handler) { socket_.async_read_some(asio::buffer(&byte, 1), handler); },
                    [&] { socket_.close(); }, timeout);
    return ec == asio::error::eof || ec == asio::error::connection_reset;
  }

  tcp::socket& socket() { return socket_; }

private:
  bounded_runner runner_;
  tcp::socket socket_;
  beast::flat_buffer buffer_;
};

inline std::string simple_get(const std::string& target, bool keep_alive = true) {
  return "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
         (keep_alive ? "" : "Connection: close\r\n") + "\r\n";
}

} // namespace vigil::testing
