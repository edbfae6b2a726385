// The real `vigil` binary under a test harness: signals, reload, identity, readiness.
#include "tests/support/child_process.hpp"
#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sys/socket.h>
#include <sys/un.h>

using namespace std::chrono_literals;
using vigil::test::child_process;
using vigil::test::temp_dir;

namespace {

const std::string vigil_binary = std::string{VIGIL_BINARY_DIR} + "/runtime/vigil";

struct agent_process_test : ::testing::Test {
  temp_dir dir;
  std::string config = dir / "vigil.json";
  int starts = 0;

  void write_config(const std::string& text) { std::ofstream{config} << text; }

  std::unique_ptr<child_process> start(std::vector<std::string> extra_args = {},
                                       std::vector<std::string> env = {}) {
    std::vector<std::string> argv{
        vigil_binary,          "run",        "--config",       config, "--state-dir", dir / "state",
        "--secrets-file",      dir / "none", "--control-port", "0",    "--ws-port",   "0",
        "--telemetry-ws-port", "0"};
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
  EXPECT_NE(agent->output().find("key 'log.levle' unknown key; did you mean 'log.level'?"),
            std::string::npos)
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
  auto sock_path = dir / "notify.sock";
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
