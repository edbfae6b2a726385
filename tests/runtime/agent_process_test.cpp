// The real `vigil` binary under a test harness: signals, reload, identity, readiness.
#include "tests/support/child_process.hpp"
#include "tests/support/http_get.hpp"
#include "tests/support/temp_directory.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <regex>
#include <sstream>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <thread>

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
  EXPECT_EQ(agent->wait_for_exit(10s), 0) << agent->output();
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

TEST_F(control_api_process_test, status_endpoints_answer_the_latest_snapshot_of_this_machine) {
  write_config(R"({"telemetry": {"interval": "1s"}})");
  auto agent = start();
  port = wait_for_port(*agent);
  ASSERT_NE(port, 0);
  // 503 until the hub has published its first snapshot, then 200.
  vigil::test::http_reply full;
  for (int i = 0; i < 150; ++i) {
    full = vigil::test::http_call(port, "GET", "/api/v1/status");
    if (full.status != 503)
      break;
    std::this_thread::sleep_for(200ms);
  }
  ASSERT_EQ(full.status, 200) << full.body;
  auto status = nlohmann::json::parse(full.body);
  EXPECT_TRUE(status.at("memory").is_object()) << full.body;
  EXPECT_GT(status.at("memory").at("total_bytes").get<uint64_t>(), 0u);
  EXPECT_TRUE(status.contains("services") && status.contains("containers"));

  auto simple = vigil::test::http_call(port, "GET", "/api/v1/status-simple");
  ASSERT_EQ(simple.status, 200);
  auto summary = nlohmann::json::parse(simple.body);
  EXPECT_EQ(summary.at("node_id"), status.at("node_id"));
  EXPECT_TRUE(summary.at("memory_usage_percent").is_number()) << simple.body;
  EXPECT_TRUE(summary.at("stale_sections").is_array());
  EXPECT_FALSE(summary.contains("memory"));

  // Processes come from the slow interval: wait for them too.
  nlohmann::json processes;
  for (int i = 0; i < 150; ++i) {
    auto r = vigil::test::http_call(port, "GET", "/api/processes");
    ASSERT_EQ(r.status, 200) << r.body;
    processes = nlohmann::json::parse(r.body);
    if (!processes.at("processes").is_null())
      break;
    std::this_thread::sleep_for(200ms);
  }
  ASSERT_TRUE(processes.at("processes").is_object()) << processes.dump();
  EXPECT_GE(processes.at("processes").at("total").get<int>(), 2); // at least the test and vigil
  EXPECT_FALSE(processes.at("processes").at("top_by_memory").empty());
  EXPECT_TRUE(processes.at("users").is_array());
  EXPECT_EQ(vigil::test::http_call(port, "POST", "/api/v1/status").status, 405);
  EXPECT_EQ(vigil::test::http_call(port, "POST", "/api/processes").status, 405);
}

TEST_F(control_api_process_test, control_actions_are_audited_with_who_and_the_answer) {
  write_config("{}");
  const std::string ops = "ops-token-0123456789", viewer = "viewer-token-0123456789";
  auto secrets = dir / "secrets.json";
  std::ofstream{secrets} << R"({"api": {"tokens": [
      {"token": ")" << ops
                         << R"(", "scopes": ["control"], "name": "ops-laptop"},
      {"token": ")" << viewer
                         << R"(", "scopes": ["read"]}]}})";
  ::chmod(secrets.c_str(), 0600);
  auto agent = start({"--secrets-file", secrets});
  port = wait_for_port(*agent);
  ASSERT_NE(port, 0) << agent->output();
  auto stop =
      vigil::test::http_call(port, "POST", "/control", R"({"command":"stop_livelogs"})", ops);
  EXPECT_EQ(stop.status, 200) << stop.body;
  EXPECT_EQ(
      vigil::test::http_call(port, "POST", "/control", R"({"command":"start_livelogs"})").status,
      401);
  EXPECT_EQ(
      vigil::test::http_call(port, "POST", "/control", R"({"command":"start_livelogs"})", viewer)
          .status,
      403); // a read token on a control action
  EXPECT_EQ(vigil::test::http_call(port, "GET", "/health", "", viewer).status, 200);
  EXPECT_EQ(vigil::test::http_call(port, "GET", "/api/audit", "", viewer).status, 403);
  auto r = vigil::test::http_call(port, "GET", "/api/audit?limit=10", "", ops);
  ASSERT_EQ(r.status, 200) << r.body;
  auto audit = nlohmann::json::parse(r.body);
  ASSERT_EQ(audit.at("count"), 3) << r.body;   // reads are not audited
  auto& forbidden = audit.at("entries").at(0); // newest first
  EXPECT_EQ(forbidden.at("principal"), "token 2");
  EXPECT_EQ(forbidden.at("status"), 403);
  auto& refused = audit.at("entries").at(1);
  EXPECT_EQ(refused.at("action"), "POST /control");
  EXPECT_EQ(refused.at("principal"), "no token");
  EXPECT_EQ(refused.at("status"), 401);
  auto& done = audit.at("entries").at(2);
  EXPECT_EQ(done.at("principal"), "ops-laptop");
  EXPECT_EQ(done.at("client"), "127.0.0.1");
  EXPECT_EQ(done.at("status"), 200);
  EXPECT_EQ(done.at("detail"), R"({"command":"stop_livelogs"})");
  EXPECT_EQ(vigil::test::http_call(port, "GET", "/api/audit?limit=0", "", ops).status, 400);
  EXPECT_NE(agent->output().find("audit: POST /control from 127.0.0.1 as ops-laptop: 200"),
            std::string::npos)
      << agent->output();
  for (auto& token : {ops, viewer})
    EXPECT_EQ(agent->output().find(token), std::string::npos) << "token leaked into the log";
}

TEST_F(control_api_process_test, post_config_validates_persists_and_applies_a_patch) {
  write_config(R"({"log": {"file_max_files": 5}})");
  ::chmod(config.c_str(), 0640);
  auto agent = start();
  port = wait_for_port(*agent);
  ASSERT_NE(port, 0);
  auto read_file = [&] {
    std::ifstream in{config};
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  };
  auto r = vigil::test::http_call(port, "POST", "/api/config",
                                  R"({"log": {"file_max_files": 9}, "scheduler_threads": 3})");
  ASSERT_EQ(r.status, 200) << r.body;
  auto answer = nlohmann::json::parse(r.body);
  ASSERT_EQ(answer.at("warnings").size(), 1u) << r.body; // the port needs a restart
  EXPECT_NE(answer.at("warnings").at(0).get<std::string>().find("scheduler_threads"),
            std::string::npos);
  auto cfg = nlohmann::json::parse(vigil::test::http_call(port, "GET", "/api/config").body);
  EXPECT_EQ(cfg["log"]["file_max_files"], 9); // applied live
  auto on_disk = nlohmann::json::parse(read_file());
  EXPECT_EQ(on_disk["log"]["file_max_files"], 9); // and persisted
  struct stat st {};
  ASSERT_EQ(::stat(config.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);

  // Refused: nothing changes, on disk or live; the secret is neither logged nor audited.
  auto before = read_file();
  r = vigil::test::http_call(port, "POST", "/api/config",
                             R"({"log": {"level": "loud"},
                                 "rabbitmq": {"url": "amqp://u:hunter2-secret@127.0.0.1/"}})");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("'log.level' must be one of"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("'rabbitmq.url' is a secret"), std::string::npos) << r.body;
  EXPECT_EQ(read_file(), before);
  EXPECT_EQ(vigil::test::http_call(port, "POST", "/api/config", "not json").status, 400);
  EXPECT_EQ(vigil::test::http_call(port, "PUT", "/api/config", "{}").status, 405);
  cfg = nlohmann::json::parse(vigil::test::http_call(port, "GET", "/api/config").body);
  EXPECT_EQ(cfg["log"]["level"], "info");
  auto audit = nlohmann::json::parse(vigil::test::http_call(port, "GET", "/api/audit").body);
  EXPECT_EQ(audit.at("entries").at(2).at("detail"), "keys: log.level, rabbitmq.url")
      << audit.dump();
  EXPECT_EQ(audit.at("entries").at(3).at("detail"), "keys: log.file_max_files, scheduler_threads")
      << audit.dump();
  EXPECT_EQ(audit.dump().find("hunter2"), std::string::npos);
  EXPECT_EQ(agent->output().find("hunter2"), std::string::npos);
}

TEST_F(control_api_process_test, secret_new_adds_tokens_the_agent_accepts_and_connect_url_shows) {
  write_config(R"({"api": {"control_port": 9123}})");
  std::string secrets = dir / "secrets.json";
  auto cli = [&](std::vector<std::string> args, const std::string& out) {
    args.insert(args.begin(), vigil_binary);
    child_process p{args, dir / out};
    auto status = p.wait_for_exit(30s);
    return std::pair{status, p.output()};
  };
  std::regex token_re{"\n([A-Za-z0-9_-]{43})\n"};
  std::smatch m;
  auto [s1, out1] = cli({"secret", "new", "--config", config, "--secrets-file", secrets, "--name",
                         "ops-laptop", "--scope", "control"},
                        "secret1.out");
  ASSERT_EQ(s1, 0) << out1;
  ASSERT_TRUE(std::regex_search(out1, m, token_re)) << out1;
  auto ops = m[1].str();
  auto [s2, out2] =
      cli({"secret", "new", "--config", config, "--secrets-file", secrets}, "secret2.out");
  ASSERT_EQ(s2, 0) << out2;
  ASSERT_TRUE(std::regex_search(out2, m, token_re)) << out2;
  auto viewer = m[1].str();
  EXPECT_NE(ops, viewer);
  struct stat st {};
  ASSERT_EQ(::stat(secrets.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  std::ifstream in{secrets};
  auto doc = nlohmann::json::parse(in);
  ASSERT_EQ(doc.at("api").at("tokens").size(), 2u);
  EXPECT_EQ(doc["api"]["tokens"][0]["name"], "ops-laptop");
  EXPECT_EQ(doc["api"]["tokens"][0]["scopes"], nlohmann::json::array({"control"}));
  EXPECT_EQ(doc["api"]["tokens"][1]["scopes"], nlohmann::json::array({"read"}));
  EXPECT_EQ(cli({"secret", "new", "--scope", "root"}, "secret3.out").first, 2);

  auto [s4, url] =
      cli({"connect-url", "--config", config, "--secrets-file", secrets}, "connect1.out");
  ASSERT_EQ(s4, 0) << url;
  EXPECT_EQ(url, "vigil://" + ops + "@127.0.0.1:9123/\n");
  EXPECT_EQ(cli({"connect-url", "--config", config, "--secrets-file", secrets, "--host",
                 "agent.example", "--name", "nobody"},
                "connect2.out")
                .first,
            1);

  auto agent = start({"--secrets-file", secrets});
  port = wait_for_port(*agent);
  ASSERT_NE(port, 0) << agent->output();
  EXPECT_EQ(vigil::test::http_call(port, "GET", "/health").status, 401);
  EXPECT_EQ(vigil::test::http_call(port, "GET", "/health", "", viewer).status, 200);
  EXPECT_EQ(
      vigil::test::http_call(port, "POST", "/control", R"({"command":"stop_telemetry"})", viewer)
          .status,
      403);
  EXPECT_EQ(vigil::test::http_call(port, "POST", "/control", R"({"command":"stop_telemetry"})", ops)
                .status,
            200);
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
