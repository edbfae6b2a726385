#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace vigil {

// The URL with its password replaced by "***": the only form of a broker URL that may appear in
// a log line or an error message.
std::string redact_url(std::string_view url);

struct amqp_tls_settings {
  std::string ca_file{};   // PEM bundle to verify the broker; empty: OpenSSL's default paths
  std::string cert_file{}; // optional client certificate (PEM), with key_file
  std::string key_file{};
  bool verify_peer = true;
  bool verify_hostname = true;
};

enum class amqp_queue_setup {
  declare, // declare a durable queue (idempotent; fails if it exists with other arguments)
  passive, // only check that it exists (someone else owns its definition)
  none     // neither: publish with the queue name as routing key and rely on returns
};

struct amqp_settings {
  // amqp://user:pass@host:port/vhost or amqps://... An empty vhost ("host:port/") means "/".
  std::string url{};
  std::string queue = "error_logs_queue";
  amqp_queue_setup queue_setup = amqp_queue_setup::declare;
  bool quorum_queue = false; // x-queue-type=quorum when declaring
  std::chrono::seconds heartbeat{30};
  std::chrono::milliseconds connect_timeout{10'000}; // TCP/TLS connect, login and each RPC
  int frame_max = 131'072;
  std::string connection_name = "vigil"; // shown in the broker's management UI
  amqp_tls_settings tls;                 // used for amqps:// only
};

class amqp_error : public std::runtime_error {
public:
  enum class kind {
    invalid_settings, // bad URL or TLS files
    connect,          // TCP/TLS connection failed or timed out
    authentication,   // login refused (wrong user/password, no vhost access)
    refused,          // the broker refused an operation (queue missing or mismatched)
    connection_lost,  // socket error, heartbeat timeout, or the broker closed the connection
    not_connected     // publish/poll without an open connection
  };
  amqp_error(kind k, const std::string& message)
      : std::runtime_error(message)
      , kind_(k) {}
  kind error_kind() const noexcept { return kind_; }

private:
  kind kind_;
};

// What the broker told us, decoded by poll().
struct amqp_event {
  enum class kind {
    ack,      // delivery_tag (and all below it if multiple) is safely stored
    nack,     // the broker could not store it: publish again
    returned, // mandatory message could not be routed; its ack follows: not delivered
    blocked,  // the broker blocks publishers (resource alarm); reply_text says why
    unblocked,
    channel_closed,   // reply_code/text; the connection must be closed and opened again
    connection_closed // reply_code/text (0 for a socket error or heartbeat timeout)
  };
  kind type = kind::ack;
  std::uint64_t delivery_tag = 0; // ack, nack
  bool multiple = false;          // ack, nack
  std::string message_id{};       // returned
  int reply_code = 0;             // returned, closed
  std::string reply_text{};       // returned, blocked, closed
};

// One AMQP connection with one channel in publisher-confirm mode, over rabbitmq-c.
// Not thread-safe: one owner thread calls connect/publish/poll/close. Call poll() at least
// every heartbeat/2 while idle: heartbeats are sent and checked only inside poll().
class amqp_connection {
public:
  explicit amqp_connection(amqp_settings settings);
  ~amqp_connection();
  amqp_connection(const amqp_connection&) = delete;
  amqp_connection& operator=(const amqp_connection&) = delete;

  // TCP or TLS connect, login, channel open, confirm.select, queue declare/check.
  // Closes a previous connection first. Throws amqp_error; the password is never in its text.
  void connect();
  bool connected() const noexcept { return state_ != nullptr && usable_; }

  // Persistent, mandatory publish to the default exchange with routing key = queue.
  // Returns the delivery tag the broker will ack or nack (1, 2, ... per connection).
  // Throws amqp_error (connection_lost, not_connected).
  std::uint64_t publish(std::string_view message_id, std::string_view body);

  struct message {
    std::string_view message_id;
    std::string_view body;
  };
  // Publishes like publish() for each message, in order, and returns the first one's tag (the
  // others follow consecutively). Over plain TCP the frames of the whole batch are encoded
  // here and written with as few send() calls as the socket takes: rabbitmq-c makes three
  // per message, which at 10,000 messages/s is most of the publisher's CPU.
  std::uint64_t publish_batch(std::span<const message> messages);

  // Waits up to `timeout` for the first frame, then takes whatever else is already buffered.
  // A lost connection is reported as a connection_closed event, not thrown.
  std::vector<amqp_event> poll(std::chrono::milliseconds timeout);

  // Graceful close when possible (bounded by connect_timeout), then frees everything.
  void close() noexcept;

  // Delivery tags published on this connection so far (the last tag handed out).
  std::uint64_t last_delivery_tag() const noexcept { return next_tag_ - 1; }
  const amqp_settings& settings() const noexcept { return settings_; }
  // The URL with its password hidden, for log lines.
  const std::string& redacted_url() const noexcept { return redacted_url_; }

private:
  struct connection_state; // rabbitmq-c types stay out of this header
  void open_connection();
  [[noreturn]] void fail(amqp_error::kind kind, const std::string& message);
  std::string scrub(std::string text) const;
  void handle_method_frame(const void* frame, std::vector<amqp_event>& events);
  void write_all(std::string_view bytes);

  amqp_settings settings_;
  std::string redacted_url_{};
  connection_state* state_ = nullptr;
  bool usable_ = false;
  std::uint64_t next_tag_ = 1;
  std::string frames_{}; // publish_batch's encoding buffer, reused
};

} // namespace vigil
