// io/systemd/unit_states against a private dbus-daemon with an in-test systemd manager: unit
// states and main PIDs, auto-discovery, a unit that fails, and no bus / no systemd / a bus that
// goes away and comes back.

#include "io/systemd/unit_states.hpp"
#include "tests/services/private_bus.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace vigil {
namespace {

using namespace std::chrono_literals;
using systemd::unit_state_reader;

constexpr auto call_timeout = 5s;

std::vector<test::fake_unit> host_units() {
  return {
      {"nginx.service", "A high performance web server", "loaded", "active", "running", 1234},
      {"cron.service", "Regular background program processing daemon", "loaded", "inactive", "dead",
       0},
      {"postgresql@15-main.service", "PostgreSQL Cluster 15-main", "loaded", "failed", "failed", 0},
      {"docker.service", "Docker Application Container Engine", "loaded", "active", "running", 812},
      {"docker.socket", "Docker Socket for the API", "loaded", "active", "running", 0},
      {"ssh.service", "OpenBSD Secure Shell server", "loaded", "active", "running", 655},
      {"redis-server.service", "Advanced key-value store", "loaded", "activating", "start-pre", 0},
      {"systemd-journald.service", "Journal Service", "loaded", "active", "running", 301},
      {"user@1000.service", "User Manager for UID 1000", "loaded", "active", "running", 1500},
      {"myapp.service", "In-house application", "loaded", "active", "running", 4242},
      // Installed but not loaded: only ListUnitsByNames sees it.
      {"mariadb.service", "MariaDB database server", "loaded", "inactive", "dead", 0, false},
  };
}

const systemd::unit_state* find(const systemd::unit_listing& l, const std::string& name) {
  auto it = std::find_if(l.units.begin(), l.units.end(), [&](auto& u) { return u.name == name; });
  return it == l.units.end() ? nullptr : &*it;
}

struct unit_states_test : ::testing::Test {
  test::temp_directory dir;
  test::private_dbus bus{dir.path()};
};

TEST_F(unit_states_test, configured_units_report_state_and_main_pid_in_the_configured_order) {
  test::fake_systemd manager{bus.address(), host_units()};
  unit_state_reader reader{bus.address(), call_timeout};
  auto l = reader.read({"nginx", "cron.service", "postgresql@15-main", "mariadb", "ghost"});
  ASSERT_TRUE(l.reachable) << l.reason;
  EXPECT_FALSE(l.discovered);
  ASSERT_EQ(l.units.size(), 5u);
  EXPECT_EQ(l.units[0].name, "nginx.service");
  EXPECT_EQ(l.units[0].description, "A high performance web server");
  EXPECT_EQ(systemd::unit_status(l.units[0]), "running");
  EXPECT_EQ(l.units[0].active_state, "active");
  EXPECT_EQ(l.units[0].sub_state, "running");
  EXPECT_EQ(l.units[0].main_pid, 1234u);
  EXPECT_EQ(l.units[1].name, "cron.service");
  EXPECT_EQ(systemd::unit_status(l.units[1]), "stopped");
  EXPECT_FALSE(l.units[1].main_pid);
  EXPECT_EQ(l.units[2].name, "postgresql@15-main.service");
  EXPECT_EQ(systemd::unit_status(l.units[2]), "failed");
  EXPECT_EQ(l.units[2].sub_state, "failed");
  EXPECT_EQ(l.units[3].name, "mariadb.service"); // not loaded: found by ListUnitsByNames
  EXPECT_EQ(l.units[3].load_state, "loaded");
  EXPECT_EQ(systemd::unit_status(l.units[3]), "stopped");
  EXPECT_EQ(l.units[4].name, "ghost.service");
  EXPECT_EQ(l.units[4].load_state, "not-found");
  EXPECT_EQ(systemd::unit_status(l.units[4]), "not-found");
}

TEST_F(unit_states_test, auto_discovery_picks_only_the_well_known_services) {
  test::fake_systemd manager{bus.address(), host_units()};
  unit_state_reader reader{bus.address(), call_timeout};
  auto l = reader.read({});
  ASSERT_TRUE(l.reachable) << l.reason;
  EXPECT_TRUE(l.discovered);
  std::vector<std::string> names;
  for (auto& u : l.units)
    names.push_back(u.name);
  // Not: docker.socket (not a service), systemd-journald, user@1000, myapp (not well known),
  // mariadb (not loaded, so not in ListUnits).
  EXPECT_EQ(names, (std::vector<std::string>{"cron.service", "docker.service", "nginx.service",
                                             "postgresql@15-main.service", "redis-server.service",
                                             "ssh.service"}));
  EXPECT_EQ(find(l, "docker.service")->main_pid, 812u);
  EXPECT_EQ(systemd::unit_status(*find(l, "redis-server.service")), "starting");
}

TEST_F(unit_states_test, a_unit_that_fails_shows_failed) {
  test::fake_systemd manager{bus.address(), host_units()};
  unit_state_reader reader{bus.address(), call_timeout};
  auto before = reader.read({"nginx"});
  ASSERT_TRUE(before.reachable) << before.reason;
  EXPECT_EQ(systemd::unit_status(before.units.at(0)), "running");
  manager.set_state("nginx.service", "failed", "failed", 0);
  auto after = reader.read({"nginx"});
  ASSERT_TRUE(after.reachable) << after.reason;
  EXPECT_EQ(systemd::unit_status(after.units.at(0)), "failed");
  EXPECT_EQ(after.units.at(0).active_state, "failed");
  EXPECT_FALSE(after.units.at(0).main_pid);
}

TEST_F(unit_states_test, a_bus_without_systemd_is_not_reachable_rather_than_an_error) {
  unit_state_reader reader{bus.address(), call_timeout};
  systemd::unit_listing l;
  ASSERT_NO_THROW(l = reader.read({}));
  EXPECT_FALSE(l.reachable);
  EXPECT_NE(l.reason.find("no systemd"), std::string::npos) << l.reason;
}

TEST_F(unit_states_test, a_bus_that_goes_away_and_comes_back_is_picked_up_again) {
  unit_state_reader reader{bus.address(), call_timeout};
  {
    test::fake_systemd manager{bus.address(), host_units()};
    ASSERT_TRUE(reader.read({"nginx"}).reachable);
    bus.stop();
    auto gone = reader.read({"nginx"});
    EXPECT_FALSE(gone.reachable);
    EXPECT_FALSE(gone.reason.empty());
  }
  auto still_gone = reader.read({"nginx"}); // a reconnect attempt to a dead socket
  EXPECT_FALSE(still_gone.reachable);
  EXPECT_NE(still_gone.reason.find("cannot connect"), std::string::npos) << still_gone.reason;
  ASSERT_TRUE(bus.start());
  test::fake_systemd manager{bus.address(), host_units()};
  auto back = reader.read({"nginx"});
  ASSERT_TRUE(back.reachable) << back.reason;
  EXPECT_EQ(back.units.at(0).main_pid, 1234u);
}

TEST(unit_states, no_bus_at_all_is_not_reachable_rather_than_an_error) {
  test::temp_directory dir;
  unit_state_reader reader{"unix:path=" + (dir / "no-such-bus").string(), call_timeout};
  systemd::unit_listing l;
  ASSERT_NO_THROW(l = reader.read({"nginx"}));
  EXPECT_FALSE(l.reachable);
  EXPECT_NE(l.reason.find("cannot connect to the bus at unix:path="), std::string::npos)
      << l.reason;
  EXPECT_TRUE(l.units.empty());
}

TEST(unit_states, well_known_services) {
  for (auto name :
       {"docker.service", "sshd.service", "ssh.service", "nginx.service", "apache2.service",
        "postgresql.service", "postgresql@15-main.service", "mysql.service", "mariadb.service",
        "redis.service", "redis-server.service", "openvpn.service", "openvpn@client.service",
        "cron.service", "rabbitmq-server.service"})
    EXPECT_TRUE(systemd::is_well_known_service(name)) << name;
  for (auto name : {"docker.socket", "nginx", "systemd-journald.service", "user@1000.service",
                    "dockerd-helper.service", "postgresql@.service", "xnginx.service"})
    EXPECT_FALSE(systemd::is_well_known_service(name)) << name;
}

} // namespace
} // namespace vigil
