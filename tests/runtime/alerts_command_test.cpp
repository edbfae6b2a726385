// `vigil alerts`: its command line, its table, and the real binary against a real agent whose
// rule fires on this machine's /proc.
#include "runtime/alerts_command.hpp"
#include "runtime/command_line.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/http_get.hpp"
#include "tests/support/temp_directory.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <sys/stat.h>
#include <thread>

using namespace std::chrono_literals;
using json = nlohmann::json;
using vigil::test::child_process;
using vigil::test::temp_directory;

namespace {

const std::string vigil_binary = std::string{VIGIL_BINARY_DIR} + "/runtime/vigil";

vigil::parsed_command_line parse(std::vector<const char*> args) {
  args.insert(args.begin(), "vigil");
  return vigil::parse_command_line(static_cast<int>(args.size()), args.data());
}

std::string joined_errors(const vigil::parsed_command_line& cl) {
  std::string out;
  for (auto& e : cl.errors)
    out += e + "\n";
  return out;
}

// A loopback port nothing listens on: bound, then closed.
uint16_t closed_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), size) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &size) != 0)
    addr.sin_port = 0;
  ::close(fd);
  return ntohs(addr.sin_port);
}

// --- the command line ---

TEST(alerts_command_line, bare_alerts_lists_every_alert) {
  auto cl = parse({"alerts"});
  EXPECT_TRUE(cl.errors.empty()) << joined_errors(cl);
  EXPECT_EQ(cl.cmd, vigil::command::alerts);
  EXPECT_EQ(cl.alerts_action, "list");
  EXPECT_TRUE(cl.arguments.empty());
  EXPECT_TRUE(cl.alert_state.empty());
  EXPECT_EQ(cl.alert_limit, 0u);
  EXPECT_FALSE(cl.json_output);
}

TEST(alerts_command_line, list_takes_state_limit_json_and_the_common_options) {
  auto cl = parse({"alerts", "list", "--state", "firing", "--limit=5", "--json", "--url",
                   "http://127.0.0.1:9", "--config", "/tmp/v.json", "--secrets-file", "/tmp/s"});
  EXPECT_TRUE(cl.errors.empty()) << joined_errors(cl);
  EXPECT_EQ(cl.alerts_action, "list");
  EXPECT_EQ(cl.alert_state, "firing");
  EXPECT_EQ(cl.alert_limit, 5u);
  EXPECT_TRUE(cl.json_output);
  EXPECT_EQ(cl.api_url, "http://127.0.0.1:9");
  EXPECT_EQ(cl.config.config_path, "/tmp/v.json");
  EXPECT_TRUE(cl.config.config_path_explicit);
  EXPECT_EQ(cl.config.command_line["secrets_file"], "/tmp/s");
  // Options before the action's name select the default action.
  auto json_list = parse({"alerts", "--json"});
  EXPECT_TRUE(json_list.errors.empty()) << joined_errors(json_list);
  EXPECT_EQ(json_list.alerts_action, "list");
  EXPECT_TRUE(json_list.json_output);
}

TEST(alerts_command_line, actions_take_their_arguments_between_options) {
  auto ack = parse({"alerts", "ack", "--url", "http://h:1", "cpu_high::1700000000000"});
  EXPECT_TRUE(ack.errors.empty()) << joined_errors(ack);
  EXPECT_EQ(ack.alerts_action, "ack");
  EXPECT_EQ(ack.arguments, std::vector<std::string>{"cpu_high::1700000000000"});
  EXPECT_EQ(ack.api_url, "http://h:1");
  auto silence = parse({"alerts", "silence", "disk_high", "2h", "--json"});
  EXPECT_TRUE(silence.errors.empty()) << joined_errors(silence);
  EXPECT_EQ(silence.arguments, (std::vector<std::string>{"disk_high", "2h"}));
  EXPECT_TRUE(silence.json_output);
  for (auto action : {"rules", "resolve", "unsilence"}) {
    std::vector<const char*> args{"alerts", action};
    if (std::string{action} != "rules")
      args.push_back("x");
    auto cl = parse(args);
    EXPECT_TRUE(cl.errors.empty()) << action << ": " << joined_errors(cl);
    EXPECT_EQ(cl.alerts_action, action);
  }
}

TEST(alerts_command_line, missing_and_extra_arguments_are_usage_errors) {
  auto ack = parse({"alerts", "ack"});
  EXPECT_EQ(joined_errors(ack), "alerts ack needs ID\n");
  auto silence = parse({"alerts", "silence"});
  EXPECT_EQ(joined_errors(silence), "alerts silence needs RULE DURATION\n");
  auto extra = parse({"alerts", "resolve", "a", "b"});
  EXPECT_EQ(joined_errors(extra), "unexpected argument 'b'\n");
  auto list = parse({"alerts", "list", "everything"});
  EXPECT_EQ(joined_errors(list), "unexpected argument 'everything'\n");
}

TEST(alerts_command_line, bad_values_are_usage_errors) {
  EXPECT_EQ(joined_errors(parse({"alerts", "list", "--state", "open"})),
            "option --state must be firing or resolved, not 'open'\n");
  for (auto limit : {"0", "10001", "5x", "-1", ""})
    EXPECT_EQ(joined_errors(parse({"alerts", "list", "--limit", limit})),
              std::string{"option --limit must be a number from 1 to 10000, not '"} + limit +
                  "'\n");
  EXPECT_EQ(joined_errors(parse({"alerts", "ack", "x", "--state", "firing"})),
            "options --state and --limit apply only to 'vigil alerts list'\n");
  for (auto duration : {"forever", "0s", "2 hours", "5 m"})
    EXPECT_NE(joined_errors(parse({"alerts", "silence", "cpu_high", duration}))
                  .find(std::string{"DURATION must be like 30m, 2h or 1d, not '"} + duration),
              std::string::npos)
        << duration;
  EXPECT_EQ(joined_errors(parse({"alerts", "list", "--jsn"})),
            "unknown option '--jsn'; did you mean '--json'?\n");
  EXPECT_EQ(joined_errors(parse({"alerts", "--url"})), "option --url needs a value (URL)\n");
}

TEST(alerts_command_line, typos_get_a_suggestion) {
  EXPECT_EQ(joined_errors(parse({"alerts", "silense", "x", "1h"})),
            "unknown alerts action 'silense'; did you mean 'silence'?\n");
  EXPECT_EQ(joined_errors(parse({"alert"})), "unknown command 'alert'; did you mean 'alerts'?\n");
}

TEST(alerts_command_line, help_shows_every_action_and_the_overview_names_the_command) {
  auto help = parse({"alerts", "--help"});
  EXPECT_TRUE(help.errors.empty());
  EXPECT_EQ(help.cmd, vigil::command::help);
  for (auto usage :
       {"vigil alerts [list] [--state firing|resolved] [--limit N]", "vigil alerts rules",
        "vigil alerts ack ID", "vigil alerts resolve ID", "vigil alerts silence RULE DURATION",
        "vigil alerts unsilence RULE", "--json", "--url URL"})
    EXPECT_NE(help.help.find(usage), std::string::npos) << usage << "\n" << help.help;
  EXPECT_EQ(parse({"alerts", "ack", "-h"}).cmd, vigil::command::help);
  EXPECT_NE(parse({"help"}).help.find("\n  alerts "), std::string::npos);
}

// --- the table ---

const json two_alerts = json::parse(R"([
  {"id": "cpu_critical::1700000000000", "rule": "cpu_critical", "subject": "",
   "severity": "critical", "state": "firing", "value": 92.345, "peak": 97,
   "started_at": "2023-11-14T22:13:20Z", "acknowledged_by": "", "suppressed_reason": ""},
  {"id": "disk_high:/mnt/données:1700000000000", "rule": "disk_high", "subject": "/mnt/données",
   "severity": "medium", "state": "resolved", "value": 81, "peak": 83.5,
   "started_at": "2023-11-14T20:13:20Z", "acknowledged_by": "ops-laptop",
   "suppressed_reason": "silenced"}])");
// 2 min 5 s after the first alert started (2023-11-14T22:13:20Z).
constexpr int64_t two_minutes_after_start = 1700000000000 + 125'000;

TEST(alerts_table, shows_each_alert_in_aligned_columns) {
  auto table = vigil::alerts_table(two_alerts, false, two_minutes_after_start);
  EXPECT_EQ(table, "SEVERITY  STATE                RULE          SUBJECT       VALUE/PEAK  SINCE   "
                   "ACK         ID\n"
                   "critical  firing               cpu_critical  -             92.3 / 97   2m ago  "
                   "-           cpu_critical::1700000000000\n"
                   "medium    resolved (silenced)  disk_high     /mnt/données  81 / 83.5   2h ago  "
                   "ops-laptop  disk_high:/mnt/données:1700000000000\n")
      << table;
}

TEST(alerts_table, colours_the_severity_only_when_asked) {
  auto plain = vigil::alerts_table(two_alerts, false, two_minutes_after_start);
  EXPECT_EQ(plain.find('\x1b'), std::string::npos);
  auto coloured = vigil::alerts_table(two_alerts, true, two_minutes_after_start);
  EXPECT_NE(coloured.find("\x1b[1;31mcritical\x1b[0m  firing"), std::string::npos) << coloured;
  EXPECT_NE(coloured.find("\x1b[33mmedium\x1b[0m    resolved"), std::string::npos) << coloured;
}

TEST(alerts_table, colour_only_on_a_terminal_without_no_color) {
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  int master = ::posix_openpt(O_RDWR | O_NOCTTY);
  ASSERT_GE(master, 0);
  ASSERT_EQ(::grantpt(master), 0);
  ASSERT_EQ(::unlockpt(master), 0);
  int terminal = ::open(::ptsname(master), O_RDWR | O_NOCTTY);
  ASSERT_GE(terminal, 0);
  ::unsetenv("NO_COLOR");
  EXPECT_TRUE(vigil::colour_wanted(terminal));
  EXPECT_FALSE(vigil::colour_wanted(pipe_fds[1]));
  ::setenv("NO_COLOR", "1", 1);
  EXPECT_FALSE(vigil::colour_wanted(terminal));
  ::setenv("NO_COLOR", "", 1); // no-color.org: only a non-empty value counts
  EXPECT_TRUE(vigil::colour_wanted(terminal));
  ::unsetenv("NO_COLOR");
  for (int fd : {pipe_fds[0], pipe_fds[1], terminal, master})
    ::close(fd);
}

// --- the real binary ---

struct cli_result {
  std::optional<int> exit_code;
  std::string output; // stdout and stderr
};

struct alerts_cli_test : ::testing::Test {
  temp_directory dir;
  std::string config = dir / "vigil.json";
  std::unique_ptr<child_process> agent;
  uint16_t port = 0;
  int runs = 0;

  // `vigil run` with one rule that fires on any machine: more than one process in /proc.
  void start_agent(const std::string& secrets_file) {
    json cfg = {{"telemetry", {{"interval", "1s"}, {"slow_interval", "1s"}}},
                {"alerts",
                 {{"default_rules", false},
                  {"rules",
                   {{{"id", "any_process"},
                     {"metric", "processes"},
                     {"threshold", 1},
                     {"duration", "0s"},
                     {"severity", "high"},
                     {"channels", {"local"}}}}}}}};
    std::ofstream{config} << cfg.dump();
    agent = std::make_unique<child_process>(
        std::vector<std::string>{vigil_binary, "run", "--config", config, "--state-dir",
                                 dir / "state", "--secrets-file", secrets_file, "--control-port",
                                 "0", "--ws-port", "0", "--telemetry-ws-port", "0", "--log-file",
                                 dir / "*.log"},
        dir / "agent.log");
    port = vigil::test::announced_control_port(*agent);
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port); }

  // The id of the firing alert once the rule has fired (within 60 s); "" when it did not.
  std::string firing_alert_id(const std::string& token = "") {
    for (auto deadline = std::chrono::steady_clock::now() + 60s;
         std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(200ms)) {
      auto reply = vigil::test::http_call(port, "GET", "/api/alerts?state=firing", "", token);
      if (reply.status != 200)
        continue;
      auto alerts = json::parse(reply.body).at("alerts");
      if (!alerts.empty())
        return alerts[0].at("id");
    }
    return "";
  }

  // GET /api/alerts's record of `id`; an empty object (and a failure) when it is not listed.
  json alert_record(const std::string& id, const std::string& token = "") {
    auto reply = vigil::test::http_call(port, "GET", "/api/alerts", "", token);
    for (auto& a : json::parse(reply.body, nullptr, false).value("alerts", json::array()))
      if (a.value("id", "") == id)
        return a;
    ADD_FAILURE() << "GET /api/alerts does not list " << id << ": " << reply.status << " "
                  << reply.body;
    return json::object();
  }

  // Runs `vigil ARGS` to its end.
  cli_result vigil(std::vector<std::string> args) {
    args.insert(args.begin(), vigil_binary);
    child_process cli{args, dir / ("cli-" + std::to_string(++runs) + ".out")};
    EXPECT_TRUE(cli.started());
    auto exit_code = cli.wait_for_exit(30s);
    return {exit_code, cli.output()};
  }

  // `vigil alerts ARGS` against the agent, with the agent's configuration.
  cli_result alerts(std::vector<std::string> args, const std::string& secrets_file = "") {
    args.insert(args.begin(), "alerts");
    args.insert(args.end(), {"--config", config, "--url", url(), "--secrets-file",
                             secrets_file.empty() ? (dir / "none").string() : secrets_file});
    return vigil(std::move(args));
  }

  // Whether GET /api/audit lists `action` with `body` and status 200 (within 10 s: the audit
  // row is written after the answer).
  bool audited(const std::string& action, const json& body) {
    std::string last_reply;
    for (auto deadline = std::chrono::steady_clock::now() + 10s;
         std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(100ms)) {
      auto reply = vigil::test::http_call(port, "GET", "/api/audit");
      last_reply = reply.body;
      for (auto& entry : json::parse(reply.body, nullptr, false).value("entries", json::array()))
        if (entry.at("action") == action && entry.at("status") == 200 &&
            json::parse(entry.at("detail").get<std::string>(), nullptr, false) == body)
          return true;
    }
    ADD_FAILURE() << "GET /api/audit: " << last_reply;
    return false;
  }

  std::string write_secrets(const std::string& name, const std::vector<json>& tokens) {
    std::string path = dir / name;
    std::ofstream{path} << json{{"api", {{"tokens", tokens}}}}.dump();
    ::chmod(path.c_str(), 0600);
    return path;
  }
};

TEST_F(alerts_cli_test, lists_acknowledges_silences_and_resolves_a_real_alert) {
  start_agent(dir / "none");
  ASSERT_NE(port, 0) << agent->output();
  auto id = firing_alert_id();
  ASSERT_FALSE(id.empty()) << agent->output();

  auto listed = alerts({"list", "--json"});
  ASSERT_EQ(listed.exit_code, 0) << listed.output;
  auto answer = json::parse(listed.output);
  ASSERT_EQ(answer.at("count"), 1) << listed.output;
  EXPECT_EQ(answer["alerts"][0]["id"], id);
  EXPECT_EQ(answer["alerts"][0]["rule"], "any_process");
  EXPECT_EQ(answer["alerts"][0]["state"], "firing");

  auto table = alerts({});
  ASSERT_EQ(table.exit_code, 0) << table.output;
  EXPECT_EQ(table.output.rfind("SEVERITY  STATE ", 0), 0u) << table.output;
  EXPECT_NE(table.output.find("\nhigh      firing  any_process  -  "), std::string::npos)
      << table.output;
  EXPECT_NE(table.output.find(id + "\n"), std::string::npos) << table.output;
  EXPECT_EQ(table.output.find('\x1b'), std::string::npos) << "colours into a file";

  auto rules = alerts({"rules"});
  ASSERT_EQ(rules.exit_code, 0) << rules.output;
  auto rule_line = rules.output.substr(rules.output.find("\nany_process ") + 1);
  rule_line.resize(rule_line.find('\n'));
  for (auto column : {" threshold ", " processes ", " >= 1 ", " 0s ", " high ", " local"})
    EXPECT_NE(rule_line.find(column), std::string::npos) << column << "\n" << rules.output;

  auto ack = alerts({"ack", id});
  ASSERT_EQ(ack.exit_code, 0) << ack.output;
  EXPECT_EQ(ack.output, "acknowledged " + id + " by anonymous\n");
  EXPECT_EQ(alert_record(id)["acknowledged_by"], "anonymous");

  auto silence = alerts({"silence", "any_process", "2h"});
  ASSERT_EQ(silence.exit_code, 0) << silence.output;
  EXPECT_EQ(silence.output.rfind("silenced any_process until 20", 0), 0u) << silence.output;
  // No GET lists silences (only the actions' answers do); the audit log has the request.
  EXPECT_TRUE(audited("POST /api/alerts/silence", {{"rule", "any_process"}, {"duration", "2h"}}));

  auto unsilence = alerts({"unsilence", "any_process", "--json"});
  ASSERT_EQ(unsilence.exit_code, 0) << unsilence.output;
  EXPECT_EQ(json::parse(unsilence.output), (json{{"silences", json::array()}}));

  auto resolve = alerts({"resolve", id});
  ASSERT_EQ(resolve.exit_code, 0) << resolve.output;
  EXPECT_EQ(resolve.output, "resolved " + id + " by anonymous\n");
  EXPECT_EQ(alert_record(id)["state"], "resolved");
  auto resolved = alerts({"list", "--state", "resolved", "--limit", "1", "--json"});
  ASSERT_EQ(resolved.exit_code, 0) << resolved.output;
  EXPECT_EQ(json::parse(resolved.output).at("alerts").at(0).at("id"), id) << resolved.output;
  auto firing = alerts({"list", "--state", "firing"});
  ASSERT_EQ(firing.exit_code, 0) << firing.output;
  EXPECT_EQ(firing.output, "no firing alerts\n");

  auto unknown = alerts({"resolve", "no-such-alert"});
  EXPECT_EQ(unknown.exit_code, 1) << unknown.output;
  EXPECT_NE(unknown.output.find("no firing alert no-such-alert"), std::string::npos)
      << unknown.output;
  EXPECT_NE(unknown.output.find("(HTTP 404 not found)"), std::string::npos) << unknown.output;
}

TEST_F(alerts_cli_test, actions_use_a_control_token_and_a_read_token_is_refused_with_the_reason) {
  const std::string ops = "ops-token-0123456789", viewer = "viewer-token-0123456789";
  json ops_token = {{"token", ops}, {"scopes", {"control"}}, {"name", "ops-laptop"}};
  json viewer_token = {{"token", viewer}, {"scopes", {"read"}}, {"name", "viewer"}};
  start_agent(write_secrets("agent-secrets.json", {ops_token, viewer_token}));
  ASSERT_NE(port, 0) << agent->output();
  auto id = firing_alert_id(viewer);
  ASSERT_FALSE(id.empty()) << agent->output();
  // The read token comes first: actions must pick the control one.
  auto both = write_secrets("both.json", {viewer_token, ops_token});
  auto read_only = write_secrets("viewer.json", {viewer_token});

  auto anonymous = alerts({"list"});
  EXPECT_EQ(anonymous.exit_code, 1) << anonymous.output;
  EXPECT_NE(anonymous.output.find("(HTTP 401 unauthorized)"), std::string::npos)
      << anonymous.output;

  auto listed = alerts({"list", "--json"}, read_only);
  ASSERT_EQ(listed.exit_code, 0) << listed.output;
  EXPECT_EQ(json::parse(listed.output).at("alerts").at(0).at("id"), id);

  auto refused = alerts({"resolve", id}, read_only);
  EXPECT_EQ(refused.exit_code, 1) << refused.output;
  EXPECT_EQ(refused.output, "vigil: this token lacks the control scope (HTTP 403 forbidden)\n");
  EXPECT_EQ(alert_record(id, viewer)["state"], "firing");

  auto ack = alerts({"ack", id}, both);
  ASSERT_EQ(ack.exit_code, 0) << ack.output;
  EXPECT_EQ(alert_record(id, viewer)["acknowledged_by"], "ops-laptop");
  EXPECT_EQ(ack.output.find(ops), std::string::npos) << "the token was printed";
}

TEST_F(alerts_cli_test, no_agent_listening_is_exit_3_naming_the_address) {
  port = closed_port();
  ASSERT_NE(port, 0);
  std::ofstream{config} << json{{"api", {{"control_port", port}}}}.dump();
  for (auto action : {"list", "rules"}) {
    auto r = alerts({action});
    EXPECT_EQ(r.exit_code, 3) << r.output;
    EXPECT_EQ(r.output.rfind("vigil: agent not reachable at " + url() + ": ", 0), 0u) << r.output;
  }
  // Without --url the address comes from the configuration, for status as for alerts.
  for (std::vector<std::string> args :
       {std::vector<std::string>{"alerts", "ack", "some-id"}, std::vector<std::string>{"status"}}) {
    args.insert(args.end(), {"--config", config, "--secrets-file", dir / "none"});
    auto r = vigil(args);
    EXPECT_EQ(r.exit_code, 3) << r.output;
    EXPECT_EQ(r.output.rfind("vigil: agent not reachable at " + url() + ": ", 0), 0u) << r.output;
  }
}

TEST_F(alerts_cli_test, usage_errors_exit_2_without_asking_the_agent) {
  port = closed_port(); // exit 3 would mean it tried
  ASSERT_NE(port, 0);
  auto r = alerts({"silence", "any_process", "forever"});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("vigil: DURATION must be like 30m, 2h or 1d, not 'forever'"),
            std::string::npos)
      << r.output;
  auto missing = alerts({"ack"});
  EXPECT_EQ(missing.exit_code, 2) << missing.output;
  EXPECT_NE(missing.output.find("vigil: alerts ack needs ID"), std::string::npos) << missing.output;
}

} // namespace
