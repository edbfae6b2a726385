// The snapshot JSON (docs/telemetry-format.md) from the fixture machine, against a golden file.
// VIGIL_UPDATE_GOLDEN=1 rewrites the file (review the diff!).

#include "actors/telemetry_hub.hpp"
#include "actors/telemetry_json.hpp"
#include "tests/telemetry/sampler_helpers.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace vigil {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;

const std::string golden_path =
    std::string{VIGIL_SOURCE_DIR} + "/tests/telemetry/golden/snapshot.json";

telemetry_snapshot fixture_snapshot() {
  test::fixture_machine m;
  settings s;
  telemetry_snapshot snap;
  snap.sequence = 7;
  snap.timestamp = test::wall1 + 100ms;
  snap.node_id = "3f1c2a9e-0000-4000-8000-000000000001";
  snap.hostname = "fixture-host";
  snap.cpu = two_round_section<cpu_sampler>(m).second;
  snap.memory = memory_sampler{test::fixture_options(m), s}.sample(test::wall1, test::steady1);
  snap.disk_io = two_round_section<disk_sampler>(m).second;
  snap.network = two_round_section<network_sampler>(m).second;
  snap.filesystems = test::fixture_filesystems(m);
  snap.processes = two_round_section<process_sampler>(m).second;
  auto services = std::make_shared<services_section>();
  services->sampled_at = test::wall1;
  services->available = true;
  services->discovered = true;
  services->services = {{"nginx.service", "A high performance web server", "running", "loaded",
                         "active", "running", 1234},
                        {"postgresql@15-main.service", "PostgreSQL Cluster 15-main", "failed",
                         "loaded", "failed", "failed", std::nullopt}};
  snap.services = services;
  auto containers = std::make_shared<containers_section>();
  containers->sampled_at = test::wall1;
  containers->unavailable_reason =
      "cannot connect to /var/run/docker.sock: No such file or directory";
  snap.containers = containers;
  for (std::size_t i = 0; i < telemetry_section_count; ++i) {
    auto section = static_cast<telemetry_section>(i);
    auto slow =
        section == telemetry_section::filesystems || section == telemetry_section::processes;
    snap.sections[i].updated_at = test::wall1;
    snap.sections[i].interval = slow ? s.telemetry.slow_interval : s.telemetry.interval;
    if (section == telemetry_section::services)
      snap.sections[i].interval = s.telemetry.services.interval;
    if (section == telemetry_section::containers)
      snap.sections[i].interval = s.telemetry.containers.interval;
  }
  // The disk collector failed once and its data went stale.
  auto& disk = snap.sections[static_cast<std::size_t>(telemetry_section::disk_io)];
  disk.updated_at = test::wall0;
  disk.stale = true;
  disk.error = "cannot read /proc/diskstats: No such file or directory";
  track_user_pressure(snap.user_pressure, snap.processes->users, test::wall1 - 5min, s.telemetry);
  track_user_pressure(snap.user_pressure, snap.processes->users, test::wall1, s.telemetry);
  status_inputs in;
  in.cpu_percent = snap.cpu->usage_percent;
  in.memory_percent = snap.memory->used_percent;
  in.load_per_core = snap.cpu->load_one / snap.cpu->logical_cores;
  in.users = snap.processes->users;
  snap.status = classify_system_status(in, s.telemetry);
  return snap;
}

TEST(telemetry_json, snapshot_from_fixture_data_matches_the_golden_file) {
  if (sysconf(_SC_CLK_TCK) != 100 || sysconf(_SC_PAGESIZE) != 4096)
    GTEST_SKIP() << "the fixture assumes 100 ticks/s and 4 KiB pages";
  auto actual = telemetry_to_json(fixture_snapshot());
  if (std::getenv("VIGIL_UPDATE_GOLDEN")) {
    std::ofstream{golden_path} << actual.dump(2) << "\n";
    GTEST_SKIP() << "golden file rewritten: " << golden_path;
  }
  std::ifstream in{golden_path};
  ASSERT_TRUE(in) << golden_path;
  std::stringstream text;
  text << in.rdbuf();
  auto expected = json::parse(text.str());
  EXPECT_EQ(actual, expected) << "differences (RFC 6902 patch from golden to actual):\n"
                              << json::diff(expected, actual).dump(2);
}

TEST(telemetry_json, seed_field_names_are_at_the_top_level) {
  if (sysconf(_SC_CLK_TCK) != 100 || sysconf(_SC_PAGESIZE) != 4096)
    GTEST_SKIP() << "the fixture assumes 100 ticks/s and 4 KiB pages";
  auto j = telemetry_to_json(fixture_snapshot());
  // ViWorks
  EXPECT_DOUBLE_EQ(j.at("cpu_usage_percent").get<double>(), 20.0);
  EXPECT_DOUBLE_EQ(j.at("memory_usage_percent").get<double>(), 25.0);
  EXPECT_DOUBLE_EQ(j.at("disk_usage_percent").get<double>(), 63.16);
  EXPECT_DOUBLE_EQ(j.at("load_average").at("one_minute").get<double>(), 1.5);
  EXPECT_DOUBLE_EQ(j.at("load_average").at("five_minutes").get<double>(), 0.75);
  EXPECT_DOUBLE_EQ(j.at("load_average").at("fifteen_minutes").get<double>(), 0.25);
  EXPECT_EQ(j.at("uptime_seconds").get<int64_t>(), 4116);
  EXPECT_DOUBLE_EQ(j.at("temperature").get<double>(), 45.0);
  // SysMedic: users with process counts, status label
  EXPECT_EQ(j.at("users").at(0).at("user"), "alice");
  EXPECT_EQ(j.at("users").at(0).at("process_count"), 1);
  EXPECT_EQ(j.at("system_status").at("label"), "Medium Usage");
  EXPECT_EQ(j.at("user_pressure").at(0).at("since"), "2024-12-31T23:55:05.000Z");
  EXPECT_EQ(j.at("user_pressure").at(0).at("duration_seconds"), 300);
  EXPECT_EQ(j.at("sections").at("disk_io").at("stale"), true);
  // ViWorks: services[] and containers[]
  EXPECT_EQ(j.at("services").at(0).at("name"), "nginx.service");
  EXPECT_EQ(j.at("services").at(0).at("status"), "running");
  EXPECT_EQ(j.at("services").at(0).at("main_pid"), 1234);
  EXPECT_EQ(j.at("services").at(1).at("status"), "failed");
  EXPECT_EQ(j.at("service_manager").at("available"), true);
  EXPECT_EQ(j.at("containers"), nlohmann::json::array());
  EXPECT_EQ(j.at("container_engine").at("available"), false);
}

TEST(telemetry_json, an_empty_snapshot_has_nulls_not_missing_keys) {
  telemetry_snapshot snap;
  snap.timestamp = test::wall0;
  auto j = telemetry_to_json(snap);
  for (auto key :
       {"cpu_usage_percent", "memory_usage_percent", "disk_usage_percent", "load_average",
        "uptime_seconds", "temperature", "cpu", "memory", "disk_io", "network", "filesystems",
        "processes", "users", "services", "service_manager", "containers", "container_engine"}) {
    ASSERT_TRUE(j.contains(key)) << key;
    EXPECT_TRUE(j.at(key).is_null()) << key;
  }
  EXPECT_EQ(j.at("timestamp"), "2025-01-01T00:00:00.000Z");
  EXPECT_EQ(j.at("system_status").at("level"), "light");
  EXPECT_TRUE(j.at("sections").at("cpu").at("updated_at").is_null());
}

TEST(telemetry_json, wall_time_format_is_utc_with_milliseconds) {
  EXPECT_EQ(format_wall_time(wall_time{std::chrono::milliseconds{1735689600123}}),
            "2025-01-01T00:00:00.123Z");
  EXPECT_EQ(format_wall_time(wall_time{}), "1970-01-01T00:00:00.000Z");
}

} // namespace
} // namespace vigil

namespace vigil {
namespace {

using json = nlohmann::json;

TEST(telemetry_json, the_summary_has_the_headline_and_counts_instead_of_sections) {
  if (sysconf(_SC_CLK_TCK) != 100 || sysconf(_SC_PAGESIZE) != 4096)
    GTEST_SKIP() << "the fixture assumes 100 ticks/s and 4 KiB pages";
  auto snap = fixture_snapshot();
  auto full = telemetry_to_json(snap);
  auto j = telemetry_summary_json(snap);
  for (auto key : {"cpu_usage_percent", "memory_usage_percent", "disk_usage_percent",
                   "load_average", "uptime_seconds", "temperature", "system_status", "node_id"})
    EXPECT_EQ(j.at(key), full.at(key)) << key;
  EXPECT_EQ(j.at("services"), (json{{"total", 2}, {"running", 1}, {"failed", 1}}));
  EXPECT_EQ(j.at("containers"), (json{{"total", 0}, {"running", 0}}));
  EXPECT_EQ(j.at("stale_sections"), json::array({"disk_io"}));
  for (auto key : {"cpu", "processes", "users", "sections", "filesystems"})
    EXPECT_FALSE(j.contains(key)) << key;
  EXPECT_LT(j.dump().size(), full.dump().size() / 3);
}

TEST(telemetry_json, processes_answer_the_process_section_users_and_pressure) {
  if (sysconf(_SC_CLK_TCK) != 100 || sysconf(_SC_PAGESIZE) != 4096)
    GTEST_SKIP() << "the fixture assumes 100 ticks/s and 4 KiB pages";
  auto snap = fixture_snapshot();
  auto full = telemetry_to_json(snap);
  auto j = processes_to_json(snap);
  EXPECT_EQ(j.at("processes"), full.at("processes"));
  EXPECT_EQ(j.at("users"), full.at("users"));
  EXPECT_EQ(j.at("user_pressure"), full.at("user_pressure"));
  EXPECT_EQ(j.at("timestamp"), "2025-01-01T00:00:05.000Z");
  EXPECT_TRUE(processes_to_json(telemetry_snapshot{}).at("processes").is_null());
}

} // namespace
} // namespace vigil
