#pragma once

// A Beast HTTP/1.1 server on a unix socket in a temp directory that answers like the Docker
// Engine API: every request gets the configured status and body (or, when `hang` is set, no
// answer at all). It records the requests it saw. One thread of its own; stopped by the
// destructor.

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace vigil::test {

// The shape of GET /containers/json?all=1 (Engine API ContainerSummary, as the API reference
// shows it): one running and one exited container.
inline const std::string engine_container_list = R"([
  {
    "Id": "8dfafdbc3a40b7f2d5a1c3e9f0a6b4c2d8e1f3a5b7c9d0e2f4a6b8c0d2e4f6a8",
    "Names": ["/boring_feynman"],
    "Image": "ubuntu:latest",
    "ImageID": "sha256:d74508fb6632491cea586a1fd7d748dfc5274cd6fdfedee309ecdcbc2bf5cb82",
    "Command": "echo 1",
    "Created": 1367854155,
    "State": "exited",
    "Status": "Exited (0) 3 days ago",
    "Ports": [{"PrivatePort": 2222, "PublicPort": 3333, "Type": "tcp"}],
    "Labels": {"com.example.vendor": "Acme", "com.example.version": "1.0"},
    "SizeRw": 12288,
    "SizeRootFs": 0,
    "HostConfig": {"NetworkMode": "default"},
    "NetworkSettings": {"Networks": {"bridge": {
      "NetworkID": "7ea29fc1412292a2d7bba362f9253545fecdfa8ce9a6e37dd10ba8bee7129812",
      "EndpointID": "2cdc4edb1ded3631c81f57966563e5c8525b81121bb3706a9a9a3ae102711f3f",
      "Gateway": "172.17.0.1", "IPAddress": "172.17.0.2", "IPPrefixLen": 16,
      "IPv6Gateway": "", "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0,
      "MacAddress": "02:42:ac:11:00:02"}}},
    "Mounts": [{"Name": "fac362", "Source": "/data", "Destination": "/data", "Driver": "local",
                "Mode": "ro,Z", "RW": false, "Propagation": ""}]
  },
  {
    "Id": "9cd87474be90e3c1a2b4d6f8e0a2c4e6f8a0b2c4d6e8f0a2b4c6d8e0f2a4b6c8",
    "Names": ["/web"],
    "Image": "nginx:1.25",
    "ImageID": "sha256:a8758716bb6aa4d90071160d27028fe4eaee7ce8166221a97d30440c8eac2be6",
    "Command": "/docker-entrypoint.sh nginx -g 'daemon off;'",
    "Created": 1735689600,
    "State": "running",
    "Status": "Up 2 hours",
    "Ports": [{"IP": "0.0.0.0", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"}],
    "Labels": {},
    "HostConfig": {"NetworkMode": "bridge"},
    "NetworkSettings": {"Networks": {}},
    "Mounts": []
  }
])";

class fake_docker_engine {
public:
  explicit fake_docker_engine(std::filesystem::path socket_path)
      : path_(std::move(socket_path))
      , acceptor_(io_) {
    namespace net = boost::asio;
    using local = net::local::stream_protocol;
    std::filesystem::remove(path_);
    acceptor_.open(local{});
    acceptor_.bind(local::endpoint{path_.string()});
    acceptor_.listen();
    accept();
    thread_ = std::thread{[this] { io_.run(); }};
  }

  ~fake_docker_engine() {
    boost::asio::post(io_, [this] {
      boost::system::error_code ignored;
      acceptor_.close(ignored);
      for (auto& s : sessions_)
        s->socket.close(ignored);
      io_.stop();
    });
    thread_.join();
  }

  fake_docker_engine(const fake_docker_engine&) = delete;
  fake_docker_engine& operator=(const fake_docker_engine&) = delete;

  void answer(unsigned status, std::string body) {
    std::lock_guard lock{mtx_};
    status_ = status;
    body_ = std::move(body);
  }
  void hang() {
    std::lock_guard lock{mtx_};
    hang_ = true;
  }

  struct seen_request {
    std::string method;
    std::string target;
    unsigned version = 0;
    std::string host;
  };
  std::vector<seen_request> requests() const {
    std::lock_guard lock{mtx_};
    return requests_;
  }

  const std::filesystem::path& path() const { return path_; }

private:
  struct session {
    explicit session(boost::asio::io_context& io)
        : socket(io) {}
    boost::asio::local::stream_protocol::socket socket;
    boost::beast::flat_buffer buffer;
    boost::beast::http::request<boost::beast::http::string_body> request;
    boost::beast::http::response<boost::beast::http::string_body> response;
  };

  void accept() {
    auto s = std::make_shared<session>(io_);
    acceptor_.async_accept(s->socket, [this, s](const boost::system::error_code& ec) {
      if (ec)
        return;
      sessions_.push_back(s);
      read(s);
      accept();
    });
  }

  void read(std::shared_ptr<session> s) {
    namespace http = boost::beast::http;
    http::async_read(s->socket, s->buffer, s->request,
                     [this, s](const boost::system::error_code& ec, std::size_t) {
                       if (ec)
                         return;
                       std::lock_guard lock{mtx_};
                       requests_.push_back({std::string{s->request.method_string()},
                                            std::string{s->request.target()}, s->request.version(),
                                            std::string{s->request[http::field::host]}});
                       if (hang_)
                         return; // keep the connection open, never answer
                       s->response = {static_cast<http::status>(status_), 11};
                       s->response.set(http::field::content_type, "application/json");
                       s->response.set(http::field::server, "Docker/24.0.7 (linux)");
                       s->response.set("Api-Version", "1.43");
                       s->response.body() = body_;
                       s->response.keep_alive(false);
                       s->response.prepare_payload();
                       http::async_write(s->socket, s->response,
                                         [s](const boost::system::error_code&, std::size_t) {
                                           boost::system::error_code ignored;
                                           s->socket.shutdown(
                                               boost::asio::socket_base::shutdown_send, ignored);
                                         });
                     });
  }

  std::filesystem::path path_;
  boost::asio::io_context io_;
  boost::asio::local::stream_protocol::acceptor acceptor_;
  std::vector<std::shared_ptr<session>> sessions_;
  mutable std::mutex mtx_;
  unsigned status_ = 200;
  std::string body_ = engine_container_list;
  bool hang_ = false;
  std::vector<seen_request> requests_;
  std::thread thread_;
};

} // namespace vigil::test
