// Snapshots flattened into history samples: the documented names, one sample per section
// sample (repeated slow sections are not stored twice), the section's own timestamp.
#include "actors/telemetry_samples.hpp"

#include <gtest/gtest.h>

#include <map>

namespace vigil {
namespace {

constexpr int64_t t0 = 1'700'000'000'000;

wall_time at(int64_t ms) {
  return wall_time{std::chrono::milliseconds{ms}};
}

telemetry_snapshot make_snapshot(int64_t fast_ms, int64_t slow_ms) {
  telemetry_snapshot s;
  s.timestamp = at(fast_ms + 100);
  s.status.level = load_level::medium;
  auto cpu = std::make_shared<cpu_section>();
  cpu->sampled_at = at(fast_ms);
  cpu->usage_percent = 42.5;
  cpu->cores = {{0, 40.0}, {1, std::nullopt}, {2, 45.0}};
  cpu->logical_cores = 3;
  cpu->load_one = 1.5;
  cpu->load_five = 1.0;
  cpu->load_fifteen = 0.5;
  s.cpu = cpu;
  auto mem = std::make_shared<memory_section>();
  mem->sampled_at = at(fast_ms);
  mem->used_percent = 61.25;
  mem->total_bytes = 8ull << 30;
  s.memory = mem;
  auto net = std::make_shared<network_section>();
  net->sampled_at = at(fast_ms);
  net->interfaces.push_back({"eth0", 1000.0, 2000.0, 10, 20, 0, 0, 0, 0, 123456, 654321});
  net->rx_bytes_per_second = 1000.0;
  s.network = net;
  auto fs = std::make_shared<filesystems_section>();
  fs->sampled_at = at(slow_ms);
  filesystem_entry root;
  root.mount_point = "/";
  root.status = "ok";
  root.used_percent = 71.0;
  filesystem_entry hung;
  hung.mount_point = "/mnt/nfs";
  hung.status = "stale";
  fs->filesystems = {root, hung};
  s.filesystems = fs;
  auto procs = std::make_shared<processes_section>();
  procs->sampled_at = at(slow_ms);
  procs->total = 312;
  procs->users.push_back({"alice", 1000, 95.0, 12.5, 1 << 20, 7});
  s.processes = procs;
  return s;
}

// name -> (timestamp, value) over all samples; fails on a name seen twice.
std::map<std::string, std::pair<int64_t, double>> by_name(const std::vector<metric_sample>& xs) {
  std::map<std::string, std::pair<int64_t, double>> out;
  for (const auto& x : xs)
    for (const auto& p : x.points) {
      EXPECT_TRUE(p.labels.empty()) << p.name;
      EXPECT_TRUE(out.emplace(p.name, std::pair{x.timestamp_ms, p.value}).second) << p.name;
    }
  return out;
}

TEST(telemetry_samples, snapshot_values_get_documented_names_and_section_times) {
  telemetry_sample_cursor cursor;
  auto m = by_name(telemetry_metric_samples(make_snapshot(t0, t0 - 5000), cursor));
  auto expect = [&](const std::string& name, int64_t ts, double value) {
    auto it = m.find(name);
    ASSERT_NE(it, m.end()) << name;
    EXPECT_EQ(it->second.first, ts) << name;
    EXPECT_DOUBLE_EQ(it->second.second, value) << name;
  };
  expect("cpu.usage_percent", t0, 42.5);
  expect("cpu.core.0.usage_percent", t0, 40.0);
  expect("cpu.core.2.usage_percent", t0, 45.0);
  EXPECT_EQ(m.count("cpu.core.1.usage_percent"), 0u); // unknown: left out, not 0
  EXPECT_EQ(m.count("cpu.user_percent"), 0u);         // no modes yet
  expect("load.1m", t0, 1.5);
  expect("load.5m", t0, 1.0);
  expect("load.15m", t0, 0.5);
  expect("load.1m_per_core", t0, 0.5);
  expect("memory.used_percent", t0, 61.25);
  expect("memory.total_bytes", t0, static_cast<double>(8ull << 30));
  expect("net.rx_bytes_per_s", t0, 1000.0);
  expect("net.eth0.rx_bytes_per_s", t0, 1000.0);
  expect("net.eth0.tx_bytes_per_s", t0, 2000.0);
  expect("disk./.used_percent", t0 - 5000, 71.0);
  EXPECT_EQ(m.count("disk./mnt/nfs.used_percent"), 0u); // hung statvfs: no figures
  expect("processes.total", t0 - 5000, 312);
  expect("user.alice.cpu_percent", t0 - 5000, 95.0);
  expect("user.alice.memory_percent", t0 - 5000, 12.5);
  expect("user.alice.processes", t0 - 5000, 7);
  expect("system.status_level", t0 + 100, 1);
}

TEST(telemetry_samples, a_section_is_emitted_once_per_collector_sample) {
  telemetry_sample_cursor cursor;
  auto first = telemetry_metric_samples(make_snapshot(t0, t0 - 5000), cursor);
  // Next snapshot: fast sections resampled, the slow ones (filesystems, processes) repeated.
  auto second = by_name(telemetry_metric_samples(make_snapshot(t0 + 5000, t0 - 5000), cursor));
  EXPECT_EQ(second.count("cpu.usage_percent"), 1u);
  EXPECT_EQ(second["cpu.usage_percent"].first, t0 + 5000);
  EXPECT_EQ(second.count("disk./.used_percent"), 0u);
  EXPECT_EQ(second.count("processes.total"), 0u);
  // Nothing new at all (every collector stalled): only the status.
  auto third = telemetry_metric_samples(make_snapshot(t0 + 5000, t0 - 5000), cursor);
  ASSERT_EQ(third.size(), 1u);
  ASSERT_EQ(third[0].points.size(), 1u);
  EXPECT_EQ(third[0].points[0].name, "system.status_level");
  // The slow collector sampled again.
  auto fourth = by_name(telemetry_metric_samples(make_snapshot(t0 + 5000, t0 + 25000), cursor));
  EXPECT_EQ(fourth["processes.total"].first, t0 + 25000);
}

TEST(telemetry_samples, missing_sections_give_no_values) {
  telemetry_snapshot empty;
  empty.timestamp = at(t0);
  telemetry_sample_cursor cursor;
  auto xs = telemetry_metric_samples(empty, cursor);
  ASSERT_EQ(xs.size(), 1u);
  EXPECT_EQ(xs[0].timestamp_ms, t0);
  EXPECT_EQ(xs[0].points.size(), 1u);
}

} // namespace
} // namespace vigil
