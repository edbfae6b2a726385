// The real `vigil` binary under a test harness: signals, reload, identity, readiness.
#include "tests/support/child_process.hpp"
#include "tests/support/http_get.hpp"
#include "tests/support/temp_directory.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <regex>
#include <sys/socket.h>
#include <sys/un.h>

using namespace std::chrono_literals;
using vigil::test::child_process;
using vigil::test::temp_directory;

namespace {

const std::string vigil_binary = std::string{VIGIL_BINARY_DIR} + "/runtime/vigil";

struct agent_process_test : ::testing::Test {
  temp_directory dir;
  std::string config = dir / "vigil.json";
  int starts = 0;

  void write_config(const std::string& text) { std::ofstream{config} << text; }

  std::unique_ptr<child_process> start(std::vector<std::string> extra_args = {},
                                       std::vector<std::string> env = {}) {
    std::vector<std::string> argv{vigil_binary,
                                  "run",
                                  "--config",
                                  config,
                                  "--state-dir",
                                  dir / "state",
                                  "--secrets-file",
                                  dir / "none",
                                  "--control-port",
                                  "0",
                                  "--ws-port",
                                  "0",
                                  "--telemetry-ws-port",
                                  "0",
                                  "--log-file",
                                  dir / "*.log"}; // hermetic: no /var/log
    argv.insert(argv.end(), extra_args.begin(), extra_args.end());
    auto log = dir / ("agent-" + std::to_string(++starts) + ".log");
    auto p = std::make_unique<child_process>(argv, log, env);
    EXPECT_TRUE(p->started());
    return p;
  }

  static std::string node_id_in(const std::string& log) {
    std::smatch m;
    std::regex re{"node_id ([0-9a-f-]{36})"};
    std::string last;
    for (auto it = std::sregex_iterator(log.begin(), log.end(), re); it != std::sregex_iterator();
         ++it)
      last = (*it)[1];
    return last;
  }
};

TEST_F(agent_process_test, exits_zero_on_sigterm_within_two_seconds) {
  write_config("{}");
  auto agent = start();
  ASSERT_TRUE(agent->wait_for_output("running;", 30s)) << agent->output();
  auto t0 = std::chrono::steady_clock::now();
  agent->signal(SIGTERM);
  auto rc = agent->wait_for_exit(2s);
  ASSERT_TRUE(rc) << "still running 2 s after SIGTERM\n" << agent->output();
  EXPECT_EQ(*rc, 0) << agent->output();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  EXPECT_NE(agent->output().find("SIGTERM: shutting down"), std::string::npos);
}

TEST_F(agent_process_test, sigint_is_an_orderly_shutdown_too) {
  write_config("{}");
  auto agent = start();
  ASSERT_TRUE(agent->wait_for_output("running;", 30s)) << agent->output();
  agent->signal(SIGINT);
  auto rc = agent->wait_for_exit(10s);
  ASSERT_TRUE(rc);
  EXPECT_EQ(*rc, 0);
}

TEST_F(agent_process_test, sighup_with_broken_file_keeps_the_old_config) {
  write_config(R"({"log": {"level": "info"}})");
  auto agent = start();
  ASSERT_TRUE(agent->wait_for_output("running;", 30s)) << agent->output();
  write_config(R"({"log": {"levle": "debug"}})");
  agent->signal(SIGHUP);
  ASSERT_TRUE(agent->wait_for_output("reload rejected", 10s)) << agent->output();
  // The reason is logged on the next line: wait for it rather than race it.
  EXPECT_TRUE(agent->wait_for_output("key 'log.levle' unknown key; did you mean 'log.level'?", 10s))
      << agent->output();
  EXPECT_TRUE(agent->running());
  // The old level (info) is still in force: debug lines do not appear yet.
  write_config(R"({"log": {"level": "debug"}})");
  agent->signal(SIGHUP);
  ASSERT_TRUE(agent->wait_for_output("configuration reloaded", 10s)) << agent->output();
  agent->signal(SIGTERM);
  EXPECT_EQ(agent->wait_for_exit(10s), 0);
}

TEST_F(agent_process_test, invalid_config_at_start_exits_78_naming_the_key) {
  write_config(R"({"api": {"control_port": "eighty"}})");
  auto agent = start();
  auto rc = agent->wait_for_exit(30s);
  ASSERT_TRUE(rc);
  EXPECT_EQ(*rc, 78);
  EXPECT_NE(agent->output().find(config + ": key 'api.control_port' must be an integer"),
            std::string::npos)
      << agent->output();
}

TEST_F(agent_process_test, identity_survives_restart) {
  write_config("{}");
  std::string first, second;
  for (auto* id : {&first, &second}) {
    auto agent = start();
    ASSERT_TRUE(agent->wait_for_output("running;", 30s)) << agent->output();
    agent->signal(SIGTERM);
    ASSERT_EQ(agent->wait_for_exit(10s), 0);
    *id = node_id_in(agent->output());
  }
  ASSERT_EQ(first.size(), 36u);
  EXPECT_EQ(first, second);
  std::ifstream in{dir / "state/node_id"};
  std::string stored;
  std::getline(in, stored);
  EXPECT_EQ(stored, first);
  auto agent = start({"--node-id", "fixed-node-7"});
  ASSERT_TRUE(agent->wait_for_output("running;", 30s)) << agent->output();
  EXPECT_NE(agent->output().find("node_id fixed-node-7"), std::string::npos);
}

// systemd's side of Type=notify: READY=1 once running, WATCHDOG=1 pings while alive.
TEST_F(agent_process_test, notifies_readiness_and_pings_the_watchdog) {
  write_config("{}");
  std::string sock_path = dir / "notify.sock";
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  sock_path.copy(addr.sun_path, sizeof addr.sun_path - 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  timeval tv{30, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  // WATCHDOG_PID must name the agent, which we only know after spawning: systemd
  // allows leaving it out, in which case any process may use WATCHDOG_USEC.
  auto agent = start({}, {"NOTIFY_SOCKET=" + sock_path, "WATCHDOG_USEC=400000"});
  std::vector<std::string> got;
  int watchdog_pings = 0;
  bool ready = false;
  while (watchdog_pings < 3) {
    char buf[256];
    auto n = ::recv(fd, buf, sizeof buf, 0);
    ASSERT_GT(n, 0) << "no notification within 30 s\n" << agent->output();
    std::string msg(buf, static_cast<size_t>(n));
    ready |= msg.rfind("READY=1", 0) == 0;
    watchdog_pings += msg == "WATCHDOG=1";
  }
  EXPECT_TRUE(ready);
  agent->signal(SIGTERM);
  EXPECT_EQ(agent->wait_for_exit(10s), 0);
  ::close(fd);
}

} // namespace

namespace {

struct control_api_process_test : agent_process_test {
  uint16_t port = 0;

  // A port that was free a moment ago, for tests that need the agent on a known port.
  static uint16_t free_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(fd);
    return ntohs(a.sin_port);
  }

  // The agent logs its bound port (the tests ask for port 0, any free one).
  uint16_t wait_for_port(child_process& agent) {
    auto port = announced_control_port(agent);
    EXPECT_NE(port, 0) << agent.output();
    return port;
  }
};

TEST_F(control_api_process_test, health_status_and_vigil_status) {
  write_config("{}");
  auto agent = start();
  port = wait_for_port(*agent);
  ASSERT_NE(port, 0);
  auto health = vigil::test::http_call(port, "GET", "/health");
  EXPECT_EQ(health.status, 200);
  auto h = nlohmann::json::parse(health.body);
  EXPECT_EQ(h["status"], "ok");
  EXPECT_EQ(h["node_id"].get<std::string>().size(), 36u);
  auto v1 = nlohmann::json::parse(vigil::test::http_call(port, "GET", "/api/v1/health").body);
  EXPECT_EQ(v1["status"], "healthy");
  EXPECT_TRUE(v1.contains("timestamp") && v1.contains("version") && v1.contains("uptime"));
  auto missing = vigil::test::http_call(port, "GET", "/nope");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(nlohmann::json::parse(missing.body)["error"], "not found");
  EXPECT_EQ(vigil::test::http_call(port, "DELETE", "/health").status, 405);
  // The CLI asks the same API.
  child_process status{{vigil_binary, "status", "--secrets-file", dir / "none", "--url",
                        "http://127.0.0.1:" + std::to_string(port)},
                       dir / "status.out"};
  ASSERT_EQ(status.wait_for_exit(30s), 0) << status.output();
  EXPECT_NE(status.output().find("\"control_api\""), std::string::npos) << status.output();
  EXPECT_NE(status.output().find("\"node_id\""), std::string::npos);
  agent->signal(SIGTERM);
  EXPECT_EQ(agent->wait_for_exit(10s), 0);
  child_process unreachable{{vigil_binary, "status", "--secrets-file", dir / "none", "--url",
                             "http://127.0.0.1:" + std::to_string(port)},
                            dir / "status2.out"};
  EXPECT_EQ(unreachable.wait_for_exit(30s), 3);
  EXPECT_NE(unreachable.output().find("agent not reachable"), std::string::npos);
}

TEST_F(control_api_process_test, broken_reload_keeps_old_config_as_the_api_shows) {
  write_config(R"({"log": {"file_max_files": 5}})");
  auto agent = start();
  port = wait_for_port(*agent);
  ASSERT_NE(port, 0);
  write_config(R"({"log": {"level": "loud", "file_max_files": 9}})");
  agent->signal(SIGHUP);
  ASSERT_TRUE(agent->wait_for_output("reload rejected", 10s)) << agent->output();
  auto cfg = nlohmann::json::parse(vigil::test::http_call(port, "GET", "/api/config").body);
  EXPECT_EQ(cfg["log"]["file_max_files"], 5);
  auto r = vigil::test::http_call(port, "POST", "/api/config/reload");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("'log.level' must be one of"), std::string::npos) << r.body;
  write_config(R"({"log": {"file_max_files": 7}})");
  EXPECT_EQ(vigil::test::http_call(port, "POST", "/api/config/reload").status, 200);
  cfg = nlohmann::json::parse(vigil::test::http_call(port, "GET", "/api/config").body);
  EXPECT_EQ(cfg["log"]["file_max_files"], 7);
}

TEST_F(control_api_process_test, tokens_are_required_when_configured) {
  write_config("{}");
  const std::string token = "test-token-0123456789";
  auto agent = start({}, {"VIGIL_API_TOKEN=" + token});
  port = wait_for_port(*agent);
  ASSERT_NE(port, 0);
  EXPECT_EQ(vigil::test::http_call(port, "GET", "/status").status, 401);
  EXPECT_EQ(vigil::test::http_call(port, "GET", "/status", "", "wrong-token-0123456789").status,
            401);
  EXPECT_EQ(vigil::test::http_call(port, "GET", "/status", "", token).status, 200);
  EXPECT_EQ(agent->output().find(token), std::string::npos) << "token leaked into the log";
}

TEST_F(control_api_process_test, crashed_actor_is_restarted_by_its_supervisor) {
  write_config("{}");
  // A fixed port (the last --control-port wins), so the restarted API is found again.
  auto agent = start({"--enable-fault-injection", "--control-port", std::to_string(free_port())});
  port = wait_for_port(*agent);
  ASSERT_NE(port, 0);
  auto r = vigil::test::http_call(port, "POST", "/api/fault/crash", R"({"path": "control_api"})");
  // The API actor itself goes down while answering: the reply may be the confirmation, the
  // server's 500 for a lost responder, or a closed connection (its server stopped with it).
  EXPECT_TRUE(r.status == 200 || r.status == 500 || r.status == 0) << r.status << r.body;
  ASSERT_TRUE(agent->wait_for_output("control_api stopped", 10s)) << agent->output();
  // It comes back on the same port after the backoff.
  auto api_status = [&]() -> nlohmann::json {
    auto s = vigil::test::http_call(port, "GET", "/status");
    if (s.status != 200)
      return {};
    auto body = nlohmann::json::parse(s.body);
    for (auto& a : body["actors"])
      if (a["name"] == "control_api")
        return a;
    return {};
  };
  nlohmann::json api;
  for (int i = 0; i < 200 && !(api.is_object() && api["restarts"] == 1); ++i) {
    std::this_thread::sleep_for(50ms);
    api = api_status();
  }
  ASSERT_TRUE(api.is_object()) << agent->output();
  EXPECT_EQ(api["restarts"], 1);
  EXPECT_EQ(api["state"], "running");
  EXPECT_NE(api.value("last_error", "").find("fault injection"), std::string::npos) << api;
}

TEST_F(control_api_process_test, fault_injection_endpoint_absent_by_default) {
  write_config("{}");
  auto agent = start();
  port = wait_for_port(*agent);
  ASSERT_NE(port, 0);
  EXPECT_EQ(
      vigil::test::http_call(port, "POST", "/api/fault/crash", R"({"path": "control_api"})").status,
      404);
}

} // namespace
