// The alert engine in the real agent: a rule on real /proc data raises a ticket that reaches
// a real HTTP backend, and the control API lists and acknowledges it.
#include "tests/support/child_process.hpp"
#include "tests/support/http_get.hpp"
#include "tests/support/temp_directory.hpp"
#include "tests/support/test_backend.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

using namespace std::chrono_literals;
using json = nlohmann::json;
using namespace vigil;

namespace {

TEST(alert_agent, a_rule_on_real_telemetry_raises_a_ticket_the_api_lists_and_acknowledges) {
  test::temp_directory dir;
  test::test_backend backend;
  json config = {{"backend", {{"url", backend.url()}, {"heartbeat_interval", "1h"}}},
                 {"telemetry", {{"interval", "1s"}, {"slow_interval", "1s"}}},
                 {"alerts",
                  {{"default_rules", false},
                   {"rules",
                    {{{"id", "any_process"},
                      {"metric", "processes"},
                      {"threshold", 1},
                      {"duration", "0s"},
                      {"severity", "high"},
                      {"channels", {"backend", "local"}}}}}}}};
  std::ofstream{dir / "vigil.json"} << config.dump();
  test::child_process agent{{VIGIL_BINARY_DIR "/runtime/vigil", "run", "--config",
                             dir / "vigil.json", "--state-dir", dir / "state", "--secrets-file",
                             dir / "none", "--control-port", "0", "--ws-port", "0",
                             "--telemetry-ws-port", "0", "--log-file", dir / "*.log"},
                            dir / "agent.log"};
  auto port = test::announced_control_port(agent);
  ASSERT_NE(port, 0) << agent.output();

  auto posted = backend.wait_for("/api/alerts/create", 1, 60s);
  ASSERT_EQ(posted.size(), 1u) << agent.output();
  auto ticket = json::parse(posted[0].body);
  EXPECT_EQ(ticket["alert_type"], "any_process");
  EXPECT_EQ(ticket["priority"], "high");
  EXPECT_EQ(ticket["status"], "open");
  EXPECT_GT(ticket["metric_value"].get<double>(), 1.0); // processes counted in /proc
  EXPECT_EQ(ticket["title"].get<std::string>().rfind("🟠 HIGH: Process count at ", 0), 0u)
      << ticket["title"];
  // One key per notification: the alert id and the time it was sent.
  EXPECT_EQ(std::string{posted[0].header("idempotency-key")}.rfind(
                ticket["alert_id"].get<std::string>() + ":", 0),
            0u);

  auto listed = test::http_call(port, "GET", "/api/alerts?state=firing");
  ASSERT_EQ(listed.status, 200) << listed.body;
  auto alerts = json::parse(listed.body)["alerts"];
  ASSERT_EQ(alerts.size(), 1u) << listed.body;
  EXPECT_EQ(alerts[0]["id"], ticket["alert_id"]);

  auto rules = json::parse(test::http_call(port, "GET", "/api/alerts/rules").body);
  ASSERT_EQ(rules["rules"].size(), 1u);
  EXPECT_EQ(rules["rules"][0]["id"], "any_process");

  auto ack = test::http_call(port, "POST", "/api/alerts/acknowledge",
                             json{{"id", ticket["alert_id"]}}.dump());
  ASSERT_EQ(ack.status, 200) << ack.body;
  EXPECT_EQ(json::parse(ack.body)["acknowledged_by"], "anonymous");

  auto unknown = test::http_call(port, "POST", "/api/alerts/resolve", R"({"id": "nope"})");
  EXPECT_EQ(unknown.status, 404) << unknown.body;
  auto bad = test::http_call(port, "POST", "/api/alerts/silence", R"({"rule": "any_process"})");
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_NE(json::parse(bad.body)["error"], nullptr);
  auto silenced = test::http_call(port, "POST", "/api/alerts/silence",
                                  R"({"rule": "any_process", "duration": "2h"})");
  ASSERT_EQ(silenced.status, 200) << silenced.body;
  EXPECT_EQ(json::parse(silenced.body)["silences"][0]["by"], "anonymous");
  EXPECT_NE(agent.output().find("alert any_process:"), std::string::npos); // the local channel
}

TEST(alert_agent, a_bad_rule_is_refused_naming_its_key_and_file) {
  test::temp_directory dir;
  std::ofstream{dir / "vigil.json"}
      << R"({"alerts": {"rules": [{"id": "x", "metric": "cpu", "comparison": "=~"}]}})";
  test::child_process agent{{VIGIL_BINARY_DIR "/runtime/vigil", "run", "--config",
                             dir / "vigil.json", "--state-dir", dir / "state"},
                            dir / "agent.log"};
  auto rc = agent.wait_for_exit(30s);
  ASSERT_TRUE(rc);
  EXPECT_NE(*rc, 0);
  EXPECT_NE(agent.output().find("alerts.rules[0].comparison"), std::string::npos) << agent.output();
  EXPECT_NE(agent.output().find("vigil.json"), std::string::npos) << agent.output();
}

} // namespace
