// The WebSocket streams of the real agent binary: the seed ports (live logs, telemetry) on
// ephemeral ports, the control port's /ws paths, POST /control and /status. Loopback only.

#include "tests/io_http/ws_test_client.hpp"
#include "tests/pipeline/pipeline_fixture.hpp"
#include "tests/support/http_get.hpp"

namespace vigil::test {
namespace {

class ws_agent_fixture : public pipeline_fixture {
protected:
  std::unique_ptr<child_process> agent;
  uint16_t control_port = 0;
  uint16_t logs_port = 0;
  uint16_t telemetry_port = 0;

  void start() {
    // Fast telemetry so snapshots come quickly; no journal: only the test's files matter.
    write_config(R"({"telemetry": {"interval": "1s", "slow_interval": "2s"},
                     "sources": {"journal": {"enabled": false}}})");
    agent = start_agent({"--ws-port", "0", "--telemetry-ws-port", "0"});
    control_port = announced_control_port(*agent);
    ASSERT_NE(control_port, 0) << agent->output();
    logs_port = announced_port(*agent, "live logs WebSocket listening on ws://127.0.0.1:");
    telemetry_port = announced_port(*agent, "telemetry WebSocket listening on ws://127.0.0.1:");
    ASSERT_NE(logs_port, 0) << agent->output();
    ASSERT_NE(telemetry_port, 0) << agent->output();
  }

  json status() {
    auto r = http_call(control_port, "GET", "/status");
    auto j = json::parse(r.body, nullptr, false);
    return j.is_discarded() ? json::object() : j;
  }

  uint64_t sessions() {
    auto s = status();
    if (!s.contains("websocket"))
      return 999;
    return s["websocket"].value("sessions", uint64_t{999});
  }

  http_reply control(const std::string& command) {
    return http_call(control_port, "POST", "/control", json{{"command", command}}.dump());
  }

  // Sends a request and returns the reply carrying its id.
  static std::optional<json> request(ws_client& c, json message) {
    auto id = message["id"];
    c.send(message);
    return c.read_until([&](const json& m) { return m.contains("id") && m["id"] == id; });
  }
};

TEST_F(ws_agent_fixture, telemetry_snapshots_come_at_the_requested_interval) {
  start();
  ws_client c{telemetry_port, "/telemetry"};
  ASSERT_TRUE(c.connected()) << c.handshake_error.message();
  auto welcome = c.read_type("welcome");
  ASSERT_TRUE(welcome);
  EXPECT_EQ((*welcome)["stream"], "telemetry");
  EXPECT_EQ((*welcome)["interval"], 3);
  auto ok = request(c, {{"id", 1}, {"type", "subscribe"}, {"interval", 1}});
  ASSERT_TRUE(ok);
  EXPECT_EQ((*ok)["type"], "ok");
  EXPECT_EQ((*ok)["interval"], 1);
  int snapshots = 0;
  while (snapshots < 3) {
    auto s = c.read_type("snapshot", 60s);
    ASSERT_TRUE(s) << "after " << snapshots << " snapshots";
    EXPECT_TRUE((*s)["data"].contains("cpu_usage_percent"));
    EXPECT_TRUE((*s)["sequence"].is_number());
    ++snapshots;
  }
  auto bad = request(c, {{"id", 2}, {"type", "set_interval"}, {"interval", 0}});
  ASSERT_TRUE(bad);
  EXPECT_EQ((*bad)["type"], "error");
  // SysMedic's /ws and the control port's /ws/telemetry serve the same stream.
  for (auto path : {"/ws", "/ws/telemetry"}) {
    ws_client other{control_port, path};
    ASSERT_TRUE(other.connected()) << path << ": " << other.handshake_error.message();
    EXPECT_TRUE(other.read_type("snapshot", 60s)) << path;
  }
}

TEST_F(ws_agent_fixture, a_line_written_to_a_watched_file_reaches_a_live_logs_client) {
  start();
  ws_client c{control_port, "/ws/logs"};
  ASSERT_TRUE(c.connected()) << c.handshake_error.message();
  ASSERT_TRUE(c.read_type("welcome"));
  auto ok = request(c, {{"id", 1}, {"type", "subscribe"}, {"filter", {{"contains", "E42"}}}});
  ASSERT_TRUE(ok);
  EXPECT_EQ((*ok)["type"], "ok");
  append("app.log", lines(40, 5, 1)); // E40..E44, all errors
  auto m = c.read_until([](const json& m) { return m.value("type", "") == "log"; }, 60s);
  ASSERT_TRUE(m) << "no live log line (does the outbox publish committed batches?)";
  EXPECT_EQ((*m)["log_line"], "E42 error: request failed");
  EXPECT_EQ((*m)["log_path"], logs + "/app.log");
  EXPECT_FALSE((*m)["severity"].get<std::string>().empty()); // "failure" for "failed"
  EXPECT_FALSE((*m)["id"].get<std::string>().empty());
}

TEST_F(ws_agent_fixture, post_control_stops_and_starts_the_streams) {
  start();
  auto bad = control("start_everything");
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_EQ(http_call(control_port, "POST", "/control", "not json").status, 400);
  EXPECT_EQ(http_call(control_port, "GET", "/control").status, 405);

  auto stop = control("stop_livelogs");
  ASSERT_EQ(stop.status, 200) << stop.body;
  EXPECT_EQ(json::parse(stop.body)["running"], false);
  {
    ws_client c{logs_port, "/livelogs"};
    ASSERT_TRUE(c.connected());
    auto e = c.read_type("error");
    ASSERT_TRUE(e);
    EXPECT_EQ((*e)["error"], "stream stopped");
  }
  ASSERT_EQ(control("start_livelogs").status, 200);
  {
    ws_client c{logs_port, "/logs"};
    ASSERT_TRUE(c.connected());
    auto ok = request(c, {{"id", 5}, {"type", "subscribe"}});
    ASSERT_TRUE(ok);
    EXPECT_EQ((*ok)["type"], "ok");
  }

  ws_client watching{telemetry_port, "/telemetry"};
  ASSERT_TRUE(watching.connected());
  ASSERT_TRUE(watching.read_type("welcome"));
  ASSERT_EQ(control("stop_telemetry").status, 200);
  auto stopped = watching.read_type("error", 60s);
  ASSERT_TRUE(stopped);
  EXPECT_EQ((*stopped)["error"], "stream stopped");
  {
    ws_client late{telemetry_port, "/telemetry"};
    auto reply = request(late, {{"id", 9}, {"type", "subscribe"}, {"interval", 1}});
    ASSERT_TRUE(reply);
    EXPECT_EQ((*reply)["type"], "error");
  }
  ASSERT_EQ(control("start_telemetry").status, 200);
  EXPECT_TRUE(watching.read_type("snapshot", 60s));
  auto s = status();
  EXPECT_EQ(s["websocket"]["streams"]["telemetry"]["enabled"], true) << s.dump();
  EXPECT_EQ(s["websocket"]["streams"]["live_logs"]["enabled"], true) << s.dump();
}

TEST_F(ws_agent_fixture, connect_disconnect_cycles_leave_no_sessions_in_status) {
  start();
  for (int i = 0; i < 200; ++i) {
    auto port = i % 2 == 0 ? logs_port : telemetry_port;
    ws_client c{port, i % 4 < 2 ? "/" : "/ws"};
    ASSERT_TRUE(c.connected()) << "cycle " << i << ": " << c.handshake_error.message();
    ASSERT_TRUE(c.read_type("welcome")) << "cycle " << i;
    if (i % 3 == 0)
      c.abort();
    else
      c.close();
  }
  EXPECT_TRUE(wait_until([&] { return sessions() == 0; }, 30s)) << status().dump();
  auto s = status();
  EXPECT_EQ(s["websocket"]["streams"]["live_logs"]["subscribers"], 0) << s.dump();
  EXPECT_EQ(s["websocket"]["streams"]["telemetry"]["subscribers"], 0) << s.dump();
  EXPECT_TRUE(agent->running());
}

TEST_F(ws_agent_fixture, a_taken_port_is_retried_without_failing_the_agent) {
  io_runner io{1};
  tcp::acceptor taken{io.io, {asio::ip::make_address("127.0.0.1"), 0}};
  auto port = std::to_string(taken.local_endpoint().port());
  agent = start_agent({"--ws-port", port, "--telemetry-ws-port", "0"});
  control_port = announced_control_port(*agent);
  ASSERT_NE(control_port, 0) << agent->output();
  EXPECT_TRUE(agent->wait_for_output("retrying every 30s", 30s)) << agent->output();
  // The other port and the control port's paths serve regardless.
  telemetry_port = announced_port(*agent, "telemetry WebSocket listening on ws://127.0.0.1:");
  ASSERT_NE(telemetry_port, 0) << agent->output();
  ws_client logs_client{control_port, "/ws/logs"};
  ASSERT_TRUE(logs_client.connected());
  EXPECT_TRUE(logs_client.read_type("welcome"));
  EXPECT_TRUE(agent->running());
}

TEST_F(ws_agent_fixture, the_agent_stops_cleanly_with_sessions_connected) {
  start();
  ws_client logs_client{logs_port, "/logs"};
  ws_client telemetry_client{telemetry_port, "/telemetry"};
  ws_client control_client{control_port, "/ws/logs"};
  for (auto* c : {&logs_client, &telemetry_client, &control_client}) {
    ASSERT_TRUE(c->connected());
    ASSERT_TRUE(c->read_type("welcome"));
  }
  agent->signal(SIGTERM);
  auto code = agent->wait_for_exit(40s);
  ASSERT_TRUE(code) << agent->output();
  EXPECT_EQ(*code, 0) << agent->output();
  // Every client sees its connection end.
  for (auto* c : {&logs_client, &telemetry_client, &control_client})
    EXPECT_FALSE(c->read_until([](const json&) { return false; }, 30s));
}

} // namespace
} // namespace vigil::test
