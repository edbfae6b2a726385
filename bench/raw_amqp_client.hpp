#pragma once

// A bare rabbitmq-c connection with one channel open: the minimal publisher of the broker
// ceiling, and the admin client of every benchmark (declare, depth, purge, delete, peek).

#include <amqp.h>
#include <amqp_tcp_socket.h>

#include <cstdint>
#include <cstdio>
#include <optional>
#include <stdexcept>
#include <string>

namespace vigil::bench {

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
    open_channel();
  }
  ~raw_amqp_client() {
    if (channel_open_)
      amqp_channel_close(conn_, channel_, AMQP_REPLY_SUCCESS);
    amqp_connection_close(conn_, AMQP_REPLY_SUCCESS);
    amqp_destroy_connection(conn_);
  }
  raw_amqp_client(const raw_amqp_client&) = delete;
  raw_amqp_client& operator=(const raw_amqp_client&) = delete;

  amqp_connection_state_t handle() const { return conn_; }
  amqp_channel_t channel() const { return channel_; }

  // Same properties as vigil's declare (durable, not exclusive, not auto-delete, no arguments).
  void declare(const std::string& queue) {
    amqp_queue_declare(conn_, channel_, amqp_cstring_bytes(queue.c_str()), 0, 1, 0, 0,
                       amqp_empty_table);
    check("queue.declare");
  }
  // Messages ready in the queue (a passive declare answers with the count); nullopt while the
  // queue does not exist — the broker then closes the channel, so a fresh one is opened.
  std::optional<std::uint32_t> depth(const std::string& queue) {
    auto* ok = amqp_queue_declare(conn_, channel_, amqp_cstring_bytes(queue.c_str()), 1, 1, 0, 0,
                                  amqp_empty_table);
    if (amqp_get_rpc_reply(conn_).reply_type != AMQP_RESPONSE_NORMAL || ok == nullptr) {
      channel_open_ = false;
      ++channel_;
      open_channel();
      return std::nullopt;
    }
    return ok->message_count;
  }
  void purge(const std::string& queue) {
    amqp_queue_purge(conn_, channel_, amqp_cstring_bytes(queue.c_str()));
    check("queue.purge");
  }
  void remove(const std::string& queue) {
    amqp_queue_delete(conn_, channel_, amqp_cstring_bytes(queue.c_str()), 0, 0);
    check("queue.delete");
  }

private:
  void open_channel() {
    amqp_channel_open(conn_, channel_);
    check("channel.open");
    channel_open_ = true;
  }
  void check(const char* what) {
    if (amqp_get_rpc_reply(conn_).reply_type != AMQP_RESPONSE_NORMAL)
      throw std::runtime_error(std::string{what} + " failed");
  }
  amqp_connection_state_t conn_ = nullptr;
  amqp_channel_t channel_ = 1;
  bool channel_open_ = false;
};

} // namespace vigil::bench
