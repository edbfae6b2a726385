#include "io/proc/cpu_stat.hpp"
#include "tests/io_proc/proc_fixture.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <stdexcept>
#include <thread>

namespace vigil::proc {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view stat_text = "cpu  100 20 30 400 50 5 5 10 40 0\n"
                                       "cpu0 50 10 15 200 25 2 3 5 20 0\n"
                                       "cpu1 50 10 15 200 25 3 2 5 20 0\n"
                                       "intr 12345 1 2 3\n"
                                       "ctxt 1000\n"
                                       "btime 1700000000\n"
                                       "processes 500\n"
                                       "procs_running 3\n"
                                       "procs_blocked 1\n"
                                       "softirq 1 2 3\n";

cpu_times times(std::uint64_t user, std::uint64_t nice, std::uint64_t system, std::uint64_t idle,
                std::uint64_t iowait, std::uint64_t irq, std::uint64_t softirq, std::uint64_t steal,
                std::uint64_t guest, std::uint64_t guest_nice) {
  return {user, nice, system, idle, iowait, irq, softirq, steal, guest, guest_nice};
}

TEST(cpu_stat, reader_parses_totals_cores_and_counters_from_the_root) {
  test::proc_fixture fx;
  fx.write("proc/stat", stat_text);
  auto s = cpu_stat_reader{fx.root()}.read();
  EXPECT_EQ(s.total.user, 100u);
  EXPECT_EQ(s.total.nice, 20u);
  EXPECT_EQ(s.total.system, 30u);
  EXPECT_EQ(s.total.idle, 400u);
  EXPECT_EQ(s.total.iowait, 50u);
  EXPECT_EQ(s.total.irq, 5u);
  EXPECT_EQ(s.total.softirq, 5u);
  EXPECT_EQ(s.total.steal, 10u);
  EXPECT_EQ(s.total.guest, 40u);
  EXPECT_EQ(s.total.guest_nice, 0u);
  EXPECT_EQ(s.total.total(), 620u); // guest not added again
  ASSERT_EQ(s.cores.size(), 2u);
  EXPECT_EQ(s.cores[0].id, 0);
  EXPECT_EQ(s.cores[1].id, 1);
  EXPECT_EQ(s.cores[1].times.irq, 3u);
  EXPECT_EQ(s.context_switches, 1000u);
  EXPECT_EQ(s.boot_time, 1700000000);
  EXPECT_EQ(s.processes_created, 500u);
  EXPECT_EQ(s.procs_running, 3u);
  EXPECT_EQ(s.procs_blocked, 1u);
}

TEST(cpu_stat, old_kernels_with_four_fields_leave_the_rest_zero) {
  cpu_stat_sample s;
  parse_cpu_stat("cpu 1 2 3 4\ncpu0 1 2 3 4\n", s, "test");
  EXPECT_EQ(s.total.idle, 4u);
  EXPECT_EQ(s.total.steal, 0u);
  ASSERT_EQ(s.cores.size(), 1u);
}

TEST(cpu_stat, reusing_a_sample_replaces_its_cores) {
  cpu_stat_sample s;
  parse_cpu_stat("cpu 1 2 3 4\ncpu0 1 2 3 4\ncpu1 1 2 3 4\n", s, "test");
  parse_cpu_stat("cpu 1 2 3 4\ncpu3 1 2 3 4\n", s, "test");
  ASSERT_EQ(s.cores.size(), 1u);
  EXPECT_EQ(s.cores[0].id, 3);
}

TEST(cpu_stat, malformed_or_missing_file_throws_naming_it) {
  test::proc_fixture fx;
  auto path = (fx.root() / "proc/stat").string();
  cpu_stat_reader reader{fx.root()};
  EXPECT_THROW(reader.read(), std::system_error);
  fx.write("proc/stat", "intr 1 2\nctxt 5\n");
  try {
    reader.read();
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
  fx.write("proc/stat", "cpu 1 2 x 4\n");
  EXPECT_THROW(reader.read(), std::runtime_error);
}

TEST(cpu_stat, percentages_count_guest_once_and_add_up_to_100) {
  auto a = times(100, 20, 30, 400, 50, 5, 5, 10, 40, 0);
  // Deltas: user 300 (of which guest 100), system 100, idle 400, iowait 100, irq 20,
  // softirq 20, steal 60: 1000 ticks.
  auto b = times(400, 20, 130, 800, 150, 25, 25, 70, 140, 0);
  auto p = cpu_percentages_between(a, b);
  ASSERT_TRUE(p);
  EXPECT_DOUBLE_EQ(p->usage, 50.0);
  EXPECT_DOUBLE_EQ(p->user, 20.0);
  EXPECT_DOUBLE_EQ(p->guest, 10.0);
  EXPECT_DOUBLE_EQ(p->nice, 0.0);
  EXPECT_DOUBLE_EQ(p->system, 10.0);
  EXPECT_DOUBLE_EQ(p->irq, 4.0);
  EXPECT_DOUBLE_EQ(p->iowait, 10.0);
  EXPECT_DOUBLE_EQ(p->steal, 6.0);
  EXPECT_DOUBLE_EQ(p->idle, 40.0);
  EXPECT_DOUBLE_EQ(
      p->user + p->nice + p->system + p->irq + p->iowait + p->steal + p->guest + p->idle, 100.0);
}

TEST(cpu_stat, guest_nice_is_taken_out_of_nice) {
  auto a = times(0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
  auto b = times(0, 50, 0, 50, 0, 0, 0, 0, 0, 30); // nice 50 of which guest_nice 30
  auto p = cpu_percentages_between(a, b);
  ASSERT_TRUE(p);
  EXPECT_DOUBLE_EQ(p->nice, 20.0);
  EXPECT_DOUBLE_EQ(p->guest, 30.0);
  EXPECT_DOUBLE_EQ(p->usage, 50.0);
}

TEST(cpu_stat, guest_above_user_from_unsynchronised_reads_is_clamped) {
  auto a = times(100, 0, 0, 100, 0, 0, 0, 0, 100, 0);
  auto b = times(110, 0, 0, 190, 0, 0, 0, 0, 120, 0); // user +10, guest +20
  auto p = cpu_percentages_between(a, b);
  ASSERT_TRUE(p);
  EXPECT_DOUBLE_EQ(p->user, 0.0);
  EXPECT_DOUBLE_EQ(p->guest, 10.0);
  EXPECT_DOUBLE_EQ(p->usage, 10.0);
}

// 11 busy ticks of 11: 11 * (100 / 11) is 100.00000000000001 in doubles.
TEST(cpu_stat, a_fully_busy_interval_is_exactly_100_not_above) {
  auto a = times(100, 0, 0, 100, 0, 0, 0, 0, 0, 0);
  auto b = times(108, 0, 3, 100, 0, 0, 0, 0, 0, 0);
  auto p = cpu_percentages_between(a, b);
  ASSERT_TRUE(p);
  EXPECT_LE(p->usage, 100.0);
  EXPECT_DOUBLE_EQ(p->usage, 100.0);
}

TEST(cpu_stat, counters_going_backwards_give_no_value) {
  auto a = times(1000, 0, 500, 5000, 10, 0, 0, 0, 0, 0);
  EXPECT_FALSE(cpu_percentages_between(a, times(10, 0, 5, 60, 0, 0, 0, 0, 0, 0)));
  EXPECT_FALSE(cpu_percentages_between(a, times(1100, 0, 500, 4999, 10, 0, 0, 0, 0, 0)));
  auto stolen = times(1000, 0, 500, 5000, 10, 0, 0, 300, 0, 0);
  EXPECT_FALSE(cpu_percentages_between(stolen, times(1100, 0, 500, 5100, 10, 0, 0, 200, 0, 0)));
  EXPECT_FALSE(cpu_percentages_between(a, a)); // no tick elapsed
}

TEST(cpu_stat, iowait_going_backwards_alone_counts_as_zero) {
  auto a = times(100, 0, 100, 100, 50, 0, 0, 0, 0, 0);
  auto b = times(150, 0, 150, 200, 40, 0, 0, 0, 0, 0); // iowait −10
  auto p = cpu_percentages_between(a, b);
  ASSERT_TRUE(p);
  EXPECT_DOUBLE_EQ(p->iowait, 0.0);
  EXPECT_DOUBLE_EQ(p->usage, 50.0);
  EXPECT_DOUBLE_EQ(p->idle, 50.0);
}

TEST(cpu_stat, usage_matches_cores_by_id_across_hotplug) {
  cpu_stat_sample prev, cur;
  parse_cpu_stat("cpu  100 20 30 400 50 5 5 10 40 0\n"
                 "cpu0 50 10 15 200 25 2 3 5 20 0\n"
                 "cpu1 50 10 15 200 25 3 2 5 20 0\n"
                 "cpu3 10 0 0 10 0 0 0 0 0 0\n"
                 "ctxt 1000\nprocesses 500\n",
                 prev, "prev");
  parse_cpu_stat("cpu  400 20 130 800 150 25 25 70 140 0\n"
                 "cpu0 150 10 15 300 25 2 3 5 20 0\n" // +100 user, +100 idle
                 "cpu1 5 1 1 20 2 0 0 0 0 0\n"        // replugged: counters restarted
                 "cpu2 7 0 0 7 0 0 0 0 0 0\n"         // appeared
                 "ctxt 3000\nprocesses 510\n",        // cpu3 went away
                 cur, "cur");
  auto u = compute_cpu_usage(prev, cur, 2s);
  ASSERT_TRUE(u.total);
  EXPECT_DOUBLE_EQ(u.total->usage, 50.0);
  ASSERT_EQ(u.cores.size(), 3u);
  EXPECT_EQ(u.cores[0].id, 0);
  ASSERT_TRUE(u.cores[0].usage);
  EXPECT_DOUBLE_EQ(u.cores[0].usage->usage, 50.0);
  EXPECT_DOUBLE_EQ(u.cores[0].usage->user, 50.0);
  EXPECT_EQ(u.cores[1].id, 1);
  EXPECT_FALSE(u.cores[1].usage);
  EXPECT_EQ(u.cores[2].id, 2);
  EXPECT_FALSE(u.cores[2].usage);
  ASSERT_TRUE(u.context_switches_per_second);
  EXPECT_DOUBLE_EQ(*u.context_switches_per_second, 1000.0);
  ASSERT_TRUE(u.processes_created_per_second);
  EXPECT_DOUBLE_EQ(*u.processes_created_per_second, 5.0);
}

TEST(cpu_stat, rates_need_elapsed_time_and_forward_counters) {
  cpu_stat_sample prev, cur;
  parse_cpu_stat("cpu 1 0 0 1\nctxt 100\nprocesses 10\n", prev, "prev");
  parse_cpu_stat("cpu 2 0 0 2\nctxt 50\nprocesses 20\n", cur, "cur");
  auto u = compute_cpu_usage(prev, cur, 0s);
  EXPECT_FALSE(u.context_switches_per_second);
  u = compute_cpu_usage(prev, cur, 1s);
  EXPECT_FALSE(u.context_switches_per_second); // went backwards
  ASSERT_TRUE(u.processes_created_per_second);
  EXPECT_DOUBLE_EQ(*u.processes_created_per_second, 10.0);
}

TEST(cpu_stat, real_proc_has_cores_boot_time_and_a_sane_usage) {
  cpu_stat_reader reader;
  auto a = reader.read();
  ASSERT_GE(a.cores.size(), 1u);
  EXPECT_GT(a.total.total(), 0u);
  EXPECT_GT(a.context_switches, 0u);
  EXPECT_GT(a.boot_time, 946684800); // after 2000
  EXPECT_LE(a.boot_time, static_cast<std::int64_t>(std::time(nullptr)));
  std::this_thread::sleep_for(300ms);
  auto b = reader.read();
  auto u = compute_cpu_usage(a, b, 300ms);
  ASSERT_TRUE(u.total) << "no tick in 300 ms";
  EXPECT_GE(u.total->usage, 0.0);
  EXPECT_LE(u.total->usage, 100.0);
  EXPECT_NEAR(u.total->user + u.total->nice + u.total->system + u.total->irq + u.total->iowait +
                  u.total->steal + u.total->guest + u.total->idle,
              100.0, 1e-9);
  EXPECT_GT(clock_ticks_per_second(), 0);
}

} // namespace
} // namespace vigil::proc
