#pragma once

// A real HTTP backend for tests, on loopback: vigil's own Beast server (io/http) with a
// scripted handler; it records every request it receives.

#include "io/http/http_server.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace vigil::test {

class test_backend {
public:
  using script = std::function<http_response(const http_request&)>;

  explicit test_backend(script answer = [](const http_request&) { return http_response{}; })
      : answer_(std::move(answer)) {
    server_.emplace(io_, http_server_options{}, [this](http_request req, http_responder respond) {
      http_response r;
      {
        std::lock_guard lock{mutex_};
        requests_.push_back(req);
        arrivals_.push_back(std::chrono::steady_clock::now());
        r = answer_(req);
      }
      respond(std::move(r));
    });
    thread_ = std::thread{[this] { io_.run(); }};
  }

  ~test_backend() {
    server_->stop();
    guard_.reset();
    io_.stop();
    thread_.join();
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_->port()); }

  void set_script(script answer) {
    std::lock_guard lock{mutex_};
    answer_ = std::move(answer);
  }

  std::vector<http_request> requests(const std::string& path = {}) const {
    std::lock_guard lock{mutex_};
    std::vector<http_request> out;
    for (auto& r : requests_)
      if (path.empty() || r.path == path)
        out.push_back(r);
    return out;
  }

  // When each request to `path` arrived, in order.
  std::vector<std::chrono::steady_clock::time_point> arrivals(const std::string& path) const {
    std::lock_guard lock{mutex_};
    std::vector<std::chrono::steady_clock::time_point> out;
    for (size_t i = 0; i < requests_.size(); ++i)
      if (requests_[i].path == path)
        out.push_back(arrivals_[i]);
    return out;
  }

  // Waits until at least `n` requests to `path` arrived; returns them.
  std::vector<http_request> wait_for(const std::string& path, size_t n,
                                     std::chrono::seconds deadline = std::chrono::seconds{30}) {
    auto until = std::chrono::steady_clock::now() + deadline;
    auto got = requests(path);
    while (got.size() < n && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds{50});
      got = requests(path);
    }
    return got;
  }

private:
  mutable std::mutex mutex_;
  script answer_;
  std::vector<http_request> requests_;
  std::vector<std::chrono::steady_clock::time_point> arrivals_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_{
      io_.get_executor()};
  std::optional<http_server> server_;
  std::thread thread_;
};

} // namespace vigil::test
