#pragma once

#include "tests/support/private_broker.hpp"

#include <amqp.h>
#include <amqp_tcp_socket.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace vigil::bench {

// The broker under test: VIGIL_TEST_AMQP_URL, else a private one for the program's lifetime.
class bench_broker {
public:
  bench_broker() {
    if (const char* url = std::getenv("VIGIL_TEST_AMQP_URL"); url != nullptr && *url != '\0') {
      url_ = url;
    } else {
      broker_ = std::make_unique<test::private_broker>();
      url_ = broker_->url();
    }
  }
  const std::string& url() const { return url_; }

private:
  std::unique_ptr<test::private_broker> broker_;
  std::string url_;
};

// A bare rabbitmq-c connection with channel 1 open: the minimal client, also used for admin.
class raw_amqp_client {
public:
  explicit raw_amqp_client(const std::string& url) {
    std::string copy = url;
    amqp_connection_info info{};
    if (amqp_parse_url(copy.data(), &info) != AMQP_STATUS_OK)
      throw std::runtime_error("bad AMQP URL");
    conn_ = amqp_new_connection();
    auto* socket = amqp_tcp_socket_new(conn_);
    if (amqp_socket_open(socket, info.host, info.port) != AMQP_STATUS_OK)
      throw std::runtime_error("cannot connect to the broker");
    if (amqp_login(conn_, "/", 0, 131072, 0, AMQP_SASL_METHOD_PLAIN, info.user, info.password)
            .reply_type != AMQP_RESPONSE_NORMAL)
      throw std::runtime_error("login failed");
    amqp_channel_open(conn_, 1);
    check("channel.open");
  }
  ~raw_amqp_client() {
    amqp_channel_close(conn_, 1, AMQP_REPLY_SUCCESS);
    amqp_connection_close(conn_, AMQP_REPLY_SUCCESS);
    amqp_destroy_connection(conn_);
  }
  raw_amqp_client(const raw_amqp_client&) = delete;
  raw_amqp_client& operator=(const raw_amqp_client&) = delete;

  amqp_connection_state_t handle() const { return conn_; }

  void declare(const std::string& queue) {
    amqp_queue_declare(conn_, 1, amqp_cstring_bytes(queue.c_str()), 0, 1, 0, 0, amqp_empty_table);
    check("queue.declare");
  }
  // Messages ready in the queue (a passive declare answers with the count).
  std::uint32_t depth(const std::string& queue) {
    auto* ok = amqp_queue_declare(conn_, 1, amqp_cstring_bytes(queue.c_str()), 1, 1, 0, 0,
                                  amqp_empty_table);
    check("queue.declare passive");
    return ok->message_count;
  }
  void purge(const std::string& queue) {
    amqp_queue_purge(conn_, 1, amqp_cstring_bytes(queue.c_str()));
    check("queue.purge");
  }
  void remove(const std::string& queue) {
    amqp_queue_delete(conn_, 1, amqp_cstring_bytes(queue.c_str()), 0, 0);
    check("queue.delete");
  }

private:
  void check(const char* what) {
    if (amqp_get_rpc_reply(conn_).reply_type != AMQP_RESPONSE_NORMAL)
      throw std::runtime_error(std::string{what} + " failed");
  }
  amqp_connection_state_t conn_ = nullptr;
};

inline double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  auto n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

} // namespace vigil::bench
