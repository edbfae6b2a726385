#include "runtime/config_loader.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/stat.h>

using namespace vigil;
namespace fs = std::filesystem;

namespace {

struct config_loader_test : ::testing::Test {
  fs::path dir;
  config_loader_test() {
    char tmpl[] = "/tmp/vigil-config-XXXXXX";
    dir = mkdtemp(tmpl);
  }
  ~config_loader_test() override { fs::remove_all(dir); }

  std::string write(const std::string& name, const std::string& text, mode_t mode = 0644) {
    auto p = dir / name;
    std::ofstream{p} << text;
    ::chmod(p.c_str(), mode);
    return p.string();
  }

  config_inputs inputs(const std::string& config_path) {
    config_inputs in;
    in.config_path = config_path;
    in.config_path_explicit = true;
    in.command_line["secrets_file"] = (dir / "no-secrets.json").string();
    return in;
  }

  static std::string all(const config_result& r) {
    std::string s;
    for (auto& e : r.errors)
      s += e + "\n";
    return s;
  }
};

TEST_F(config_loader_test, defaults_without_any_file) {
  config_inputs in;
  in.config_path = (dir / "absent.json").string();
  in.command_line["secrets_file"] = "";
  auto r = load_config(in);
  ASSERT_TRUE(r.ok()) << all(r);
  EXPECT_EQ(r.value->api.bind, "127.0.0.1");
  EXPECT_EQ(r.value->api.control_port, 8754);
  EXPECT_EQ(r.value->api.ws_port, 8755);
  EXPECT_EQ(r.value->api.telemetry_ws_port, 8756);
  EXPECT_EQ(r.value->rabbitmq.queue, "error_logs_queue");
  EXPECT_EQ(r.value->backend.heartbeat_interval, 30s);
  EXPECT_EQ(r.value->state_dir, "/var/lib/vigil");
}

TEST_F(config_loader_test, explicit_missing_file_is_an_error_naming_it) {
  auto r = load_config(inputs((dir / "absent.json").string()));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(all(r).find("absent.json: cannot be read"), std::string::npos) << all(r);
}

TEST_F(config_loader_test, file_overrides_defaults_and_flags_override_file) {
  auto path = write("vigil.json", R"({
    // comments are allowed
    "api": { "control_port": 9000, "ws_port": 9001 },
    "log": { "level": "debug" },
    "backend": { "heartbeat_interval": "45s" },
    "outbox": { "logs_max_bytes": "64MiB" }
  })");
  auto in = inputs(path);
  in.command_line["api"]["control_port"] = "9100"; // flags arrive as strings
  in.option_names["api.control_port"] = "--control-port";
  auto r = load_config(in);
  ASSERT_TRUE(r.ok()) << all(r);
  EXPECT_EQ(r.value->api.control_port, 9100);      // flag wins
  EXPECT_EQ(r.value->api.ws_port, 9001);           // file wins over default
  EXPECT_EQ(r.value->api.telemetry_ws_port, 8756); // default
  EXPECT_EQ(r.value->log.level, "debug");
  EXPECT_EQ(r.value->backend.heartbeat_interval, 45s);
  EXPECT_EQ(r.value->outbox.logs_max_bytes, 64u << 20);
}

TEST_F(config_loader_test, unknown_key_names_file_key_and_suggestion) {
  auto path = write("vigil.json", R"({"api": {"contol_port": 1}, "lgo": {}})");
  auto r = load_config(inputs(path));
  ASSERT_FALSE(r.ok());
  auto text = all(r);
  EXPECT_NE(text.find(path + ": key 'api.contol_port' unknown key; did you mean "
                             "'api.control_port'?"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("key 'lgo' unknown key; did you mean 'log"), std::string::npos) << text;
}

TEST_F(config_loader_test, wrong_types_and_ranges_are_named) {
  auto path = write("vigil.json", R"({
    "api": {"control_port": 70000, "bind": 5},
    "log": {"level": "verbose"},
    "sources": {"poll_interval": "soon", "files": [{"application": "x"}, {"path": "/a", "colour": 1}]}
  })");
  auto r = load_config(inputs(path));
  ASSERT_FALSE(r.ok());
  auto text = all(r);
  EXPECT_NE(text.find("'api.control_port' must be between 0 and 65535, not 70000"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("'api.bind' must be a string, not number"), std::string::npos) << text;
  EXPECT_NE(text.find("'log.level' must be one of trace, debug, info"), std::string::npos) << text;
  EXPECT_NE(text.find("'sources.poll_interval' must be a duration"), std::string::npos) << text;
  EXPECT_NE(text.find("'sources.files[0].path' is required"), std::string::npos) << text;
  EXPECT_NE(text.find("'sources.files[1].colour' unknown key"), std::string::npos) << text;
}

TEST_F(config_loader_test, patterns_that_do_not_compile_are_named_by_key) {
  auto path = write("vigil.json", R"({"sources": {"keywords": ["error", "(unclosed"], "files": [
    {"path": "/a", "multiline": "start_pattern"},
    {"path": "/b", "multiline": "start_pattern", "multiline_start": "^[0-9"},
    {"path": "/c", "keywords": ["ok", "bad("]}
  ]}})");
  auto r = load_config(inputs(path));
  ASSERT_FALSE(r.ok());
  auto text = all(r);
  EXPECT_NE(text.find("sources.files[0].multiline_start: required when multiline is"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("sources.files[1].multiline_start: "), std::string::npos) << text;
  EXPECT_NE(text.find("sources.files[2]: "), std::string::npos) << text;
  EXPECT_NE(text.find("'bad('"), std::string::npos) << text;
  EXPECT_NE(text.find("sources.keywords: "), std::string::npos) << text;
}

TEST_F(config_loader_test, severity_and_multiline_values_are_checked) {
  auto path = write("vigil.json", R"({"sources": {"files": [
    {"path": "/d", "severity_words": [{"pattern": "x", "severity": "severe"}]},
    {"path": "/e", "severity_words": [{"pattern": "y"}], "multiline": "joined"}
  ]}})");
  auto r = load_config(inputs(path));
  ASSERT_FALSE(r.ok());
  auto text = all(r);
  EXPECT_NE(text.find("'sources.files[0].severity_words[0].severity' must be one of"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("'sources.files[1].severity_words[0].severity' is required"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("'sources.files[1].multiline' must be one of"), std::string::npos) << text;
}

TEST_F(config_loader_test, per_source_classification_and_multiline_keys_are_read) {
  auto path = write("vigil.json", R"({"sources": {"files": [
    {"path": "/var/log/app.log", "keywords": ["oops"], "severity": "warn",
     "severity_words": [{"pattern": "denied", "severity": "critical"}],
     "multiline": "start_pattern", "multiline_start": "^\\d{4}-", "multiline_max_lines": 50,
     "multiline_max_bytes": "16KiB", "multiline_timeout": "500ms"}]}})");
  auto r = load_config(inputs(path));
  ASSERT_TRUE(r.ok()) << all(r);
  auto& f = r.value->sources.files.at(0);
  EXPECT_EQ(f.keywords, std::vector<std::string>{"oops"});
  EXPECT_EQ(f.severity, "warn");
  ASSERT_EQ(f.severity_words.size(), 1u);
  EXPECT_EQ(f.severity_words[0].pattern, "denied");
  EXPECT_EQ(f.severity_words[0].severity, "critical");
  EXPECT_EQ(f.multiline, "start_pattern");
  EXPECT_EQ(f.multiline_start, "^\\d{4}-");
  EXPECT_EQ(f.multiline_max_lines, 50u);
  EXPECT_EQ(f.multiline_max_bytes, 16u * 1024);
  EXPECT_EQ(f.multiline_timeout, 500ms);
}

TEST_F(config_loader_test, invalid_json_reports_line_and_column) {
  auto path = write("vigil.json", "{\n  \"api\": {\n    \"bind\": \"127.0.0.1\",,\n  }\n}");
  auto r = load_config(inputs(path));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(all(r).find(path + ": invalid JSON at line 3"), std::string::npos) << all(r);
}

TEST_F(config_loader_test, bad_flag_value_names_the_option) {
  auto path = write("vigil.json", "{}");
  auto in = inputs(path);
  in.command_line["api"]["control_port"] = "abc";
  in.option_names["api.control_port"] = "--control-port";
  auto r = load_config(in);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(all(r).find("option --control-port must be an integer"), std::string::npos) << all(r);
}

TEST_F(config_loader_test, secrets_come_from_a_private_file_and_are_never_shown) {
  auto path = write("vigil.json", R"({"rabbitmq": {"queue": "q1"}})");
  auto secrets = write("secrets.json",
                       R"({"rabbitmq": {"url": "amqp://u:hunter2@127.0.0.1:5672/"},
                           "api": {"tokens": [{"token": "0123456789abcdef0123", "scopes": ["read"]}]}})",
                       0600);
  auto in = inputs(path);
  in.command_line["secrets_file"] = secrets;
  auto r = load_config(in);
  ASSERT_TRUE(r.ok()) << all(r);
  EXPECT_EQ(r.value->rabbitmq.url, "amqp://u:hunter2@127.0.0.1:5672/");
  EXPECT_EQ(r.value->rabbitmq.queue, "q1");
  ASSERT_EQ(r.value->api.tokens.size(), 1u);
  auto shown = settings_to_json(*r.value).dump();
  EXPECT_EQ(shown.find("hunter2"), std::string::npos) << shown;
  EXPECT_EQ(shown.find("0123456789abcdef0123"), std::string::npos) << shown;
  EXPECT_NE(shown.find("\"queue\":\"q1\""), std::string::npos) << shown;
}

TEST_F(config_loader_test, secrets_file_readable_by_others_is_refused) {
  auto path = write("vigil.json", "{}");
  auto secrets = write("secrets.json", R"({"rabbitmq": {"url": "amqp://u:p@127.0.0.1/"}})", 0644);
  auto in = inputs(path);
  in.command_line["secrets_file"] = secrets;
  auto r = load_config(in);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(all(r).find(secrets + ": secrets file is readable by group or others (mode 0644)"),
            std::string::npos)
      << all(r);
}

TEST_F(config_loader_test, alert_channel_secrets_come_from_the_secrets_file) {
  auto path = write("vigil.json", R"({"alerts": {
      "channels": ["webhook", "email"],
      "webhook": {"url": "https://hooks.example.org/x", "format": "slack"},
      "email": {"url": "smtps://mail.example.org:465", "username": "vigil",
                "from": "vigil@example.org", "to": ["ops@example.org"]}}})");
  auto secrets = write("secrets.json", R"({"alerts": {"webhook": {"token": "hook-secret-1"},
                                             "email": {"password": "mail-secret-2"}}})",
                       0600);
  auto in = inputs(path);
  in.command_line["secrets_file"] = secrets;
  auto r = load_config(in);
  ASSERT_TRUE(r.ok()) << all(r);
  EXPECT_EQ(r.value->alerts.webhook.token, "hook-secret-1");
  EXPECT_EQ(r.value->alerts.email.password, "mail-secret-2");
  EXPECT_EQ(r.value->alerts.webhook.format, "slack");
  auto shown = settings_to_json(*r.value).dump();
  EXPECT_EQ(shown.find("secret-"), std::string::npos) << shown;

  // In a config file others can read, they are named a risk.
  auto exposed = write("exposed.json", R"({"alerts": {"email": {"url": "smtp://127.0.0.1:25",
      "starttls": false, "from": "a@example.org", "to": ["b@example.org"],
      "password": "mail-secret-3"}}})");
  auto warned = load_config(inputs(exposed));
  ASSERT_TRUE(warned.ok()) << all(warned);
  ASSERT_EQ(warned.warnings.size(), 1u);
  EXPECT_NE(warned.warnings[0].find("holds secrets but is readable by others"), std::string::npos)
      << warned.warnings[0];
}

TEST_F(config_loader_test, alert_channels_need_their_settings) {
  auto path = write("vigil.json", R"({"alerts": {"channels": ["email"],
      "webhook": {"url": "ftp://x"},
      "rules": [{"id": "cpu_high", "channels": ["webhook", "pager"]}]}})");
  auto r = load_config(inputs(path));
  ASSERT_FALSE(r.ok());
  auto text = all(r);
  EXPECT_NE(text.find("key 'alerts.rules[0].channels' items must be one of backend, webhook, "
                      "email, local, not \"pager\""),
            std::string::npos)
      << text;
  auto fixed = write("fixed.json", R"({"alerts": {"channels": ["email"],
      "webhook": {"url": "ftp://x"}}})");
  text = all(load_config(inputs(fixed)));
  EXPECT_NE(text.find("alerts.channels: \"email\" needs alerts.email.url"), std::string::npos)
      << text;
  EXPECT_NE(text.find("alerts.webhook.url: must start with http:// or https://"), std::string::npos)
      << text;
}

TEST_F(config_loader_test, secrets_file_holds_only_secrets) {
  auto path = write("vigil.json", "{}");
  auto secrets = write("secrets.json", R"({"api": {"bind": "0.0.0.0"}})", 0600);
  auto in = inputs(path);
  in.command_line["secrets_file"] = secrets;
  auto r = load_config(in);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(all(r).find("'api.bind' is not a secret"), std::string::npos) << all(r);
}

TEST_F(config_loader_test, environment_overrides_secrets_file) {
  auto path = write("vigil.json", "{}");
  auto in = inputs(path);
  in.environment["VIGIL_RABBITMQ_URL"] = "amqp://a:b@127.0.0.1:1/";
  auto r = load_config(in);
  ASSERT_TRUE(r.ok()) << all(r);
  EXPECT_EQ(r.value->rabbitmq.url, "amqp://a:b@127.0.0.1:1/");
  in.environment["VIGIL_RABBITMQ_URL"] = "http://nope";
  r = load_config(in);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(all(r).find("rabbitmq.url: must start with amqp://"), std::string::npos) << all(r);
  EXPECT_EQ(all(r).find("nope"), std::string::npos) << "secret value leaked: " << all(r);
}

TEST_F(config_loader_test, non_loopback_bind_requires_tokens) {
  auto path = write("vigil.json", R"({"api": {"bind": "0.0.0.0"}})");
  auto r = load_config(inputs(path));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(all(r).find("refusing to listen on non-loopback address 0.0.0.0"), std::string::npos)
      << all(r);
  auto in = inputs(path);
  in.environment["VIGIL_API_TOKEN"] = "a-long-enough-token-value";
  r = load_config(in);
  EXPECT_TRUE(r.ok()) << all(r);
  path = write("v2.json", R"({"api": {"bind": "127.0.0.2"}})");
  EXPECT_TRUE(load_config(inputs(path)).ok()); // all of 127/8 is loopback
}

TEST_F(config_loader_test, allow_from_entries_must_be_networks) {
  auto path = write("vigil.json",
                    R"({"api": {"allow_from": ["127.0.0.1/32", "10.0.0.0/8", "10.0.0.0/33"]}})");
  auto r = load_config(inputs(path));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(all(r).find("api.allow_from[2]: \"10.0.0.0/33\" is not a CIDR"), std::string::npos)
      << all(r);
  path = write("v2.json", R"({"api": {"allow_from": ["127.0.0.0/8", "::1"],
                                      "rate_limit_per_minute": 0}})");
  r = load_config(inputs(path));
  ASSERT_TRUE(r.ok()) << all(r);
  EXPECT_EQ(r.value->api.allow_from.size(), 2u);
  EXPECT_EQ(r.value->api.rate_limit_per_minute, 0u);
}

TEST_F(config_loader_test, a_config_patch_is_checked_and_merged_without_touching_the_file) {
  const std::string original = R"({
    // comments are allowed in the file
    "log": {"level": "info", "file_max_files": 5},
    "telemetry": {"interval": "2s"}
  })";
  auto path = write("vigil.json", original);
  auto in = inputs(path);
  in.config_patch = nlohmann::json::parse(
      R"({"log": {"file_max_files": 9}, "telemetry": null, "api": {"rate_limit_per_minute": 7}})");
  auto r = load_config(in);
  ASSERT_TRUE(r.ok()) << all(r);
  EXPECT_EQ(r.value->log.file_max_files, 9u);
  EXPECT_EQ(r.value->log.level, "info");                                 // kept from the file
  EXPECT_EQ(r.value->telemetry.interval, settings{}.telemetry.interval); // null removed it
  EXPECT_EQ(r.value->api.rate_limit_per_minute, 7u);
  ASSERT_TRUE(r.patched_document);
  EXPECT_EQ(*r.patched_document, nlohmann::json::parse(R"({"log": {"level": "info",
      "file_max_files": 9}, "api": {"rate_limit_per_minute": 7}})"));
  std::ifstream file{path};
  std::stringstream text;
  text << file.rdbuf();
  EXPECT_EQ(text.str(), original);
}

TEST_F(config_loader_test, a_config_patch_with_a_secret_an_unknown_key_or_a_bad_type_is_refused) {
  auto path = write("vigil.json", "{}");
  auto in = inputs(path);
  in.config_patch = nlohmann::json::parse(
      R"({"api": {"tokens": [{"token": "patched-secret-0123456789"}]}, "lgo": {},
          "log": {"file_max_files": "many"}})");
  auto r = load_config(in);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(all(r).find("POST /api/config: key 'api.tokens' is a secret"), std::string::npos)
      << all(r);
  EXPECT_NE(all(r).find("POST /api/config: key 'lgo' unknown key; did you mean 'log'?"),
            std::string::npos)
      << all(r);
  EXPECT_NE(all(r).find("key 'log.file_max_files'"), std::string::npos) << all(r);
  EXPECT_EQ(all(r).find("patched-secret"), std::string::npos) << "secret leaked: " << all(r);
  in.config_patch = nlohmann::json::array();
  r = load_config(in);
  EXPECT_NE(all(r).find("the body must be a JSON object, not array"), std::string::npos) << all(r);
}

TEST_F(config_loader_test, fault_injection_only_from_the_command_line) {
  auto path = write("vigil.json", R"({"fault_injection": true})");
  auto r = load_config(inputs(path));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(all(r).find("can only be set on the command line"), std::string::npos) << all(r);
}

TEST_F(config_loader_test, durations_and_sizes_parse) {
  EXPECT_EQ(parse_duration("250ms"), duration{250});
  EXPECT_EQ(parse_duration("30s"), duration{30000});
  EXPECT_EQ(parse_duration("5m"), duration{300000});
  EXPECT_EQ(parse_duration("1.5h"), duration{5400000});
  EXPECT_EQ(parse_duration("2"), duration{2000});
  EXPECT_FALSE(parse_duration("5 parsecs"));
  EXPECT_FALSE(parse_duration("-1s"));
  EXPECT_EQ(format_duration(duration{300000}), "5m");
  EXPECT_EQ(format_duration(duration{1500}), "1500ms");
  EXPECT_EQ(parse_byte_size("64KiB"), 65536u);
  EXPECT_EQ(parse_byte_size("1GB"), 1000000000u);
  EXPECT_FALSE(parse_byte_size("12XB"));
}

TEST_F(config_loader_test, shipped_config_file_is_valid) {
  auto in = inputs(std::string{VIGIL_SOURCE_DIR} + "/config/vigil.json");
  auto r = load_config(in);
  EXPECT_TRUE(r.ok()) << all(r);
}

} // namespace

namespace {

TEST_F(config_loader_test, an_alert_rule_with_a_builtin_id_changes_only_the_keys_given) {
  auto path = write("vigil.json", R"({"alerts": {"rules": [
    {"id": "cpu_high", "threshold": 80.5},
    {"id": "swap_full", "metric": "swap", "threshold": 50, "duration": "5m"}]}})");
  auto r = load_config(inputs(path));
  ASSERT_TRUE(r.ok()) << all(r);
  ASSERT_EQ(r.value->alerts.rules.size(), 2u);
  auto& cpu = r.value->alerts.rules[0];
  EXPECT_EQ(cpu.threshold, 80.5);
  EXPECT_EQ(cpu.metric, "cpu");       // built-in
  EXPECT_EQ(cpu.for_duration, 10min); // built-in
  EXPECT_EQ(cpu.clear_threshold, 70); // built-in
  EXPECT_EQ(cpu.severity, "high");    // built-in
  auto& swap = r.value->alerts.rules[1];
  EXPECT_EQ(swap.for_duration, 5min);
  EXPECT_EQ(swap.severity, "medium"); // the plain default
}

TEST_F(config_loader_test, bad_alert_rules_are_named_by_key) {
  auto path = write("vigil.json", R"({"alerts": {"rules": [
    {"id": "a", "metric": "cpu", "threshold": "high"}]}})");
  auto typed = load_config(inputs(path));
  ASSERT_FALSE(typed.ok());
  EXPECT_NE(all(typed).find("vigil.json: key 'alerts.rules[0].threshold' must be a number"),
            std::string::npos)
      << all(typed);
  path = write("vigil.json", R"({"alerts": {"rules": [
    {"id": "a", "metric": "cpu"},
    {"id": "b", "metric": "cpux"},
    {"id": "b", "metric": "cpu", "threshold": 50, "clear_threshold": 60}]}})");
  auto r = load_config(inputs(path));
  ASSERT_FALSE(r.ok());
  auto errors = all(r);
  EXPECT_NE(errors.find("vigil.json: alerts.rules[1].metric: unknown metric \"cpux\""),
            std::string::npos)
      << errors;
  EXPECT_NE(errors.find("alerts.rules[2].clear_threshold: must not exceed"), std::string::npos)
      << errors;
  EXPECT_NE(errors.find("alerts.rules[2].id: \"b\" is configured twice"), std::string::npos)
      << errors;
}

} // namespace
