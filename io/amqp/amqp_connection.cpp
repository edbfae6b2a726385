#include "io/amqp/amqp_connection.hpp"

#include <amqp.h>
#include <amqp_ssl_socket.h>
#include <amqp_tcp_socket.h>

#include <cerrno>
#include <cstring>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>

namespace vigil {

namespace {

constexpr amqp_channel_t channel = 1;

timeval to_timeval(std::chrono::milliseconds d) {
  if (d.count() < 0)
    d = std::chrono::milliseconds{0};
  return timeval{static_cast<time_t>(d.count() / 1000),
                 static_cast<suseconds_t>((d.count() % 1000) * 1000)};
}

std::string to_string(amqp_bytes_t bytes) {
  if (bytes.bytes == nullptr || bytes.len == 0)
    return {};
  return std::string{static_cast<const char*>(bytes.bytes), bytes.len};
}

amqp_bytes_t to_bytes(std::string_view text) {
  return amqp_bytes_t{text.size(), const_cast<char*>(text.data())};
}

// Text for a failed RPC: the library's error, or the broker's close code and reason.
std::string describe_reply(const amqp_rpc_reply_t& reply) {
  switch (reply.reply_type) {
  case AMQP_RESPONSE_NORMAL:
    return "ok";
  case AMQP_RESPONSE_NONE:
    return "no reply (missing RPC reply type)";
  case AMQP_RESPONSE_LIBRARY_EXCEPTION:
    return amqp_error_string2(reply.library_error);
  case AMQP_RESPONSE_SERVER_EXCEPTION:
    if (reply.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
      auto* close = static_cast<amqp_connection_close_t*>(reply.reply.decoded);
      return "broker closed the connection: " + std::to_string(close->reply_code) + " " +
             to_string(close->reply_text);
    }
    if (reply.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
      auto* close = static_cast<amqp_channel_close_t*>(reply.reply.decoded);
      return "broker closed the channel: " + std::to_string(close->reply_code) + " " +
             to_string(close->reply_text);
    }
    return "unexpected broker method " + std::to_string(reply.reply.id);
  }
  return "unknown reply";
}

int server_reply_code(const amqp_rpc_reply_t& reply) {
  if (reply.reply_type != AMQP_RESPONSE_SERVER_EXCEPTION)
    return 0;
  if (reply.reply.id == AMQP_CONNECTION_CLOSE_METHOD)
    return static_cast<amqp_connection_close_t*>(reply.reply.decoded)->reply_code;
  if (reply.reply.id == AMQP_CHANNEL_CLOSE_METHOD)
    return static_cast<amqp_channel_close_t*>(reply.reply.decoded)->reply_code;
  return 0;
}

// AMQP 0-9-1 wire encoding of basic.publish (method, content header, body frames), exactly
// what amqp_basic_publish sends for the same arguments.
class publish_encoder {
public:
  explicit publish_encoder(std::string& out)
      : out_(out) {}

  void message(std::string_view routing_key, std::string_view message_id, std::string_view body,
               std::size_t frame_max) {
    constexpr std::string_view content_type = "application/json";
    begin_frame(AMQP_FRAME_METHOD);
    u16(60); // basic
    u16(40); // publish
    u16(0);  // reserved (ticket)
    shortstr({});
    shortstr(routing_key);
    u8(0x01); // mandatory, not immediate
    end_frame();

    begin_frame(AMQP_FRAME_HEADER);
    u16(60);
    u16(0); // weight
    u64(body.size());
    u16(AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_MESSAGE_ID_FLAG);
    shortstr(content_type);
    u8(AMQP_DELIVERY_PERSISTENT);
    shortstr(message_id);
    end_frame();

    // A frame's payload is frame_max minus its 7-byte header and 1-byte end marker.
    const std::size_t chunk = frame_max > 8 ? frame_max - 8 : body.size();
    for (std::size_t at = 0; at < body.size(); at += chunk) {
      begin_frame(AMQP_FRAME_BODY);
      out_.append(body.substr(at, chunk));
      end_frame();
    }
  }

private:
  void u8(std::uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void u16(std::uint16_t v) {
    u8(static_cast<std::uint8_t>(v >> 8));
    u8(static_cast<std::uint8_t>(v));
  }
  void u32(std::uint32_t v) {
    u16(static_cast<std::uint16_t>(v >> 16));
    u16(static_cast<std::uint16_t>(v));
  }
  void u64(std::uint64_t v) {
    u32(static_cast<std::uint32_t>(v >> 32));
    u32(static_cast<std::uint32_t>(v));
  }
  void shortstr(std::string_view s) {
    u8(static_cast<std::uint8_t>(s.size()));
    out_.append(s);
  }
  void begin_frame(std::uint8_t type) {
    u8(type);
    u16(channel);
    frame_start_ = out_.size();
    u32(0); // size, patched by end_frame
  }
  void end_frame() {
    auto size = static_cast<std::uint32_t>(out_.size() - frame_start_ - 4);
    for (int i = 0; i < 4; ++i)
      out_[frame_start_ + static_cast<std::size_t>(i)] = static_cast<char>(size >> (24 - 8 * i));
    u8(AMQP_FRAME_END);
  }

  std::string& out_;
  std::size_t frame_start_ = 0;
};

} // namespace

std::string redact_url(std::string_view url) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos)
    return std::string{url};
  auto authority = scheme_end + 3;
  // The last '@' ends the user info: a password may itself contain '@' or '/'.
  auto at = url.rfind('@');
  if (at == std::string_view::npos || at < authority)
    return std::string{url};
  auto colon = url.find(':', authority);
  if (colon == std::string_view::npos || colon > at)
    return std::string{url}; // a user name without a password
  std::string redacted{url.substr(0, colon + 1)};
  redacted += "***";
  redacted += url.substr(at);
  return redacted;
}

struct amqp_connection::connection_state {
  amqp_connection_state_t conn = nullptr;
  std::string password; // only to scrub it from broker or library texts
  bool socket_open = false;
  bool plain_tcp = false; // publish_batch may write frames to the socket itself

  ~connection_state() {
    if (conn != nullptr)
      amqp_destroy_connection(conn);
  }
};

amqp_connection::amqp_connection(amqp_settings settings)
    : settings_(std::move(settings))
    , redacted_url_(redact_url(settings_.url)) {}

amqp_connection::~amqp_connection() {
  close();
}

std::string amqp_connection::scrub(std::string text) const {
  if (state_ == nullptr || state_->password.empty())
    return text;
  const auto& secret = state_->password;
  for (auto pos = text.find(secret); pos != std::string::npos; pos = text.find(secret, pos + 3))
    text.replace(pos, secret.size(), "***");
  return text;
}

void amqp_connection::fail(amqp_error::kind kind, const std::string& message) {
  std::string text = scrub("amqp " + redacted_url_ + ": " + message);
  delete state_;
  state_ = nullptr;
  usable_ = false;
  throw amqp_error(kind, text);
}

void amqp_connection::connect() {
  close();
  state_ = new connection_state;
  try {
    open_connection();
  } catch (const amqp_error&) {
    throw; // fail() already released the state
  } catch (const std::exception& e) {
    fail(amqp_error::kind::connect, e.what());
  }
}

void amqp_connection::open_connection() {
  // amqp_parse_url writes NULs into its argument and points into it: parse a private copy.
  std::string url_copy = settings_.url;
  amqp_connection_info info{};
  if (amqp_parse_url(url_copy.data(), &info) != AMQP_STATUS_OK)
    fail(amqp_error::kind::invalid_settings,
         "invalid URL (expected amqp://user:pass@host:port/vhost or amqps://...)");
  state_->password = info.password != nullptr ? info.password : "";
  std::string vhost = info.vhost != nullptr && *info.vhost != '\0' ? info.vhost : "/";

  state_->conn = amqp_new_connection();
  if (state_->conn == nullptr)
    fail(amqp_error::kind::connect, "out of memory creating the connection");
  auto* conn = state_->conn;

  amqp_socket_t* socket = nullptr;
  if (info.ssl) {
    socket = amqp_ssl_socket_new(conn);
    if (socket == nullptr)
      fail(amqp_error::kind::connect, "cannot create a TLS socket");
    const auto& tls = settings_.tls;
    // rabbitmq-c verifies peer and host name by default: only touch what was configured.
    if (!tls.verify_peer)
      amqp_ssl_socket_set_verify_peer(socket, 0);
    if (!tls.verify_hostname)
      amqp_ssl_socket_set_verify_hostname(socket, 0);
    if (!tls.ca_file.empty() &&
        amqp_ssl_socket_set_cacert(socket, tls.ca_file.c_str()) != AMQP_STATUS_OK)
      fail(amqp_error::kind::invalid_settings, "cannot load CA file '" + tls.ca_file + "'");
    if (!tls.cert_file.empty() && amqp_ssl_socket_set_key(socket, tls.cert_file.c_str(),
                                                          tls.key_file.c_str()) != AMQP_STATUS_OK)
      fail(amqp_error::kind::invalid_settings,
           "cannot load client certificate '" + tls.cert_file + "' / key '" + tls.key_file + "'");
  } else {
    socket = amqp_tcp_socket_new(conn);
    if (socket == nullptr)
      fail(amqp_error::kind::connect, "cannot create a TCP socket");
    state_->plain_tcp = true;
  }

  timeval timeout = to_timeval(settings_.connect_timeout);
  int rc = amqp_socket_open_noblock(socket, info.host, info.port, &timeout);
  if (rc != AMQP_STATUS_OK)
    fail(amqp_error::kind::connect, std::string{"cannot connect to "} + info.host + ":" +
                                        std::to_string(info.port) + ": " + amqp_error_string2(rc));
  state_->socket_open = true;
  amqp_set_handshake_timeout(conn, &timeout);
  amqp_set_rpc_timeout(conn, &timeout);

  amqp_table_entry_t property;
  property.key = amqp_cstring_bytes("connection_name");
  property.value.kind = AMQP_FIELD_KIND_UTF8;
  property.value.value.bytes = to_bytes(settings_.connection_name);
  amqp_table_t properties{1, &property};
  auto login = amqp_login_with_properties(
      conn, vhost.c_str(), 0, settings_.frame_max, static_cast<int>(settings_.heartbeat.count()),
      &properties, AMQP_SASL_METHOD_PLAIN, info.user, state_->password.c_str());
  if (login.reply_type != AMQP_RESPONSE_NORMAL) {
    int code = server_reply_code(login);
    bool refused = code == AMQP_ACCESS_REFUSED || code == AMQP_NOT_ALLOWED ||
                   (login.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
                    login.library_error == AMQP_STATUS_CONNECTION_CLOSED);
    fail(refused ? amqp_error::kind::authentication : amqp_error::kind::connect,
         std::string{"login as '"} + info.user + "' to vhost '" + vhost +
             "' failed: " + describe_reply(login));
  }

  amqp_channel_open(conn, channel);
  if (auto reply = amqp_get_rpc_reply(conn); reply.reply_type != AMQP_RESPONSE_NORMAL)
    fail(amqp_error::kind::connect, "channel.open failed: " + describe_reply(reply));
  amqp_confirm_select(conn, channel);
  if (auto reply = amqp_get_rpc_reply(conn); reply.reply_type != AMQP_RESPONSE_NORMAL)
    fail(amqp_error::kind::refused, "confirm.select failed: " + describe_reply(reply));

  if (settings_.queue_setup != amqp_queue_setup::none) {
    bool passive = settings_.queue_setup == amqp_queue_setup::passive;
    amqp_table_entry_t quorum;
    quorum.key = amqp_cstring_bytes("x-queue-type");
    quorum.value.kind = AMQP_FIELD_KIND_UTF8;
    quorum.value.value.bytes = amqp_cstring_bytes("quorum");
    amqp_table_t arguments =
        settings_.quorum_queue && !passive ? amqp_table_t{1, &quorum} : amqp_empty_table;
    amqp_queue_declare(conn, channel, to_bytes(settings_.queue), passive, /*durable*/ 1,
                       /*exclusive*/ 0, /*auto_delete*/ 0, arguments);
    if (auto reply = amqp_get_rpc_reply(conn); reply.reply_type != AMQP_RESPONSE_NORMAL)
      fail(amqp_error::kind::refused, std::string{passive ? "queue check" : "queue declare"} +
                                          " of '" + settings_.queue +
                                          "' failed: " + describe_reply(reply));
  }
  amqp_maybe_release_buffers(conn);
  usable_ = true;
  next_tag_ = 1;
}

std::uint64_t amqp_connection::publish(std::string_view message_id, std::string_view body) {
  if (!connected())
    throw amqp_error(amqp_error::kind::not_connected,
                     "amqp " + redacted_url_ + ": publish without an open connection");
  amqp_basic_properties_t props{};
  props._flags =
      AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_MESSAGE_ID_FLAG;
  props.content_type = amqp_cstring_bytes("application/json");
  props.delivery_mode = AMQP_DELIVERY_PERSISTENT;
  props.message_id = to_bytes(message_id);
  int rc = amqp_basic_publish(state_->conn, channel, amqp_empty_bytes, to_bytes(settings_.queue),
                              /*mandatory*/ 1, /*immediate*/ 0, &props, to_bytes(body));
  if (rc != AMQP_STATUS_OK) {
    usable_ = false;
    throw amqp_error(
        amqp_error::kind::connection_lost,
        scrub("amqp " + redacted_url_ + ": publish failed: " + amqp_error_string2(rc)));
  }
  return next_tag_++;
}

std::uint64_t amqp_connection::publish_batch(std::span<const message> messages) {
  if (!connected())
    throw amqp_error(amqp_error::kind::not_connected,
                     "amqp " + redacted_url_ + ": publish without an open connection");
  auto first = next_tag_;
  // Names longer than a short string cannot be encoded: let rabbitmq-c report them.
  bool encodable = state_->plain_tcp && settings_.queue.size() <= 255;
  for (auto& m : messages)
    encodable = encodable && m.message_id.size() <= 255;
  if (!encodable) {
    for (auto& m : messages)
      publish(m.message_id, m.body);
    return first;
  }
  frames_.clear();
  publish_encoder encode{frames_};
  auto frame_max = static_cast<std::size_t>(amqp_get_frame_max(state_->conn));
  for (auto& m : messages)
    encode.message(settings_.queue, m.message_id, m.body, frame_max);
  write_all(frames_);
  next_tag_ += messages.size();
  if (frames_.capacity() > 4 * 1024 * 1024)
    std::string{}.swap(frames_); // a burst of huge bodies does not pin its buffer
  return first;
}

// rabbitmq-c keeps its socket non-blocking: wait for room, bounded by the connect timeout.
void amqp_connection::write_all(std::string_view bytes) {
  int fd = amqp_get_sockfd(state_->conn);
  auto lost = [&](const std::string& why) {
    usable_ = false;
    throw amqp_error(amqp_error::kind::connection_lost,
                     scrub("amqp " + redacted_url_ + ": publish failed: " + why));
  };
  while (!bytes.empty()) {
    auto n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n > 0) {
      bytes.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{fd, POLLOUT, 0};
      int ready = ::poll(&p, 1, static_cast<int>(settings_.connect_timeout.count()));
      if (ready == 0)
        lost("socket not writable for " + std::to_string(settings_.connect_timeout.count()) +
             " ms");
      if (ready < 0 && errno != EINTR)
        lost(std::strerror(errno));
      continue;
    }
    lost(n < 0 ? std::strerror(errno) : "socket closed");
  }
}

void amqp_connection::handle_method_frame(const void* frame_ptr, std::vector<amqp_event>& events) {
  const auto& frame = *static_cast<const amqp_frame_t*>(frame_ptr);
  auto* conn = state_->conn;
  const auto& method = frame.payload.method;
  switch (method.id) {
  case AMQP_BASIC_ACK_METHOD: {
    auto* ack = static_cast<amqp_basic_ack_t*>(method.decoded);
    events.push_back({.type = amqp_event::kind::ack,
                      .delivery_tag = ack->delivery_tag,
                      .multiple = ack->multiple != 0});
    break;
  }
  case AMQP_BASIC_NACK_METHOD: {
    auto* nack = static_cast<amqp_basic_nack_t*>(method.decoded);
    events.push_back({.type = amqp_event::kind::nack,
                      .delivery_tag = nack->delivery_tag,
                      .multiple = nack->multiple != 0});
    break;
  }
  case AMQP_BASIC_RETURN_METHOD: {
    auto* returned = static_cast<amqp_basic_return_t*>(method.decoded);
    amqp_event event{.type = amqp_event::kind::returned,
                     .reply_code = returned->reply_code,
                     .reply_text = to_string(returned->reply_text)};
    // The returned content (header + body frames) follows at once: read it for message_id.
    amqp_message_t message;
    auto reply = amqp_read_message(conn, frame.channel, &message, 0);
    if (reply.reply_type != AMQP_RESPONSE_NORMAL) {
      usable_ = false;
      events.push_back(
          {.type = amqp_event::kind::connection_closed,
           .reply_text = scrub("reading a returned message failed: " + describe_reply(reply))});
      return;
    }
    if (message.properties._flags & AMQP_BASIC_MESSAGE_ID_FLAG)
      event.message_id = to_string(message.properties.message_id);
    amqp_destroy_message(&message);
    events.push_back(std::move(event));
    break;
  }
  case AMQP_CONNECTION_BLOCKED_METHOD: {
    auto* blocked = static_cast<amqp_connection_blocked_t*>(method.decoded);
    events.push_back({.type = amqp_event::kind::blocked, .reply_text = to_string(blocked->reason)});
    break;
  }
  case AMQP_CONNECTION_UNBLOCKED_METHOD:
    events.push_back({.type = amqp_event::kind::unblocked});
    break;
  case AMQP_CHANNEL_CLOSE_METHOD: {
    auto* close = static_cast<amqp_channel_close_t*>(method.decoded);
    events.push_back({.type = amqp_event::kind::channel_closed,
                      .reply_code = close->reply_code,
                      .reply_text = scrub(to_string(close->reply_text))});
    amqp_channel_close_ok_t ok{};
    amqp_send_method(conn, frame.channel, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok);
    usable_ = false;
    break;
  }
  case AMQP_CONNECTION_CLOSE_METHOD: {
    auto* close = static_cast<amqp_connection_close_t*>(method.decoded);
    events.push_back({.type = amqp_event::kind::connection_closed,
                      .reply_code = close->reply_code,
                      .reply_text = scrub(to_string(close->reply_text))});
    amqp_connection_close_ok_t ok{};
    amqp_send_method(conn, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok);
    usable_ = false;
    state_->socket_open = false; // the broker ends the socket after close-ok
    break;
  }
  default:
    break; // nothing else is expected on a publish-only channel
  }
}

std::vector<amqp_event> amqp_connection::poll(std::chrono::milliseconds timeout) {
  if (!connected())
    throw amqp_error(amqp_error::kind::not_connected,
                     "amqp " + redacted_url_ + ": poll without an open connection");
  std::vector<amqp_event> events;
  auto* conn = state_->conn;
  timeval wait = to_timeval(timeout);
  while (usable_) {
    amqp_frame_t frame;
    int rc = amqp_simple_wait_frame_noblock(conn, &frame, &wait);
    if (rc == AMQP_STATUS_TIMEOUT)
      break;
    if (rc != AMQP_STATUS_OK) {
      usable_ = false;
      state_->socket_open = false;
      events.push_back(
          {.type = amqp_event::kind::connection_closed,
           .reply_text = scrub(std::string{"connection lost: "} + amqp_error_string2(rc))});
      break;
    }
    if (frame.frame_type == AMQP_FRAME_METHOD)
      handle_method_frame(&frame, events);
    // After the first frame only take what is already there.
    wait = timeval{0, 0};
  }
  if (state_ != nullptr && state_->conn != nullptr)
    amqp_maybe_release_buffers(conn);
  return events;
}

void amqp_connection::close() noexcept {
  if (state_ == nullptr)
    return;
  if (usable_ && state_->socket_open) {
    // Bounded by the RPC timeout set at connect; errors only mean it is gone already.
    amqp_channel_close(state_->conn, channel, AMQP_REPLY_SUCCESS);
    amqp_connection_close(state_->conn, AMQP_REPLY_SUCCESS);
  }
  delete state_;
  state_ = nullptr;
  usable_ = false;
}

} // namespace vigil
