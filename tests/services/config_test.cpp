// The telemetry.services.* and telemetry.containers.* keys: defaults, values from a file, and
// errors that name the key.

#include "runtime/config_loader.hpp"
#include "tests/support/temp_directory.hpp"

#include <gtest/gtest.h>

namespace vigil {
namespace {

using namespace std::chrono_literals;

struct services_config_test : ::testing::Test {
  test::temp_directory dir;

  config_result load(const std::string& text) {
    auto path = dir / "vigil.json";
    test::rewrite_file(path, text);
    config_inputs in;
    in.config_path = path.string();
    in.config_path_explicit = true;
    in.command_line["secrets_file"] = (dir / "no-secrets.json").string();
    return load_config(in);
  }

  static std::string all(const config_result& r) {
    std::string s;
    for (auto& e : r.errors)
      s += e + "\n";
    return s;
  }
};

TEST_F(services_config_test, defaults_watch_the_system_bus_and_the_standard_docker_socket) {
  auto r = load("{}");
  ASSERT_TRUE(r.ok()) << all(r);
  auto& t = r.value->telemetry;
  EXPECT_TRUE(t.services.enabled);
  EXPECT_TRUE(t.services.units.empty()); // auto-discovery
  EXPECT_EQ(t.services.bus_address, "");
  EXPECT_EQ(t.services.interval, 30s);
  EXPECT_TRUE(t.containers.enabled);
  EXPECT_EQ(t.containers.socket, "/var/run/docker.sock");
  EXPECT_EQ(t.containers.interval, 30s);
}

TEST_F(services_config_test, keys_are_read_from_the_file) {
  auto r = load(R"({"telemetry": {
    "services": {"enabled": false, "units": ["nginx", "cron.service"], "interval": "10s",
                 "bus_address": "unix:path=/run/test/bus", "timeout": "2s"},
    "containers": {"socket": "/run/docker.sock", "interval": "1m", "timeout": "500ms"}}})");
  ASSERT_TRUE(r.ok()) << all(r);
  auto& t = r.value->telemetry;
  EXPECT_FALSE(t.services.enabled);
  EXPECT_EQ(t.services.units, (std::vector<std::string>{"nginx", "cron.service"}));
  EXPECT_EQ(t.services.interval, 10s);
  EXPECT_EQ(t.services.bus_address, "unix:path=/run/test/bus");
  EXPECT_EQ(t.services.timeout, 2s);
  EXPECT_EQ(t.containers.socket, "/run/docker.sock");
  EXPECT_EQ(t.containers.interval, 60s);
  EXPECT_EQ(t.containers.timeout, 500ms);
}

TEST_F(services_config_test, errors_name_the_key) {
  auto relative = load(R"({"telemetry": {"containers": {"socket": "docker.sock"}}})");
  ASSERT_FALSE(relative.ok());
  EXPECT_NE(all(relative).find("telemetry.containers.socket"), std::string::npos) << all(relative);
  auto bus = load(R"({"telemetry": {"services": {"bus_address": "/run/dbus/socket"}}})");
  ASSERT_FALSE(bus.ok());
  EXPECT_NE(all(bus).find("telemetry.services.bus_address"), std::string::npos) << all(bus);
  auto timeout = load(R"({"telemetry": {"services": {"timeout": "30s"}}})");
  ASSERT_FALSE(timeout.ok());
  EXPECT_NE(all(timeout).find("telemetry.services.timeout"), std::string::npos) << all(timeout);
}

} // namespace
} // namespace vigil
