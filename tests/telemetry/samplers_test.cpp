// Each collector's sampler against the fixture machine (tests/telemetry/fixture_machine.hpp).

#include "tests/telemetry/sampler_helpers.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <unistd.h>

namespace vigil {
namespace {

using namespace std::chrono_literals;
using test::fixture_machine;
using test::two_round_section;

TEST(cpu_sampler, first_reading_is_a_baseline_then_usage_per_mode_and_core) {
  fixture_machine m;
  auto [first, cpu] = two_round_section<cpu_sampler>(m);
  EXPECT_EQ(first, nullptr);
  ASSERT_NE(cpu, nullptr);
  EXPECT_EQ(cpu->sampled_at, test::wall1);
  ASSERT_TRUE(cpu->usage_percent);
  EXPECT_NEAR(*cpu->usage_percent, 20.0, 1e-9);
  ASSERT_TRUE(cpu->modes);
  EXPECT_NEAR(cpu->modes->user, 15.0, 1e-9);
  EXPECT_NEAR(cpu->modes->system, 5.0, 1e-9);
  EXPECT_NEAR(cpu->modes->iowait, 5.0, 1e-9);
  EXPECT_NEAR(cpu->modes->idle, 75.0, 1e-9);
  ASSERT_EQ(cpu->cores.size(), 2u);
  EXPECT_EQ(cpu->cores[1].id, 1);
  EXPECT_NEAR(cpu->cores[0].usage_percent.value_or(-1), 25.0, 1e-9);
  EXPECT_NEAR(cpu->cores[1].usage_percent.value_or(-1), 15.0, 1e-9);
  EXPECT_EQ(cpu->logical_cores, 2u);
  EXPECT_EQ(cpu->model, "Fixture CPU @ 2.40GHz");
  EXPECT_NEAR(cpu->frequency_mhz.value_or(0), 2400.0, 1e-9);
  EXPECT_NEAR(cpu->temperature_celsius.value_or(0), 45.0, 1e-9);
  EXPECT_NEAR(cpu->context_switches_per_second.value_or(0), 1000.0, 1e-9);
  EXPECT_NEAR(cpu->processes_created_per_second.value_or(0), 10.0, 1e-9);
  EXPECT_EQ(cpu->procs_running, 3u);
  EXPECT_EQ(cpu->procs_blocked, 1u);
  EXPECT_DOUBLE_EQ(cpu->load_one, 1.5);
  EXPECT_DOUBLE_EQ(cpu->load_five, 0.75);
  EXPECT_DOUBLE_EQ(cpu->load_fifteen, 0.25);
  EXPECT_DOUBLE_EQ(cpu->uptime_seconds, 4116.5);
  EXPECT_EQ(cpu->boot_time, 1700000000);
}

TEST(cpu_sampler, missing_proc_stat_throws_so_the_collector_reports_it) {
  fixture_machine m;
  m.files().remove("proc/stat");
  EXPECT_THROW(cpu_sampler(test::fixture_options(m), settings{}).sample(test::wall0, test::steady0),
               std::exception);
}

TEST(memory_sampler, ram_and_swap_in_bytes_and_percent) {
  fixture_machine m;
  memory_sampler sampler{test::fixture_options(m), settings{}};
  auto mem = sampler.sample(test::wall0, test::steady0);
  ASSERT_NE(mem, nullptr); // no baseline needed
  EXPECT_EQ(mem->total_bytes, 2048000ull * 1024);
  EXPECT_EQ(mem->available_bytes, 1536000ull * 1024);
  EXPECT_EQ(mem->used_bytes, 512000ull * 1024);
  EXPECT_DOUBLE_EQ(mem->used_percent, 25.0);
  EXPECT_EQ(mem->swap_used_bytes, 256000ull * 1024);
  EXPECT_DOUBLE_EQ(mem->swap_used_percent, 25.0);
}

TEST(disk_sampler, rates_of_whole_disks_without_partitions_or_loop_devices) {
  fixture_machine m;
  auto [first, disk] = two_round_section<disk_sampler>(m);
  EXPECT_EQ(first, nullptr);
  ASSERT_NE(disk, nullptr);
  ASSERT_EQ(disk->devices.size(), 1u);
  auto& sda = disk->devices[0];
  EXPECT_EQ(sda.name, "sda");
  EXPECT_DOUBLE_EQ(sda.read_bytes_per_second, 1024000.0);
  EXPECT_DOUBLE_EQ(sda.write_bytes_per_second, 2048000.0);
  EXPECT_DOUBLE_EQ(sda.busy_percent, 50.0);
  EXPECT_DOUBLE_EQ(sda.average_read_ms, 0.5);
  EXPECT_DOUBLE_EQ(sda.average_write_ms, 2.0);
  EXPECT_DOUBLE_EQ(disk->iops, 150.0);
  EXPECT_DOUBLE_EQ(disk->read_bytes_per_second, 1024000.0);
}

TEST(network_sampler, rates_totals_without_loopback_and_tcp_states) {
  fixture_machine m;
  auto [first, net] = two_round_section<network_sampler>(m);
  EXPECT_EQ(first, nullptr);
  ASSERT_NE(net, nullptr);
  EXPECT_DOUBLE_EQ(net->rx_bytes_per_second, 100000.0);
  EXPECT_DOUBLE_EQ(net->tx_bytes_per_second, 50000.0);
  EXPECT_EQ(net->rx_bytes, 5500000u);
  EXPECT_EQ(net->tx_bytes, 3250000u);
  ASSERT_EQ(net->interfaces.size(), 2u);
  auto eth = std::find_if(net->interfaces.begin(), net->interfaces.end(),
                          [](auto& i) { return i.name == "eth0"; });
  ASSERT_NE(eth, net->interfaces.end());
  EXPECT_DOUBLE_EQ(eth->rx_packets_per_second, 100.0);
  EXPECT_EQ(eth->tx_bytes, 3250000u);
  ASSERT_TRUE(net->tcp);
  EXPECT_EQ(net->tcp->total, 6u);
  EXPECT_EQ(net->tcp->listen, 2u);
  EXPECT_EQ(net->tcp->established, 3u);
  EXPECT_EQ(net->tcp->time_wait, 1u);
  EXPECT_EQ(net->tcp->other, 0u);
}

TEST(network_sampler, traffic_is_still_sent_without_proc_net_tcp) {
  fixture_machine m;
  network_sampler sampler{test::fixture_options(m), settings{}};
  ASSERT_EQ(sampler.sample(test::wall0, test::steady0), nullptr);
  m.write_round(1);
  m.files().remove("proc/net/tcp");
  auto net = sampler.sample(test::wall1, test::steady1);
  ASSERT_NE(net, nullptr);
  EXPECT_FALSE(net->tcp);
  EXPECT_DOUBLE_EQ(net->rx_bytes_per_second, 100000.0);
}

TEST(network_sampler, tcp_counts_are_refreshed_every_ten_seconds_only) {
  fixture_machine m;
  network_sampler sampler{test::fixture_options(m), settings{}};
  ASSERT_EQ(sampler.sample(test::wall0, test::steady0), nullptr);
  auto first = sampler.sample(test::wall1, test::steady1);
  ASSERT_TRUE(first && first->tcp);
  EXPECT_EQ(first->tcp->total, 6u);
  m.files().write("proc/net/tcp", "  sl  local_address rem_address   st\n"); // no sockets
  auto cached = sampler.sample(test::wall1 + 5s, test::steady1 + 5s);
  ASSERT_TRUE(cached && cached->tcp);
  EXPECT_EQ(cached->tcp->total, 6u);
  auto refreshed = sampler.sample(test::wall1 + 10s, test::steady1 + 10s);
  ASSERT_TRUE(refreshed && refreshed->tcp);
  EXPECT_EQ(refreshed->tcp->total, 0u);
}

TEST(filesystem_sampler, usage_per_mount_with_pseudo_filesystems_left_out) {
  fixture_machine m;
  auto fs = test::fixture_filesystems(m);
  ASSERT_NE(fs, nullptr);
  ASSERT_EQ(fs->filesystems.size(), 2u);
  auto& root = fs->filesystems[0];
  EXPECT_EQ(root.mount_point, "/");
  EXPECT_EQ(root.status, "ok");
  EXPECT_EQ(root.total_bytes, 4096000000u);
  EXPECT_NEAR(root.used_percent, 100.0 * 600000 / 950000, 1e-9);
  EXPECT_NEAR(root.inodes_used_percent, 100.0 * 5536 / 65536, 1e-9);
  EXPECT_EQ(fs->filesystems[1].mount_point, "/data");
  EXPECT_TRUE(fs->filesystems[1].read_only);
  EXPECT_DOUBLE_EQ(fs->filesystems[1].used_percent, 50.0);
}

TEST(filesystem_sampler, a_hung_statvfs_is_stale_within_the_timeout) {
  fixture_machine m;
  settings s;
  s.telemetry.statvfs_timeout = 100ms;
  auto release = std::make_shared<std::atomic<bool>>(false);
  filesystem_sampler sampler{test::fixture_options(m), s,
                             [&m, release](const std::string& p, struct ::statvfs& out) {
                               if (p.ends_with("/data"))
                                 while (!*release)
                                   std::this_thread::sleep_for(5ms);
                               return m.statvfs(p, out);
                             }};
  auto started = std::chrono::steady_clock::now();
  auto fs = sampler.sample(test::wall0, test::steady0);
  auto took = std::chrono::steady_clock::now() - started;
  *release = true;
  EXPECT_LT(took, 2s);
  ASSERT_EQ(fs->filesystems.size(), 2u);
  EXPECT_EQ(fs->filesystems[0].status, "ok");
  EXPECT_EQ(fs->filesystems[1].status, "stale");
  EXPECT_FALSE(fs->filesystems[1].error.empty());
}

class process_sampler_test : public ::testing::Test {
protected:
  void SetUp() override {
    if (sysconf(_SC_CLK_TCK) != 100 || sysconf(_SC_PAGESIZE) != 4096)
      GTEST_SKIP() << "the fixture assumes 100 ticks/s and 4 KiB pages";
  }
  fixture_machine m;
};

TEST_F(process_sampler_test, top_processes_by_cpu_and_memory_with_scrubbed_command_lines) {
  settings s;
  s.telemetry.top_processes = 2;
  auto [first, p] = two_round_section<process_sampler>(m, s);
  EXPECT_EQ(first, nullptr);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->total, 4u);
  EXPECT_EQ(p->threads, 13u);
  EXPECT_EQ(p->states.running, 1u);
  EXPECT_EQ(p->states.sleeping, 3u);
  ASSERT_EQ(p->top_by_cpu.size(), 2u);
  EXPECT_EQ(p->top_by_cpu[0].pid, 100);
  EXPECT_EQ(p->top_by_cpu[0].name, "python3");
  EXPECT_EQ(p->top_by_cpu[0].user, "alice");
  EXPECT_NEAR(p->top_by_cpu[0].cpu_percent, 90.0, 1e-9);
  EXPECT_EQ(p->top_by_cpu[0].cmdline, "python3 app.py --password ***");
  EXPECT_EQ(p->top_by_cpu[1].name, "postgres");
  EXPECT_NEAR(p->top_by_cpu[1].cpu_percent, 20.0, 1e-9);
  ASSERT_EQ(p->top_by_memory.size(), 2u);
  EXPECT_EQ(p->top_by_memory[0].pid, 100);
  EXPECT_NEAR(p->top_by_memory[0].memory_percent, 100.0 * 400000 / 2048000, 1e-9);
  EXPECT_EQ(p->top_by_memory[1].pid, 300);
}

TEST_F(process_sampler_test, users_are_filtered_by_min_uid_exclusions_and_minimum_usage) {
  settings s; // min_uid 1000, min 5 % CPU or memory
  auto [first, p] = two_round_section<process_sampler>(m, s);
  ASSERT_NE(p, nullptr);
  ASSERT_EQ(p->users.size(), 2u); // root and postgres are below min_uid
  EXPECT_EQ(p->users[0].user, "alice");
  EXPECT_NEAR(p->users[0].cpu_percent, 90.0, 1e-9);
  EXPECT_EQ(p->users[0].processes, 1u);
  EXPECT_EQ(p->users[1].user, "bob");

  s.telemetry.users.excluded = {"bob"};
  auto [f2, p2] = two_round_section<process_sampler>(m, s);
  ASSERT_EQ(p2->users.size(), 1u);
  EXPECT_EQ(p2->users[0].user, "alice");

  s.telemetry.users.excluded.clear();
  s.telemetry.users.min_cpu_percent = 50; // bob: 10 % CPU, 0.4 % memory
  auto [f3, p3] = two_round_section<process_sampler>(m, s);
  ASSERT_EQ(p3->users.size(), 1u);
  EXPECT_EQ(p3->users[0].user, "alice");

  s.telemetry.users.min_uid = 0;
  s.telemetry.users.min_cpu_percent = 0;
  s.telemetry.users.min_memory_percent = 0; // no minimum: everyone
  auto [f4, p4] = two_round_section<process_sampler>(m, s);
  EXPECT_EQ(p4->users.size(), 4u);
}

TEST_F(process_sampler_test, configure_changes_the_filters_of_a_running_sampler) {
  settings s;
  process_sampler sampler{test::fixture_options(m), s};
  ASSERT_EQ(sampler.sample(test::wall0, test::steady0), nullptr);
  s.telemetry.users.excluded = {"alice", "bob"};
  sampler.configure(s);
  m.write_round(1);
  auto p = sampler.sample(test::wall1, test::steady1);
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(p->users.empty());
}

} // namespace
} // namespace vigil
