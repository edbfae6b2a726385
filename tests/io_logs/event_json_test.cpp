#include "io/logs/event_json.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace vigil;

TEST(event_json, carries_the_seed_fields_exactly_plus_identity) {
  std::string out;
  append_event_json(out, {.id = "n1:ab:1:120",
                          .timestamp = "2024-01-15T10:30:45Z",
                          .system_ip = "10.0.0.5",
                          .log_path = "/var/log/app.log",
                          .application = "app",
                          .log_line = "Error: Connection timeout",
                          .severity = "error",
                          .node_id = "n1",
                          .hostname = "web-1",
                          .line_number = 7,
                          .offset = 120});
  auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["timestamp"], "2024-01-15T10:30:45Z");
  EXPECT_EQ(j["system_ip"], "10.0.0.5");
  EXPECT_EQ(j["log_path"], "/var/log/app.log");
  EXPECT_EQ(j["application"], "app");
  EXPECT_EQ(j["log_line"], "Error: Connection timeout");
  EXPECT_EQ(j["severity"], "error");
  EXPECT_EQ(j["id"], "n1:ab:1:120");
  EXPECT_EQ(j["node_id"], "n1");
  EXPECT_EQ(j["hostname"], "web-1");
  EXPECT_EQ(j["line_number"], 7);
  EXPECT_EQ(j["offset"], 120);
  EXPECT_EQ(j.size(), 11u);
}

TEST(event_json, escapes_quotes_controls_and_invalid_utf8) {
  std::string raw = "say \"hi\"\\ tab\there\x01 caf\xC3\xA9 bad\xFF\xC3 end";
  std::string out;
  append_json_string(out, raw);
  auto parsed = nlohmann::json::parse(out).get<std::string>(); // strict UTF-8 parser
  EXPECT_EQ(parsed, "say \"hi\"\\ tab\there\x01 caf\xC3\xA9 bad\xEF\xBF\xBD\xEF\xBF\xBD end");
}

TEST(event_json, rejects_overlong_and_surrogate_sequences) {
  std::string out;
  append_json_string(out, "\xC0\xAF \xED\xA0\x80 \xF4\x90\x80\x80");
  EXPECT_TRUE(nlohmann::json::accept(out)) << out;
  EXPECT_EQ(out.find("\xC0"), std::string::npos);
}
