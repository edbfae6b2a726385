#include "io/amqp/amqp_connection.hpp"
#include "tests/support/amqp_queue_reader.hpp"
#include "tests/support/private_broker.hpp"

#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <set>
#include <thread>
#include <unistd.h>

namespace vigil {
namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

// Generous: a deadline only bounds a hang, it never measures speed.
constexpr auto deadline_after = 60s;

std::string unique_queue(const std::string& what) {
  static std::atomic<int> counter{0};
  return "vigil-test-" + what + "-" + std::to_string(getpid()) + "-" + std::to_string(++counter);
}

amqp_settings settings_for(const std::string& queue) {
  amqp_settings s;
  s.url = test::shared_broker_url();
  s.queue = queue;
  s.connect_timeout = 30s;
  return s;
}

using inspecting_client = test::amqp_queue_reader;

// Deletes the test's queue at scope exit so a shared broker stays clean.
struct queue_cleanup {
  std::string queue;
  ~queue_cleanup() {
    try {
      inspecting_client(test::shared_broker_url()).delete_queue(queue);
    } catch (...) {
    }
  }
};

// Polls until every tag in 1..last is acked (or nacked); returns all events seen.
std::vector<amqp_event> poll_until_confirmed(amqp_connection& connection, std::uint64_t last) {
  std::vector<amqp_event> seen;
  std::set<std::uint64_t> pending;
  for (std::uint64_t tag = 1; tag <= last; ++tag)
    pending.insert(tag);
  auto deadline = steady::now() + deadline_after;
  while (!pending.empty() && steady::now() < deadline) {
    for (auto& event : connection.poll(200ms)) {
      if (event.type == amqp_event::kind::ack || event.type == amqp_event::kind::nack) {
        if (event.multiple)
          pending.erase(pending.begin(), pending.upper_bound(event.delivery_tag));
        else
          pending.erase(event.delivery_tag);
      }
      if (event.type == amqp_event::kind::connection_closed ||
          event.type == amqp_event::kind::channel_closed)
        ADD_FAILURE() << "closed: " << event.reply_code << " " << event.reply_text;
      seen.push_back(std::move(event));
    }
  }
  EXPECT_TRUE(pending.empty()) << pending.size() << " tags never confirmed";
  return seen;
}

TEST(redact_url, hides_the_password_and_nothing_else) {
  EXPECT_EQ(redact_url("amqp://user:s3cret@host:5672/vhost"), "amqp://user:***@host:5672/vhost");
  EXPECT_EQ(redact_url("amqps://u:p%40ss@broker.example/"), "amqps://u:***@broker.example/");
  EXPECT_EQ(redact_url("amqp://u:pa@ss/word@host/"), "amqp://u:***@host/");
  EXPECT_EQ(redact_url("amqp://user@host/"), "amqp://user@host/");
  EXPECT_EQ(redact_url("amqp://host:5672/"), "amqp://host:5672/");
  EXPECT_EQ(redact_url("not a url"), "not a url");
}

TEST(amqp_connection, publishes_1000_messages_and_receives_every_ack) {
  auto queue = unique_queue("acks");
  queue_cleanup cleanup{queue};
  amqp_connection connection(settings_for(queue));
  connection.connect();
  ASSERT_TRUE(connection.connected());
  std::string body(1000, 'x');
  for (int i = 0; i < 1000; ++i) {
    auto tag = connection.publish("msg-" + std::to_string(i), body);
    EXPECT_EQ(tag, static_cast<std::uint64_t>(i + 1));
    if (i % 100 == 99)
      connection.poll(0ms); // as the publisher loop does: service the socket as we go
  }
  auto events = poll_until_confirmed(connection, 1000);
  for (const auto& e : events)
    EXPECT_EQ(e.type, amqp_event::kind::ack);
  connection.close();
  EXPECT_FALSE(connection.connected());
}

TEST(amqp_connection, messages_arrive_persistent_json_with_their_id) {
  auto queue = unique_queue("props");
  queue_cleanup cleanup{queue};
  amqp_connection connection(settings_for(queue));
  connection.connect();
  for (int i = 0; i < 3; ++i)
    connection.publish("node-1:logs:" + std::to_string(i),
                       R"({"log_line":"error )" + std::to_string(i) + R"("})");
  poll_until_confirmed(connection, 3);

  inspecting_client client(test::shared_broker_url());
  for (int i = 0; i < 3; ++i) {
    auto m = client.get(queue);
    ASSERT_TRUE(m) << "message " << i << " missing";
    EXPECT_EQ(m->message_id, "node-1:logs:" + std::to_string(i));
    EXPECT_EQ(m->content_type, "application/json");
    EXPECT_EQ(m->delivery_mode, 2);
    EXPECT_EQ(m->body, R"({"log_line":"error )" + std::to_string(i) + R"("})");
  }
  EXPECT_FALSE(client.get(queue));
}

TEST(amqp_connection, unroutable_mandatory_message_is_returned_then_acked) {
  auto settings = settings_for(unique_queue("nowhere"));
  settings.queue_setup = amqp_queue_setup::none; // nothing is bound to this routing key
  amqp_connection connection(settings);
  connection.connect();
  auto tag = connection.publish("lost-1", "{}");
  auto events = poll_until_confirmed(connection, tag);
  ASSERT_GE(events.size(), 2u);
  EXPECT_EQ(events[0].type, amqp_event::kind::returned);
  EXPECT_EQ(events[0].message_id, "lost-1");
  EXPECT_EQ(events[0].reply_code, 312); // NO_ROUTE
  EXPECT_EQ(events[0].reply_text, "NO_ROUTE");
  EXPECT_EQ(events[1].type, amqp_event::kind::ack);
  EXPECT_EQ(events[1].delivery_tag, tag);
}

// publish_batch encodes the frames itself: the broker must see exactly what
// amqp_basic_publish would have sent, including bodies split over several frames.
TEST(amqp_connection, a_batch_arrives_in_order_with_properties_and_multi_frame_bodies) {
  auto queue = unique_queue("batch");
  queue_cleanup cleanup{queue};
  auto settings = settings_for(queue);
  settings.frame_max = 4096; // the broker's minimum: a 10 KB body spans three body frames
  amqp_connection connection(settings);
  connection.connect();
  std::vector<std::string> ids, bodies;
  for (int i = 0; i < 200; ++i) {
    ids.push_back("node-1:batch:" + std::to_string(i));
    bodies.push_back(i % 50 == 7 ? std::string(10'000, static_cast<char>('a' + i % 26))
                                 : R"({"n":)" + std::to_string(i) + "}");
  }
  bodies[3].clear(); // an empty body has no body frame at all
  std::vector<amqp_connection::message> batch;
  for (int i = 0; i < 200; ++i)
    batch.push_back({ids[static_cast<size_t>(i)], bodies[static_cast<size_t>(i)]});
  auto first = connection.publish_batch(std::span{batch}.first(100));
  auto second = connection.publish_batch(std::span{batch}.subspan(100));
  EXPECT_EQ(first, 1u);
  EXPECT_EQ(second, 101u);
  EXPECT_EQ(connection.publish("after-batch", "{}"), 201u); // tags stay in step
  for (const auto& e : poll_until_confirmed(connection, 201))
    EXPECT_EQ(e.type, amqp_event::kind::ack);

  inspecting_client client(test::shared_broker_url());
  for (int i = 0; i < 200; ++i) {
    auto m = client.get(queue);
    ASSERT_TRUE(m) << "message " << i << " missing";
    EXPECT_EQ(m->message_id, ids[static_cast<size_t>(i)]);
    EXPECT_EQ(m->content_type, "application/json");
    EXPECT_EQ(m->delivery_mode, 2);
    EXPECT_EQ(m->body, bodies[static_cast<size_t>(i)]) << "message " << i;
  }
  auto last = client.get(queue);
  ASSERT_TRUE(last);
  EXPECT_EQ(last->message_id, "after-batch");
}

TEST(amqp_connection, a_batch_is_published_mandatory) {
  auto settings = settings_for(unique_queue("batch-nowhere"));
  settings.queue_setup = amqp_queue_setup::none;
  amqp_connection connection(settings);
  connection.connect();
  std::vector<amqp_connection::message> batch{{"lost-a", "{}"}, {"lost-b", "{}"}};
  auto first = connection.publish_batch(batch);
  auto events = poll_until_confirmed(connection, first + 1);
  std::vector<std::string> returned;
  for (auto& e : events)
    if (e.type == amqp_event::kind::returned)
      returned.push_back(e.message_id);
  EXPECT_EQ(returned, (std::vector<std::string>{"lost-a", "lost-b"}));
}

TEST(amqp_connection, wrong_password_is_a_clear_error_without_the_password) {
  auto url = test::shared_broker_url();
  auto scheme = url.find("://") + 3;
  auto colon = url.find(':', scheme);
  auto at = url.rfind('@');
  ASSERT_LT(colon, at);
  const std::string secret = "Wrong-Secret-Pw-42";
  auto settings = settings_for("error_logs_queue");
  settings.url = url.substr(0, colon + 1) + secret + url.substr(at);
  amqp_connection connection(settings);
  try {
    connection.connect();
    FAIL() << "login with a wrong password succeeded";
  } catch (const amqp_error& e) {
    std::string text = e.what();
    EXPECT_EQ(e.error_kind(), amqp_error::kind::authentication) << text;
    EXPECT_EQ(text.find(secret), std::string::npos) << text;
    EXPECT_NE(text.find("***"), std::string::npos) << text;
    EXPECT_NE(text.find("login"), std::string::npos) << text;
  }
  EXPECT_FALSE(connection.connected());
  EXPECT_THROW(connection.publish("x", "{}"), amqp_error);
}

TEST(amqp_connection, passive_check_of_a_missing_queue_is_refused) {
  auto settings = settings_for(unique_queue("missing"));
  settings.queue_setup = amqp_queue_setup::passive;
  amqp_connection connection(settings);
  try {
    connection.connect();
    FAIL() << "passive declare of a missing queue succeeded";
  } catch (const amqp_error& e) {
    EXPECT_EQ(e.error_kind(), amqp_error::kind::refused) << e.what();
    EXPECT_NE(std::string{e.what()}.find("404"), std::string::npos) << e.what();
  }
}

TEST(amqp_connection, declares_a_quorum_queue) {
  auto queue = unique_queue("quorum");
  queue_cleanup cleanup{queue};
  auto settings = settings_for(queue);
  settings.quorum_queue = true;
  amqp_connection connection(settings);
  connection.connect();
  auto tag = connection.publish("q-1", "{}");
  poll_until_confirmed(connection, tag);
  // Declaring it again as a classic queue conflicts with the stored definition.
  settings.quorum_queue = false;
  amqp_connection classic(settings);
  EXPECT_THROW(classic.connect(), amqp_error);
}

TEST(amqp_connection, invalid_url_and_closed_port_are_errors) {
  auto settings = settings_for("q");
  settings.url = "http://user:pw@host/";
  amqp_connection bad_url(settings);
  try {
    bad_url.connect();
    FAIL();
  } catch (const amqp_error& e) {
    EXPECT_EQ(e.error_kind(), amqp_error::kind::invalid_settings);
    EXPECT_EQ(std::string{e.what()}.find(":pw@"), std::string::npos) << e.what();
  }
  settings.url = "amqp://guest:guest@127.0.0.1:1/"; // nothing listens on port 1
  amqp_connection closed_port(settings);
  try {
    closed_port.connect();
    FAIL();
  } catch (const amqp_error& e) {
    EXPECT_EQ(e.error_kind(), amqp_error::kind::connect) << e.what();
  }
}

TEST(amqp_connection, idle_connection_survives_heartbeats_while_polled) {
  auto queue = unique_queue("heartbeat");
  queue_cleanup cleanup{queue};
  auto settings = settings_for(queue);
  settings.heartbeat = 1s; // the broker drops us after ~2 s without heartbeats from us
  amqp_connection connection(settings);
  connection.connect();
  auto until = steady::now() + 5s;
  while (steady::now() < until)
    for (const auto& e : connection.poll(250ms))
      ADD_FAILURE() << "unexpected event while idle: " << static_cast<int>(e.type) << " "
                    << e.reply_text;
  ASSERT_TRUE(connection.connected());
  auto tag = connection.publish("after-idle", "{}");
  poll_until_confirmed(connection, tag);
}

// Needs its own broker: it kills it.
TEST(amqp_connection, broker_killed_surfaces_an_error_and_reconnect_works_after_restart) {
  test::private_broker broker;
  amqp_settings settings;
  settings.url = broker.url();
  settings.queue = "error_logs_queue";
  settings.heartbeat = 2s;
  settings.connect_timeout = 30s;
  amqp_connection connection(settings);
  connection.connect();
  poll_until_confirmed(connection, connection.publish("before-kill", "{}"));

  broker.kill();
  bool lost = false;
  auto deadline = steady::now() + deadline_after;
  while (!lost && steady::now() < deadline) {
    try {
      connection.publish("during-outage", "{}");
      for (const auto& e : connection.poll(200ms))
        lost = lost || e.type == amqp_event::kind::connection_closed;
    } catch (const amqp_error& e) {
      EXPECT_TRUE(e.error_kind() == amqp_error::kind::connection_lost ||
                  e.error_kind() == amqp_error::kind::not_connected)
          << e.what();
      lost = true;
    }
  }
  ASSERT_TRUE(lost) << "killing the broker went unnoticed";
  EXPECT_FALSE(connection.connected());
  EXPECT_THROW(connection.connect(), amqp_error); // still down

  broker.start(); // same directory, same port
  connection.connect();
  ASSERT_TRUE(connection.connected());
  auto tag = connection.publish("after-restart", "{}");
  EXPECT_EQ(tag, 1u); // a new channel numbers its deliveries from 1 again
  poll_until_confirmed(connection, tag);
}

TEST(amqp_connection, amqps_verifies_the_broker_against_the_configured_ca) {
  test::private_broker broker{/*tls=*/true};
  ASSERT_FALSE(broker.tls_url().empty());
  amqp_settings s;
  s.url = broker.tls_url();
  s.queue = unique_queue("tls");
  s.connect_timeout = 30s;
  // The throw-away CA is in no system store: verification must fail without it...
  {
    amqp_connection untrusted(s);
    try {
      untrusted.connect();
      ADD_FAILURE() << "connected to a broker whose certificate nobody vouched for";
    } catch (const amqp_error& e) {
      EXPECT_EQ(e.error_kind(), amqp_error::kind::connect) << e.what();
      EXPECT_EQ(std::string{e.what()}.find("guest:guest"), std::string::npos) << e.what();
    }
  }
  // ...and succeed with it; messages are confirmed over TLS.
  s.tls.ca_file = broker.tls_ca_file();
  amqp_connection trusted(s);
  trusted.connect();
  ASSERT_TRUE(trusted.connected());
  for (int i = 0; i < 5; ++i)
    trusted.publish("tls-" + std::to_string(i), R"({"tls":true})");
  // Over TLS a batch goes through rabbitmq-c message by message.
  std::vector<std::string> ids{"tls-5", "tls-6", "tls-7", "tls-8", "tls-9"};
  std::vector<amqp_connection::message> batch;
  for (auto& id : ids)
    batch.push_back({id, R"({"tls":true})"});
  EXPECT_EQ(trusted.publish_batch(batch), 6u);
  for (const auto& e : poll_until_confirmed(trusted, 10))
    EXPECT_EQ(e.type, amqp_event::kind::ack);
  test::amqp_queue_reader reader(broker.url());
  int received = 0;
  while (reader.get(s.queue))
    ++received;
  EXPECT_EQ(received, 10);
  trusted.close();
}

} // namespace
} // namespace vigil
