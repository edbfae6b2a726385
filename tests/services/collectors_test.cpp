// service_collector and container_collector as actors, feeding a real telemetry hub: what
// reaches the snapshot JSON (ViWorks' services[] and containers[]), a unit that goes failed,
// no bus / no Docker (available: false, not an error) and a malformed engine answer (the
// section's error).

#include "actors/container_collector.hpp"
#include "actors/service_collector.hpp"
#include "actors/telemetry_hub.hpp"
#include "actors/telemetry_json.hpp"
#include "tests/services/fake_docker_engine.hpp"
#include "tests/services/private_bus.hpp"

#include <caf/all.hpp>
#include <gtest/gtest.h>

#include <functional>

namespace vigil {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;

constexpr auto services_i = static_cast<std::size_t>(telemetry_section::services);
constexpr auto containers_i = static_cast<std::size_t>(telemetry_section::containers);

struct collectors_test : ::testing::Test {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  test::temp_directory dir;
  std::vector<caf::actor> started;

  ~collectors_test() override {
    for (auto& a : started) {
      self->send_exit(a, caf::exit_reason::user_shutdown);
      self->wait_for(a);
    }
  }

  settings base_settings() {
    settings s;
    s.node_id = "services-test";
    s.telemetry.interval = 100ms;
    s.telemetry.services.interval = 200ms;
    s.telemetry.services.timeout = 5s;
    s.telemetry.containers.interval = 200ms;
    s.telemetry.containers.timeout = 5s;
    return s;
  }

  // A hub and one collector; snapshots come to `self`.
  template <class Spawn>
  void start(const settings& s, Spawn spawn_collector) {
    auto current = std::make_shared<const settings>(s);
    auto hub = sys.spawn(telemetry_hub, current);
    self->send(hub, atom::subscribe_v, caf::actor_cast<caf::actor>(self));
    collector_options options;
    options.hub = hub;
    auto collector = spawn_collector(sys, options, current);
    started.push_back(caf::actor_cast<caf::actor>(collector)); // stops first
    started.push_back(caf::actor_cast<caf::actor>(hub));
  }

  // Snapshot JSON documents until `done` holds for one (returned) or a generous deadline.
  json wait_for(std::function<bool(const json&)> done) {
    auto until = std::chrono::steady_clock::now() + 20s;
    json found;
    while (found.is_null() && std::chrono::steady_clock::now() < until)
      self->receive(
          [&](atom::publish, const telemetry_snapshot_ptr& s) {
            auto j = telemetry_to_json(*s);
            if (done(j))
              found = std::move(j);
          },
          caf::after(100ms) >> [] {});
    return found;
  }
};

json service_named(const json& snapshot, const std::string& name) {
  for (auto& s : snapshot.at("services"))
    if (s.at("name") == name)
      return s;
  return nullptr;
}

TEST_F(collectors_test, service_states_reach_the_snapshot_and_a_failing_unit_shows_failed) {
  test::private_dbus bus{dir.path()};
  test::fake_systemd manager{
      bus.address(),
      {{"nginx.service", "A high performance web server", "loaded", "active", "running", 1234},
       {"cron.service", "Regular background program processing daemon", "loaded", "inactive",
        "dead", 0},
       {"myapp.service", "In-house application", "loaded", "active", "running", 4242}}};
  auto s = base_settings();
  s.telemetry.services.bus_address = bus.address();
  s.telemetry.services.units = {"nginx", "cron"};
  start(s, spawn_service_collector);
  auto first = wait_for([](const json& j) { return j.at("services").is_array(); });
  ASSERT_FALSE(first.is_null()) << "no services section";
  EXPECT_EQ(first.at("service_manager").at("available"), true);
  EXPECT_EQ(first.at("service_manager").at("units"), "configured");
  EXPECT_TRUE(first.at("sections").at("services").at("error").is_null());
  ASSERT_EQ(first.at("services").size(), 2u);
  auto nginx = service_named(first, "nginx.service");
  EXPECT_EQ(nginx.at("status"), "running");
  EXPECT_EQ(nginx.at("active_state"), "active");
  EXPECT_EQ(nginx.at("sub_state"), "running");
  EXPECT_EQ(nginx.at("main_pid"), 1234);
  EXPECT_EQ(service_named(first, "cron.service").at("status"), "stopped");
  EXPECT_TRUE(service_named(first, "cron.service").at("main_pid").is_null());

  manager.set_state("nginx.service", "failed", "failed", 0);
  auto failed = wait_for([](const json& j) {
    auto n = service_named(j, "nginx.service");
    return !n.is_null() && n.at("status") == "failed";
  });
  ASSERT_FALSE(failed.is_null()) << "nginx never showed failed";
  EXPECT_EQ(service_named(failed, "nginx.service").at("sub_state"), "failed");
  EXPECT_EQ(failed.at("sections").at("services").at("stale"), false);
}

TEST_F(collectors_test, without_a_unit_list_the_well_known_services_are_discovered) {
  test::private_dbus bus{dir.path()};
  test::fake_systemd manager{
      bus.address(),
      {{"docker.service", "Docker", "loaded", "active", "running", 812},
       {"myapp.service", "In-house application", "loaded", "active", "running", 4242},
       {"sshd.service", "OpenSSH server daemon", "loaded", "active", "running", 655}}};
  auto s = base_settings();
  s.telemetry.services.bus_address = bus.address();
  start(s, spawn_service_collector);
  auto j = wait_for([](const json& j) { return j.at("services").is_array(); });
  ASSERT_FALSE(j.is_null());
  EXPECT_EQ(j.at("service_manager").at("units"), "discovered");
  ASSERT_EQ(j.at("services").size(), 2u);
  EXPECT_EQ(j.at("services").at(0).at("name"), "docker.service");
  EXPECT_EQ(j.at("services").at(1).at("name"), "sshd.service");
}

TEST_F(collectors_test, no_bus_means_services_unavailable_not_an_error_and_it_keeps_trying) {
  auto s = base_settings();
  s.telemetry.services.bus_address = "unix:path=" + (dir / "bus").string();
  start(s, spawn_service_collector);
  auto j = wait_for([](const json& j) { return j.at("service_manager").is_object(); });
  ASSERT_FALSE(j.is_null());
  EXPECT_EQ(j.at("service_manager").at("available"), false);
  EXPECT_NE(j.at("service_manager").at("reason").get<std::string>().find("cannot connect"),
            std::string::npos);
  EXPECT_EQ(j.at("services"), json::array());
  EXPECT_TRUE(j.at("sections").at("services").at("error").is_null());
  // The bus appears later: the next ticks find it.
  test::private_dbus bus{dir.path()};
  test::fake_systemd manager{bus.address(),
                             {{"nginx.service", "web", "loaded", "active", "running", 7}}};
  auto later = wait_for([](const json& j) {
    return j.at("service_manager").is_object() && j.at("service_manager").at("available") == true;
  });
  ASSERT_FALSE(later.is_null()) << "the bus that appeared was never used";
  EXPECT_EQ(later.at("services").at(0).at("name"), "nginx.service");
}

TEST_F(collectors_test, containers_reach_the_snapshot) {
  test::fake_docker_engine engine{dir / "docker.sock"};
  auto s = base_settings();
  s.telemetry.containers.socket = engine.path().string();
  start(s, spawn_container_collector);
  auto j = wait_for([](const json& j) { return j.at("containers").is_array(); });
  ASSERT_FALSE(j.is_null()) << "no containers section";
  EXPECT_EQ(j.at("container_engine").at("available"), true);
  ASSERT_EQ(j.at("containers").size(), 2u);
  auto& web = j.at("containers").at(1);
  EXPECT_EQ(web.at("id"), "9cd87474be90e3c1a2b4d6f8e0a2c4e6f8a0b2c4d6e8f0a2b4c6d8e0f2a4b6c8");
  EXPECT_EQ(web.at("name"), "web");
  EXPECT_EQ(web.at("image"), "nginx:1.25");
  EXPECT_EQ(web.at("state"), "running");
  EXPECT_EQ(web.at("status"), "Up 2 hours");
  EXPECT_EQ(web.at("created"), "2025-01-01T00:00:00.000Z");
}

TEST_F(collectors_test, no_docker_socket_means_containers_unavailable_not_an_error) {
  auto s = base_settings();
  s.telemetry.containers.socket = (dir / "docker.sock").string();
  start(s, spawn_container_collector);
  auto j = wait_for([](const json& j) { return j.at("container_engine").is_object(); });
  ASSERT_FALSE(j.is_null());
  EXPECT_EQ(j.at("container_engine").at("available"), false);
  EXPECT_FALSE(j.at("container_engine").at("reason").is_null());
  EXPECT_EQ(j.at("containers"), json::array());
  EXPECT_TRUE(j.at("sections").at("containers").at("error").is_null());
}

TEST_F(collectors_test, a_malformed_engine_answer_is_the_section_error_and_data_is_kept) {
  test::fake_docker_engine engine{dir / "docker.sock"};
  auto s = base_settings();
  s.telemetry.containers.socket = engine.path().string();
  start(s, spawn_container_collector);
  auto good = wait_for([](const json& j) { return j.at("containers").is_array(); });
  ASSERT_FALSE(good.is_null());
  engine.answer(200, R"([{"Id": "abc", "Names": ["/x"])");
  auto bad = wait_for(
      [](const json& j) { return j.at("sections").at("containers").at("error").is_string(); });
  ASSERT_FALSE(bad.is_null()) << "the malformed answer was never reported";
  EXPECT_NE(bad.at("sections").at("containers").at("error").get<std::string>().find("malformed"),
            std::string::npos);
  EXPECT_EQ(bad.at("containers").size(), 2u); // the last good data stays
}

} // namespace
} // namespace vigil
