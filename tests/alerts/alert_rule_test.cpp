// The rule logic with explicit times: what fires, when, and what does not.
#include "actors/alert_rule.hpp"

#include <gtest/gtest.h>

#include <algorithm>

using namespace std::chrono_literals;
using namespace vigil;

namespace {

const wall_time t0{std::chrono::milliseconds{1'700'000'000'000}};

alert_rule_settings builtin(const std::string& id) {
  for (auto& r : builtin_alert_rules())
    if (r.id == id)
      return r;
  ADD_FAILURE() << "no built-in rule " << id;
  return {};
}

rule_reading value(double v) {
  rule_reading r;
  r.value = v;
  return r;
}

// Feeds one reading per `step` from `from` for `count` steps; returns the changes with the
// time they were reported.
std::vector<std::pair<alert_change, wall_time>> feed(alert_tracker& t, const alert_rule_settings& r,
                                                     wall_time from, duration step, int count,
                                                     double v) {
  std::vector<std::pair<alert_change, wall_time>> out;
  for (int i = 0; i < count; ++i) {
    auto at = from + i * step;
    if (auto c = step_alert(t, r, value(v), at))
      out.emplace_back(*c, at);
  }
  return out;
}

TEST(alert_rules, builtins_are_the_seeds_table) {
  struct row {
    const char* id;
    const char* metric;
    double threshold;
    duration for_duration;
    duration cooldown;
    const char* severity;
  };
  const row seed[] = {
      {"cpu_critical", "cpu", 90, 5min, 30min, "critical"},
      {"cpu_high", "cpu", 75, 10min, 60min, "high"},
      {"memory_critical", "memory", 95, 5min, 30min, "critical"},
      {"memory_high", "memory", 85, 10min, 60min, "high"},
      {"disk_critical", "disk", 90, 0min, 2h, "critical"},
      {"disk_high", "disk", 80, 0min, 4h, "high"},
      {"network_spike", "network", 5, 1min, 30min, "medium"},
      {"high_processes", "processes", 500, 5min, 60min, "medium"},
  };
  for (auto& x : seed) {
    auto r = builtin(x.id);
    EXPECT_EQ(r.metric, x.metric) << x.id;
    EXPECT_EQ(r.threshold, x.threshold) << x.id;
    EXPECT_EQ(r.for_duration, x.for_duration) << x.id;
    EXPECT_EQ(r.cooldown, x.cooldown) << x.id;
    EXPECT_EQ(r.severity, x.severity) << x.id;
    EXPECT_TRUE(check_alert_rule(r, x.id).empty()) << x.id;
  }
  EXPECT_EQ(builtin("network_spike").kind, "baseline");
  EXPECT_EQ(builtin("load_critical").threshold, 5.0);
  EXPECT_EQ(builtin("service_down").kind, "state");
  for (auto& r : builtin_alert_rules())
    EXPECT_TRUE(check_alert_rule(r, r.id).empty()) << r.id;
}

TEST(alert_rules, configured_rules_override_disable_and_add) {
  alerts_settings s;
  auto cpu = builtin("cpu_high");
  cpu.threshold = 70;
  alert_rule_settings off = builtin("disk_high");
  off.enabled = false;
  alert_rule_settings mine;
  mine.id = "swap_full";
  mine.metric = "swap";
  mine.threshold = 50;
  s.rules = {cpu, off, mine};
  auto rules = effective_alert_rules(s);
  auto find = [&](const std::string& id) {
    return std::find_if(rules.begin(), rules.end(), [&](auto& r) { return r.id == id; });
  };
  ASSERT_NE(find("cpu_high"), rules.end());
  EXPECT_EQ(find("cpu_high")->threshold, 70);
  EXPECT_EQ(find("disk_high"), rules.end());
  ASSERT_NE(find("swap_full"), rules.end());
  ASSERT_NE(find("cpu_critical"), rules.end());
  s.default_rules = false;
  EXPECT_EQ(effective_alert_rules(s).size(), 2u); // cpu_high (configured) and swap_full
}

TEST(alert_rules, bad_rules_are_named_by_key) {
  alert_rule_settings r;
  r.id = "Bad Id";
  r.metric = "cpux";
  auto errors = check_alert_rule(r, "alerts.rules[0]");
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].rfind("alerts.rules[0].id:", 0), 0u) << errors[0];
  EXPECT_EQ(errors[1], "alerts.rules[0].metric: unknown metric \"cpux\"");
  r = builtin("cpu_high");
  r.clear_threshold = 80; // above the threshold of a rising rule
  EXPECT_EQ(check_alert_rule(r, "k"),
            std::vector<std::string>{
                "k.clear_threshold: must not exceed the threshold of a rising rule"});
}

TEST(alert_tracker, a_spike_shorter_than_the_duration_raises_nothing) {
  auto r = builtin("cpu_critical"); // 90 % for 5 min
  alert_tracker t;
  EXPECT_TRUE(feed(t, r, t0, 30s, 9, 97).empty()); // 4.5 minutes
  EXPECT_EQ(t.phase, alert_phase::pending);
  EXPECT_TRUE(feed(t, r, t0 + 270s, 30s, 1, 40).empty());
  EXPECT_EQ(t.phase, alert_phase::ok);
  // No recovery for what never fired.
  EXPECT_TRUE(feed(t, r, t0 + 300s, 30s, 10, 40).empty());
}

TEST(alert_tracker, a_sustained_breach_fires_once_at_the_duration) {
  auto r = builtin("cpu_critical");
  alert_tracker t;
  auto changes = feed(t, r, t0, 30s, 20, 95); // 10 minutes
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].first, alert_change::firing);
  EXPECT_EQ(changes[0].second, t0 + 5min);
  EXPECT_EQ(t.since, t0);
  EXPECT_EQ(t.peak, 95);
}

TEST(alert_tracker, hysteresis_keeps_an_alert_at_the_edge_from_flapping) {
  auto r = builtin("cpu_critical"); // fires at 90, clears below 85
  alert_tracker t;
  ASSERT_EQ(feed(t, r, t0, 1min, 6, 92).size(), 1u);
  // Hovering around the threshold: 89, 91, 88, 90, ... never clears, never re-fires.
  std::vector<std::pair<alert_change, wall_time>> changes;
  for (int i = 0; i < 20; ++i) {
    auto more = feed(t, r, t0 + 6min + i * 1min, 1min, 1, i % 2 ? 91 : 88);
    changes.insert(changes.end(), more.begin(), more.end());
  }
  EXPECT_TRUE(changes.empty());
  auto resolved = feed(t, r, t0 + 26min, 1min, 1, 84);
  ASSERT_EQ(resolved.size(), 1u);
  EXPECT_EQ(resolved[0].first, alert_change::resolved);
}

TEST(alert_tracker, a_lasting_alert_reminds_once_per_cooldown) {
  auto r = builtin("disk_critical"); // immediate, 2 h cooldown
  alert_tracker t;
  auto changes = feed(t, r, t0, 10min, 37, 95); // 6 hours
  ASSERT_EQ(changes.size(), 4u);
  EXPECT_EQ(changes[0], std::pair(alert_change::firing, t0));
  EXPECT_EQ(changes[1], std::pair(alert_change::reminder, t0 + 2h));
  EXPECT_EQ(changes[2], std::pair(alert_change::reminder, t0 + 4h));
  EXPECT_EQ(changes[3], std::pair(alert_change::reminder, t0 + 6h));
}

TEST(alert_tracker, a_falling_rule_fires_below_and_clears_above) {
  alert_rule_settings r;
  r.id = "memory_low";
  r.metric = "memory";
  r.comparison = "<";
  r.threshold = 10;
  r.clear_threshold = 15;
  alert_tracker t;
  ASSERT_EQ(feed(t, r, t0, 1s, 1, 5).size(), 1u);
  EXPECT_TRUE(feed(t, r, t0 + 1s, 1s, 1, 12).empty());
  EXPECT_EQ(feed(t, r, t0 + 2s, 1s, 1, 16)[0].first, alert_change::resolved);
  EXPECT_EQ(t.peak, 5); // the lowest
}

TEST(alert_tracker, a_baseline_rule_fires_on_a_spike_against_the_learned_average) {
  auto r = builtin("network_spike"); // 5× the 1-hour average, floor 1 MB/s, 1 minute
  r.baseline_floor = 0;
  alert_tracker t;
  // Learning: nothing fires before a sixth of the window (10 minutes) is covered, even a
  // jump that would be a spike.
  EXPECT_TRUE(feed(t, r, t0, 5s, 60, 2e6).empty());
  EXPECT_TRUE(feed(t, r, t0 + 5min, 5s, 12, 50e6).empty());
  EXPECT_EQ(t.phase, alert_phase::ok);
  EXPECT_TRUE(feed(t, r, t0 + 6min, 5s, 120, 2e6).empty());
  // 30 MB/s against ≈4 MB/s average: pending, then firing after a minute.
  auto changes = feed(t, r, t0 + 16min, 5s, 15, 30e6);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].first, alert_change::firing);
  EXPECT_GT(t.compared_with, 5 * 2e6);
  EXPECT_LT(t.compared_with, 30e6);
  // The spike stayed out of the baseline: back to 2 MB/s clears it.
  EXPECT_EQ(feed(t, r, t0 + 18min, 5s, 1, 2e6)[0].first, alert_change::resolved);
}

TEST(alert_tracker, the_baseline_floor_keeps_an_idle_host_quiet) {
  auto r = builtin("network_spike"); // floor 1 MB/s
  alert_tracker t;
  feed(t, r, t0, 5s, 200, 1e3);                             // 1 kB/s for 16 minutes
  EXPECT_TRUE(feed(t, r, t0 + 17min, 5s, 30, 4e6).empty()); // 4 MB/s < 5 × 1 MB/s
}

TEST(alert_tracker, a_persistent_user_fires_from_the_hubs_run_start) {
  auto r = builtin("persistent_user_cpu"); // 60 minutes
  alert_tracker t;
  rule_reading reading;
  reading.subject = "alice";
  reading.value = 95;
  reading.since = t0 - 50min; // the hub's run, kept across an agent restart
  EXPECT_FALSE(step_alert(t, r, reading, t0));
  EXPECT_FALSE(step_alert(t, r, reading, t0 + 9min));
  EXPECT_EQ(step_alert(t, r, reading, t0 + 10min), alert_change::firing);
  EXPECT_EQ(t.since, t0 - 50min);
}

TEST(alert_rules, rules_without_channels_take_the_engines_default) {
  alerts_settings s;
  s.channels = {"webhook", "local"};
  alert_rule_settings mine;
  mine.id = "swap_full";
  mine.metric = "swap";
  mine.channels = {"email"};
  s.rules = {mine};
  auto rules = effective_alert_rules(s);
  auto find = [&](const std::string& id) {
    return *std::find_if(rules.begin(), rules.end(), [&](auto& r) { return r.id == id; });
  };
  EXPECT_EQ(find("cpu_high").channels, (std::vector<std::string>{"webhook", "local"}));
  EXPECT_EQ(find("swap_full").channels, std::vector<std::string>{"email"});
}

TEST(alert_tracker, a_cooldown_of_zero_means_no_reminders) {
  auto r = builtin("disk_critical");
  r.cooldown = 0s;
  alert_tracker t;
  auto changes = feed(t, r, t0, 5s, 100, 95);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].first, alert_change::firing);
}

TEST(alert_tracker, a_long_spike_does_not_become_the_baseline) {
  auto r = builtin("network_spike"); // 5× the 1-hour average, clears at 2×
  r.baseline_floor = 0;
  alert_tracker t;
  feed(t, r, t0, 1min, 60, 2e6); // an hour of 2 MB/s
  // 90 minutes of 30 MB/s: longer than the window, still a spike against the 2 MB/s normal.
  auto changes = feed(t, r, t0 + 60min, 1min, 90, 30e6);
  ASSERT_EQ(changes.size(), 3u); // firing, then a reminder every 30 minutes
  EXPECT_EQ(changes[0].first, alert_change::firing);
  EXPECT_EQ(t.phase, alert_phase::firing);
  EXPECT_NEAR(t.compared_with, 5 * 2e6, 1);
}

TEST(alert_tracker, a_resumed_baseline_alert_keeps_the_level_it_fired_against) {
  auto r = builtin("network_spike");
  r.baseline_floor = 0;
  alert_tracker t; // as a restarted rule takes it over from the manager: no history
  t.phase = alert_phase::firing;
  t.since = t0 - 10min;
  t.last_notice = t0 - 10min;
  t.compared_with = 5 * 2e6; // fired against a 2 MB/s baseline
  // Still 30 MB/s for 20 minutes: not learnt as normal, no recovery.
  for (auto& [change, at] : feed(t, r, t0, 1min, 20, 30e6))
    EXPECT_NE(change, alert_change::resolved) << "at minute " << (at - t0) / 1min;
  EXPECT_EQ(t.phase, alert_phase::firing);
  EXPECT_EQ(feed(t, r, t0 + 20min, 1min, 1, 2e6)[0].first, alert_change::resolved);
}

telemetry_snapshot snapshot_with_filesystems() {
  telemetry_snapshot s;
  s.timestamp = t0;
  auto fs = std::make_shared<filesystems_section>();
  filesystem_entry root;
  root.mount_point = "/";
  root.device = "/dev/sda1";
  root.status = "ok";
  root.used_percent = 93;
  filesystem_entry nfs = root;
  nfs.mount_point = "/mnt/nfs";
  nfs.status = "stale";
  fs->filesystems = {root, nfs};
  s.filesystems = fs;
  return s;
}

TEST(rule_readings, disks_are_read_per_mount_and_a_hung_mount_is_held) {
  auto snap = snapshot_with_filesystems();
  auto readings = read_rule_metric(builtin("disk_critical"), snap);
  EXPECT_TRUE(readings.evaluated);
  ASSERT_EQ(readings.readings.size(), 1u);
  EXPECT_EQ(readings.readings[0].subject, "/");
  EXPECT_EQ(readings.readings[0].value, 93);
  EXPECT_EQ(readings.held, std::vector<std::string>{"/mnt/nfs"});
  snap.sections[static_cast<size_t>(telemetry_section::filesystems)].stale = true;
  EXPECT_FALSE(read_rule_metric(builtin("disk_critical"), snap).evaluated);
  EXPECT_FALSE(read_rule_metric(builtin("cpu_high"), snap).evaluated); // no cpu section
}

TEST(rule_readings, a_failed_unit_counts_and_a_discovered_stopped_one_does_not) {
  telemetry_snapshot snap;
  auto services = std::make_shared<services_section>();
  services->available = true;
  services->discovered = true;
  service_entry nginx{"nginx.service", "web", "failed", "loaded", "failed", "failed", {}};
  service_entry redis{"redis.service", "cache", "stopped", "loaded", "inactive", "dead", {}};
  services->services = {nginx, redis};
  snap.services = services;
  auto r = builtin("service_down");
  auto readings = read_rule_metric(r, snap);
  ASSERT_EQ(readings.readings.size(), 2u);
  EXPECT_EQ(readings.readings[0].value, 1);
  EXPECT_EQ(readings.readings[1].value, 0);
  services->discovered = false; // configured units: stopped counts too
  EXPECT_EQ(read_rule_metric(r, snap).readings[1].value, 1);
}

TEST(rule_readings, a_cpu_sample_without_usage_is_not_evaluated) {
  telemetry_snapshot snap;
  snap.timestamp = t0;
  auto cpu = std::make_shared<cpu_section>();
  cpu->logical_cores = 4;
  cpu->load_one = 1;
  snap.cpu = cpu; // the collector's first sample: no delta, no usage yet
  // Evaluated with no reading, a firing CPU alert would count as gone and recover.
  EXPECT_FALSE(read_rule_metric(builtin("cpu_high"), snap).evaluated);
  EXPECT_TRUE(read_rule_metric(builtin("load_high"), snap).evaluated);
  cpu->usage_percent = 50;
  EXPECT_TRUE(read_rule_metric(builtin("cpu_high"), snap).evaluated);
}

} // namespace
