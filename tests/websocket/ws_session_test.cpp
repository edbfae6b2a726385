// ws_session, the live logs hub and the telemetry feed in one process: a real actor system, a
// real http_server on loopback and Beast clients. Batches are sent to the hub directly, as
// the outbox does after a commit.

#include "actors/live_log_hub.hpp"
#include "actors/telemetry_feed.hpp"
#include "actors/ws_session.hpp"
#include "io/http/http_server.hpp"
#include "tests/io_http/ws_test_client.hpp"

#include <caf/all.hpp>
#include <gtest/gtest.h>

namespace vigil {
namespace {

using namespace vigil::test;

class ws_session_fixture : public ::testing::Test {
protected:
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  io_runner io{2};
  std::unique_ptr<http_server> server;
  live_log_hub_actor hub;
  settings_ptr current;
  ws_session_options options;

  ws_session_fixture() {
    cfg.set("scheduler.policy", caf::atom("sharing"));
    cfg.set("scheduler.max-threads", size_t{2});
    sys = std::make_unique<caf::actor_system>(cfg);
    hub = sys->spawn(live_log_hub, true);
    sys->registry().put(caf::atom("live_logs"), caf::actor_cast<caf::strong_actor_ptr>(hub));
  }

  ~ws_session_fixture() override {
    if (server)
      server->stop();
    // Sessions end on their connection's close callback.
    wait_until([] { return ws_session_count() == 0; }, 10s);
    server.reset();
    sys->registry().erase(caf::atom("live_logs"));
    caf::anon_send_exit(hub, caf::exit_reason::user_shutdown);
  }

  void start(settings st = {}, websocket_options ws_options = {}) {
    if (st.node_id.empty())
      st.node_id = "ws-test-node";
    current = std::make_shared<const settings>(st);
    http_server_options opts;
    opts.websocket_paths = {"/ws/logs"};
    opts.websocket = ws_options;
    server = std::make_unique<http_server>(
        io.io, opts,
        [](http_request, http_responder respond) {
          respond(json_error_response(404, "not found", ""));
        },
        [this](http_request req, websocket_upgrade upgrade) {
          start_ws_session(*sys, current, ws_stream::live_logs, req, upgrade, options);
        });
  }

  uint16_t port() const { return server->port(); }

  void publish(std::vector<std::tuple<std::string, std::string>> severity_and_line,
               std::string source = "/var/log/app.log") {
    log_batch b;
    b.source = std::move(source);
    b.application = "app";
    b.hostname = "host";
    uint64_t n = 0;
    for (auto& [severity, line] : severity_and_line) {
      log_event e;
      e.id = "ws-test-node:1:" + std::to_string(++sequence);
      e.timestamp_ms = 1'700'000'000'000;
      e.severity = severity;
      e.log_line = line;
      e.line_number = ++n;
      b.events.push_back(std::move(e));
    }
    caf::anon_send(hub, atom::publish_v,
                   live_log_batch_ptr{std::make_shared<const log_batch>(std::move(b))});
  }

  // Subscribers the hub has right now.
  uint64_t hub_subscribers() {
    caf::scoped_actor self{*sys};
    uint64_t n = 0;
    self->request(hub, 5s, atom::status_v)
        .receive([&](const live_stream_status& s) { n = s.subscribers; }, [](caf::error&) {});
    return n;
  }

  // Connects, reads the welcome and waits until the hub knows the session.
  std::unique_ptr<ws_client> connect_subscribed(std::map<std::string, std::string> headers = {},
                                                int receive_buffer = 0) {
    auto before = hub_subscribers();
    auto c = std::make_unique<ws_client>(port(), "/ws/logs", headers, receive_buffer);
    EXPECT_TRUE(c->connected()) << c->handshake_error.message();
    if (receive_buffer == 0) {
      auto welcome = c->read_type("welcome");
      EXPECT_TRUE(welcome);
    }
    EXPECT_TRUE(wait_until([&] { return hub_subscribers() > before; }, 10s));
    return c;
  }

  uint64_t sequence = 0;
};

TEST_F(ws_session_fixture, a_client_is_welcomed_with_node_id_hostname_version_and_system) {
  start();
  ws_client c{port(), "/ws/logs"};
  ASSERT_TRUE(c.connected()) << c.handshake_error.message();
  auto welcome = c.read();
  ASSERT_TRUE(welcome);
  EXPECT_EQ(welcome->value("type", ""), "welcome");
  EXPECT_EQ(welcome->value("stream", ""), "live_logs");
  EXPECT_EQ(welcome->value("node_id", ""), "ws-test-node");
  EXPECT_FALSE(welcome->value("hostname", "").empty());
  EXPECT_FALSE(welcome->value("version", "").empty());
  EXPECT_TRUE(welcome->contains("system"));
}

TEST_F(ws_session_fixture, the_filter_selects_by_severity_path_and_substring) {
  start();
  auto c = connect_subscribed();
  c->send({{"id", 7},
           {"type", "subscribe"},
           {"filter", {{"severity", "error"}, {"contains", "DISK"}, {"path", "app"}}}});
  auto ok = c->read_until([](const json& m) { return m.contains("id"); });
  ASSERT_TRUE(ok);
  EXPECT_EQ((*ok)["id"], 7);
  EXPECT_EQ((*ok)["type"], "ok");
  publish({{"warn", "disk almost full"},                                  // severity too low
           {"error", "request failed"},                                   // no "disk"
           {"critical", "Disk failure on sda"},                           // matches
           {"error", "disk error on sdb"}});                              // matches
  publish({{"error", "disk error in other file"}}, "/var/log/other.log"); // wrong path
  publish({{"error", "disk sentinel"}});
  std::vector<json> seen;
  auto sentinel = c->read_until(
      [](const json& m) { return m.value("log_line", "") == "disk sentinel"; }, 30s, &seen);
  ASSERT_TRUE(sentinel);
  std::vector<std::string> lines;
  for (auto& m : seen)
    if (m.value("type", "") == "log")
      lines.push_back(m.value("log_line", ""));
  EXPECT_EQ(lines, (std::vector<std::string>{"Disk failure on sda", "disk error on sdb"}));
  EXPECT_EQ((*sentinel)["log_path"], "/var/log/app.log");
  EXPECT_EQ((*sentinel)["severity"], "error");
  EXPECT_EQ((*sentinel)["log"], "disk sentinel");
  EXPECT_EQ((*sentinel)["node_id"], "ws-test-node");
}

TEST_F(ws_session_fixture, the_outbox_helper_reaches_watching_sessions) {
  start();
  auto c = connect_subscribed();
  log_batch b; // what the outbox hands over after its commit
  b.source = "/var/log/syslog";
  b.application = "system";
  log_event e;
  e.id = "n:1:1";
  e.severity = "critical";
  e.log_line = "kernel: Out of memory";
  b.events.push_back(e);
  publish_live_logs(*sys, std::move(b));
  auto m = c->read_type("log");
  ASSERT_TRUE(m);
  EXPECT_EQ((*m)["log_line"], "kernel: Out of memory");
  EXPECT_EQ((*m)["application"], "system");
}

TEST_F(ws_session_fixture, bad_requests_get_errors_with_their_id) {
  start();
  auto c = connect_subscribed();
  c->send({{"id", 1}, {"type", "subscribe"}, {"filter", {{"severity", "loud"}}}});
  auto r = c->read_until([](const json& m) { return m.contains("id"); });
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)["type"], "error");
  EXPECT_EQ((*r)["id"], 1);
  c->send({{"id", "x"}, {"type", "dance"}});
  r = c->read_until([](const json& m) { return m.contains("id"); });
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)["type"], "error");
  EXPECT_EQ((*r)["id"], "x");
  c->send({{"id", 2}, {"type", "ping"}});
  r = c->read_until([](const json& m) { return m.contains("id"); });
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)["type"], "ok");
}

TEST_F(ws_session_fixture, a_client_that_never_reads_does_not_delay_a_fast_one) {
  websocket_options small;
  small.max_queued_messages = 64;
  options.check_interval = 100ms;
  options.stuck_limit = 2s;
  start({}, small);
  auto slow = connect_subscribed({}, 4096); // never reads (not even its welcome)
  auto fast = connect_subscribed();
  // Rounds of 20 events of 4 KiB: the fast client reads each round before the next is sent,
  // so its queue never overflows; the slow one falls behind by megabytes.
  const std::string padding(4096, 'x');
  int received = 0;
  bool fast_dropped = false;
  for (int round = 0; round < 150; ++round) {
    std::vector<std::tuple<std::string, std::string>> events;
    for (int i = 0; i < 20; ++i)
      events.emplace_back("error",
                          "r" + std::to_string(round) + " e" + std::to_string(i) + " " + padding);
    publish(events);
    for (int i = 0; i < 20; ++i) {
      auto m = fast->read_until([](const json& m) {
        auto t = m.value("type", "");
        return t == "log" || t == "dropped";
      });
      ASSERT_TRUE(m) << "round " << round << ": the fast client stalled";
      if ((*m)["type"] == "dropped")
        fast_dropped = true;
      else
        ++received;
    }
  }
  EXPECT_EQ(received, 150 * 20);
  EXPECT_FALSE(fast_dropped);
  // The slow client now reads: it learns what it lost, or it was closed for being stuck.
  std::optional<json> notice;
  std::vector<json> ignored;
  notice = slow->read_until([](const json& m) { return m.value("type", "") == "dropped"; }, 60s);
  if (notice) {
    EXPECT_GT((*notice)["count"].get<uint64_t>(), 0u);
  } else {
    // Closed by the server (reason "client too slow", or the connection cut when the close
    // frame could not get through), not by this test's deadline.
    EXPECT_TRUE(slow->last_error);
    EXPECT_NE(slow->last_error, asio::error::timed_out)
        << "neither a dropped notice nor a close; reason: " << slow->close_reason();
  }
  RecordProperty("slow_client", notice ? "dropped notice" : "closed: " + slow->close_reason());
}

TEST_F(ws_session_fixture, a_stopped_stream_forwards_nothing_and_new_sessions_get_an_error) {
  start();
  auto c = connect_subscribed();
  caf::scoped_actor self{*sys};
  bool running = true;
  self->request(hub, 5s, atom::disable_v).receive([&](bool r) { running = r; }, [](caf::error&) {});
  EXPECT_FALSE(running);
  auto stopped = c->read_type("error");
  ASSERT_TRUE(stopped);
  EXPECT_EQ((*stopped)["error"], "stream stopped");
  publish({{"error", "while stopped"}});
  ws_client late{port(), "/ws/logs"};
  ASSERT_TRUE(late.connected());
  auto late_error = late.read_type("error");
  ASSERT_TRUE(late_error);
  EXPECT_EQ((*late_error)["error"], "stream stopped");
  self->request(hub, 5s, atom::enable_v).receive([&](bool r) { running = r; }, [](caf::error&) {});
  EXPECT_TRUE(running);
  publish({{"error", "after start"}});
  std::vector<json> seen;
  auto m = c->read_until([](const json& m) { return m.value("log_line", "") == "after start"; },
                         30s, &seen);
  ASSERT_TRUE(m);
  for (auto& x : seen)
    EXPECT_NE(x.value("log_line", ""), "while stopped");
}

TEST_F(ws_session_fixture, tokens_are_required_and_accepted_as_subprotocol_or_query) {
  settings st;
  st.api.tokens = {{"read-token-0123456789", {"read"}}, {"ctl-token-0123456789ab", {"control"}}};
  start(st);
  ws_client anonymous{port(), "/ws/logs"};
  EXPECT_TRUE(anonymous.handshake_error);
  EXPECT_EQ(anonymous.handshake_response.result_int(), 401u);
  ws_client wrong{port(), "/ws/logs?token=nope-nope-nope-nope"};
  EXPECT_EQ(wrong.handshake_response.result_int(), 401u);
  ws_client by_subprotocol{
      port(), "/ws/logs", {{"Sec-WebSocket-Protocol", "json, bearer.read-token-0123456789"}}};
  ASSERT_TRUE(by_subprotocol.connected()) << by_subprotocol.handshake_error.message();
  EXPECT_EQ(by_subprotocol.handshake_response["Sec-WebSocket-Protocol"],
            "bearer.read-token-0123456789");
  EXPECT_TRUE(by_subprotocol.read_type("welcome"));
  ws_client by_query{port(), "/ws/logs?token=ctl-token-0123456789ab"}; // control implies read
  ASSERT_TRUE(by_query.connected()) << by_query.handshake_error.message();
  EXPECT_TRUE(by_query.read_type("welcome"));
}

TEST_F(ws_session_fixture, connect_and_disconnect_cycles_leave_no_session_behind) {
  start();
  for (int i = 0; i < 200; ++i) {
    ws_client c{port(), "/ws/logs"};
    ASSERT_TRUE(c.connected()) << "cycle " << i << ": " << c.handshake_error.message();
    if (i % 2 == 0) {
      ASSERT_TRUE(c.read_type("welcome"));
      c.close();
    } else {
      c.abort(); // no closing handshake
    }
  }
  EXPECT_TRUE(wait_until([] { return ws_session_count() == 0; }, 30s))
      << ws_session_count() << " sessions left";
  EXPECT_TRUE(wait_until([&] { return hub_subscribers() == 0; }, 30s));
}

TEST(live_log_filter, matches_and_validates) {
  log_batch b;
  b.source = "/var/log/nginx/error.log";
  b.application = "nginx";
  log_event e;
  e.severity = "failure";
  e.log_line = "upstream Timed out";
  EXPECT_TRUE(matches({}, b, e));
  EXPECT_TRUE(matches({"nginx/", "nginx", "error", "timed OUT"}, b, e));
  EXPECT_FALSE(matches({"", "", "critical", ""}, b, e));
  EXPECT_FALSE(matches({"", "apache", "", ""}, b, e));
  EXPECT_FALSE(matches({"syslog", "", "", ""}, b, e));
  EXPECT_FALSE(matches({"", "", "", "refused"}, b, e));
  EXPECT_TRUE(validate({"", "", "warn", ""}).empty());
  EXPECT_FALSE(validate({"", "", "loud", ""}).empty());
}

} // namespace
} // namespace vigil
