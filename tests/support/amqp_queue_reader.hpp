#pragma once

// A plain rabbitmq-c client for tests: reads back what the broker stored (basic.get)
// and cleans up queues.

#include <amqp.h>
#include <amqp_tcp_socket.h>

#include <optional>
#include <stdexcept>
#include <string>

namespace vigil::test {

// A plain rabbitmq-c client to look at what the broker stored and to clean up.
class amqp_queue_reader {
public:
  explicit amqp_queue_reader(const std::string& url) {
    std::string copy = url;
    amqp_connection_info info{};
    if (amqp_parse_url(copy.data(), &info) != AMQP_STATUS_OK)
      throw std::runtime_error("bad url");
    conn_ = amqp_new_connection();
    auto* socket = amqp_tcp_socket_new(conn_);
    if (amqp_socket_open(socket, info.host, info.port) != AMQP_STATUS_OK)
      throw std::runtime_error("amqp_queue_reader: cannot connect");
    auto login =
        amqp_login(conn_, "/", 0, 131072, 0, AMQP_SASL_METHOD_PLAIN, info.user, info.password);
    if (login.reply_type != AMQP_RESPONSE_NORMAL)
      throw std::runtime_error("amqp_queue_reader: login failed");
    amqp_channel_open(conn_, 1);
    if (amqp_get_rpc_reply(conn_).reply_type != AMQP_RESPONSE_NORMAL)
      throw std::runtime_error("amqp_queue_reader: channel open failed");
  }
  ~amqp_queue_reader() {
    amqp_channel_close(conn_, 1, AMQP_REPLY_SUCCESS);
    amqp_connection_close(conn_, AMQP_REPLY_SUCCESS);
    amqp_destroy_connection(conn_);
  }

  struct message {
    std::string body, message_id, content_type;
    int delivery_mode = 0;
  };

  std::optional<message> get(const std::string& queue) {
    auto reply = amqp_basic_get(conn_, 1, amqp_cstring_bytes(queue.c_str()), /*no_ack*/ 1);
    if (reply.reply_type != AMQP_RESPONSE_NORMAL)
      throw std::runtime_error("basic.get failed");
    if (reply.reply.id != AMQP_BASIC_GET_OK_METHOD)
      return std::nullopt; // get-empty
    amqp_message_t raw;
    if (amqp_read_message(conn_, 1, &raw, 0).reply_type != AMQP_RESPONSE_NORMAL)
      throw std::runtime_error("read_message failed");
    message m;
    auto text = [](amqp_bytes_t b) { return std::string{static_cast<char*>(b.bytes), b.len}; };
    m.body = text(raw.body);
    if (raw.properties._flags & AMQP_BASIC_MESSAGE_ID_FLAG)
      m.message_id = text(raw.properties.message_id);
    if (raw.properties._flags & AMQP_BASIC_CONTENT_TYPE_FLAG)
      m.content_type = text(raw.properties.content_type);
    if (raw.properties._flags & AMQP_BASIC_DELIVERY_MODE_FLAG)
      m.delivery_mode = raw.properties.delivery_mode;
    amqp_destroy_message(&raw);
    amqp_maybe_release_buffers(conn_);
    return m;
  }

  void delete_queue(const std::string& queue) {
    amqp_queue_delete(conn_, 1, amqp_cstring_bytes(queue.c_str()), 0, 0);
    amqp_get_rpc_reply(conn_);
  }

private:
  amqp_connection_state_t conn_ = nullptr;
};

} // namespace vigil::test
