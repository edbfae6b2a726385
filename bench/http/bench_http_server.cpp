// bench_http_server: N keep-alive clients GET a trivial handler on loopback for a few seconds;
// prints req/s per run, the median, and the process RSS (server and clients share the process).
//
//   bench_http_server [clients=32] [seconds_per_run=3] [runs=5] [server_threads=1]

#include "io/http/http_server.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

// One keep-alive client issuing GETs back to back until told to stop.
class load_client : public std::enable_shared_from_this<load_client> {
public:
  load_client(asio::io_context& io, tcp::endpoint endpoint, std::atomic<bool>& running,
              std::atomic<std::uint64_t>& completed)
      : stream_(io)
      , endpoint_(endpoint)
      , running_(running)
      , completed_(completed) {
    request_.method(http::verb::get);
    request_.target("/api/health");
    request_.version(11);
    request_.set(http::field::host, "127.0.0.1");
    request_.keep_alive(true);
  }

  void start() {
    stream_.async_connect(endpoint_, [self = shared_from_this()](beast::error_code ec) {
      if (!ec)
        self->next();
    });
  }

private:
  void next() {
    if (!running_)
      return;
    http::async_write(stream_, request_,
                      [self = shared_from_this()](beast::error_code ec, std::size_t) {
                        if (ec)
                          return;
                        self->response_ = {};
                        http::async_read(self->stream_, self->buffer_, self->response_,
                                         [self](beast::error_code rec, std::size_t) {
                                           if (rec)
                                             return;
                                           ++self->completed_;
                                           self->next();
                                         });
                      });
  }

  beast::tcp_stream stream_;
  tcp::endpoint endpoint_;
  std::atomic<bool>& running_;
  std::atomic<std::uint64_t>& completed_;
  http::request<http::empty_body> request_;
  http::response<http::string_body> response_;
  beast::flat_buffer buffer_;
};

long status_kib(const char* field) {
  std::ifstream status{"/proc/self/status"};
  std::string line;
  while (std::getline(status, line))
    if (line.rfind(field, 0) == 0)
      return std::atol(line.c_str() + std::string(field).size());
  return -1;
}

} // namespace

int main(int argc, char** argv) {
  int clients = argc > 1 ? std::atoi(argv[1]) : 32;
  int seconds = argc > 2 ? std::atoi(argv[2]) : 3;
  int runs = argc > 3 ? std::atoi(argv[3]) : 5;
  int server_threads = argc > 4 ? std::atoi(argv[4]) : 1;

  asio::io_context server_io;
  auto server_guard = asio::make_work_guard(server_io);
  vigil::http_server_options options;
  options.max_connections = static_cast<std::size_t>(clients) + 16;
  vigil::http_server server{server_io, options,
                            [](vigil::http_request, vigil::http_responder respond) {
                              vigil::http_response response;
                              response.body = R"({"status":"ok"})";
                              respond(std::move(response));
                            }};
  std::vector<std::thread> server_pool;
  for (int i = 0; i < server_threads; ++i)
    server_pool.emplace_back([&] { server_io.run(); });

  std::printf("bench_http_server: %d keep-alive clients, %d s x %d runs, %d server thread(s)\n",
              clients, seconds, runs, server_threads);
  std::vector<double> rates;
  for (int run = 0; run < runs; ++run) {
    {
      asio::io_context client_io;
      std::atomic<bool> running{true};
      std::atomic<std::uint64_t> completed{0};
      tcp::endpoint endpoint{asio::ip::make_address("127.0.0.1"), server.port()};
      for (int c = 0; c < clients; ++c)
        std::make_shared<load_client>(client_io, endpoint, running, completed)->start();
      std::thread client_thread{[&] { client_io.run(); }};
      std::this_thread::sleep_for(std::chrono::milliseconds(200)); // connect + warm up
      auto before = completed.load();
      auto start = std::chrono::steady_clock::now();
      std::this_thread::sleep_for(std::chrono::seconds(seconds));
      auto done = completed.load() - before;
      auto elapsed =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      running = false;
      client_io.stop();
      client_thread.join();
      rates.push_back(static_cast<double>(done) / elapsed);
    } // client sockets close here
    // The server notices the dropped clients asynchronously; give it a moment to clean up.
    for (int i = 0; i < 200 && server.live_connections() != 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    std::printf("  run %d: %.0f req/s (server connections left afterwards: %zu)\n", run + 1,
                rates.back(), server.live_connections());
  }
  std::sort(rates.begin(), rates.end());
  std::printf("median: %.0f req/s\n", rates[rates.size() / 2]);
  std::printf("rss: %ld KiB (peak %ld KiB), server and clients in one process\n",
              status_kib("VmRSS:"), status_kib("VmHWM:"));

  server.stop();
  server_guard.reset();
  server_io.stop();
  for (auto& t : server_pool)
    t.join();
  return 0;
}
