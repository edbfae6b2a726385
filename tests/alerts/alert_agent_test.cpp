// The alert engine in the real agent: a rule on real /proc data raises a ticket that reaches
// a real HTTP backend, a webhook and a real SMTP server, and the control API lists and
// acknowledges it.
#include "tests/support/child_process.hpp"
#include "tests/support/http_get.hpp"
#include "tests/support/smtp_sink.hpp"
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
  test::smtp_sink mail_server{dir / "smtp", {}};
  ASSERT_NE(mail_server.port(), 0) << mail_server.log();
  json config = {{"backend", {{"url", backend.url()}, {"heartbeat_interval", "1h"}}},
                 {"telemetry", {{"interval", "1s"}, {"slow_interval", "1s"}}},
                 {"alerts",
                  {{"default_rules", false},
                   {"channels", {"backend", "webhook", "email", "local"}},
                   {"webhook", {{"url", backend.url() + "/hooks/alerts"}}},
                   {"email",
                    {{"url", mail_server.url()},
                     {"starttls", false},
                     {"from", "vigil@example.org"},
                     {"to", {"ops@example.org"}}}},
                   {"rules",
                    {{{"id", "any_process"},
                      {"metric", "processes"},
                      {"threshold", 1},
                      {"duration", "0s"},
                      {"severity", "high"}}}}}}};
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

  // The same ticket through the webhook and by mail.
  auto hooked = backend.wait_for("/hooks/alerts", 1, 30s);
  ASSERT_EQ(hooked.size(), 1u) << agent.output();
  EXPECT_EQ(json::parse(hooked[0].body)["alert_id"], ticket["alert_id"]);
  auto mail = mail_server.mail(1);
  ASSERT_TRUE(mail) << mail_server.log() << agent.output();
  EXPECT_EQ(mail->subject, ticket["title"]);
  EXPECT_NE(mail->body.find("alert_id: " + ticket["alert_id"].get<std::string>()),
            std::string::npos)
      << mail->body;
  auto status = json::parse(test::http_call(port, "GET", "/status").body);
  EXPECT_EQ(status["alert_channels"]["webhook"]["sent"], 1) << status.dump(2);
  EXPECT_EQ(status["alerts"]["rules"], json::array({"any_process"})) << status.dump(2);

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
  EXPECT_EQ(json::parse(unknown.body)["detail"], "no firing alert nope");
  auto bad = test::http_call(port, "POST", "/api/alerts/silence", R"({"rule": "any_process"})");
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_NE(json::parse(bad.body)["error"], nullptr);
  auto silenced = test::http_call(port, "POST", "/api/alerts/silence",
                                  R"({"rule": "any_process", "duration": "2h"})");
  ASSERT_EQ(silenced.status, 200) << silenced.body;
  EXPECT_EQ(json::parse(silenced.body)["silences"][0]["by"], "anonymous");
  auto silences = test::http_call(port, "GET", "/api/alerts/silences");
  ASSERT_EQ(silences.status, 200) << silences.body;
  EXPECT_EQ(json::parse(silences.body)["silences"][0]["rule"], "any_process") << silences.body;
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

TEST(alert_agent, a_channel_without_its_settings_is_refused_naming_the_key) {
  test::temp_directory dir;
  std::ofstream{dir / "vigil.json"}
      << R"({"alerts": {"rules": [{"id": "cpu_high", "channels": ["webhook"]}],
                        "email": {"url": "smtp://127.0.0.1:25", "to": []}}})";
  test::child_process agent{
      {VIGIL_BINARY_DIR "/runtime/vigil", "config", "validate", "--config", dir / "vigil.json"},
      dir / "validate.log"};
  auto rc = agent.wait_for_exit(30s);
  ASSERT_TRUE(rc);
  EXPECT_EQ(*rc, 1);
  EXPECT_NE(agent.output().find("alerts.rules[0].channels: \"webhook\" needs alerts.webhook.url"),
            std::string::npos)
      << agent.output();
  EXPECT_NE(agent.output().find("alerts.email: "), std::string::npos) << agent.output();
}

} // namespace
