#include "io/proc/disk_stats.hpp"
#include "tests/io_proc/proc_fixture.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace vigil::proc {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view diskstats =
    "   7       0 loop0 10 0 20 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
    "   8       0 sda 1000 10 20000 500 2000 20 40000 1500 2 1800 2000 0 0 0 0 0 0\n"
    "   8       1 sda1 900 10 18000 450 1900 20 38000 1400 2 1700 1850 0 0 0 0 0 0\n"
    "   8      16 sdb 100 0 800 50 50 0 400 20 0 60 70\n"
    " 259       0 nvme0n1 5000 0 100000 2000 3000 0 60000 1000 0 2500 3000 0 0 0 0\n"
    " 259       1 nvme0n1p1 4000 0 90000 1900 2900 0 59000 900 0 2400 2800 0 0 0 0\n"
    " 259       2 nvme0n10 1 0 8 1 0 0 0 0 0 1 1 0 0 0 0\n"
    " 253       0 dm-0 700 0 14000 300 1500 0 30000 1200 0 1300 1500 0 0 0 0\n"
    "   9       1 md1 1 0 8 0 0 0 0 0 0 0 0\n"
    "   9      12 md12 1 0 8 0 0 0 0 0 0 0 0\n"
    "   1       0 ram0 0 0 0 0 0 0 0 0 0 0 0\n"
    " 252       0 zram0 5 0 40 0 5 0 40 0 0 0 0 0 0 0 0 0 0\n"
    "   8      32 sdc2 1 2 3 4\n"; // pre-2.6.25 partition line

std::vector<std::string> names(const disk_stats_sample& s) {
  std::vector<std::string> out;
  for (const auto& d : s.devices)
    out.push_back(d.name);
  return out;
}

TEST(disk_stats, keeps_whole_disks_and_stacked_devices_and_skips_virtual_ones) {
  test::proc_fixture fx;
  fx.write("proc/diskstats", diskstats);
  auto s = disk_stats_reader{fx.root()}.read();
  EXPECT_EQ(names(s),
            (std::vector<std::string>{"sda", "sdb", "nvme0n1", "nvme0n10", "dm-0", "md1", "md12"}));
  const auto& sda = s.devices[0];
  EXPECT_EQ(sda.major, 8u);
  EXPECT_EQ(sda.minor, 0u);
  EXPECT_FALSE(sda.partition);
  EXPECT_EQ(sda.reads, 1000u);
  EXPECT_EQ(sda.reads_merged, 10u);
  EXPECT_EQ(sda.read_bytes, 20000u * 512);
  EXPECT_EQ(sda.read_time_ms, 500u);
  EXPECT_EQ(sda.writes, 2000u);
  EXPECT_EQ(sda.writes_merged, 20u);
  EXPECT_EQ(sda.write_bytes, 40000u * 512);
  EXPECT_EQ(sda.write_time_ms, 1500u);
  EXPECT_EQ(sda.in_flight, 2u);
  EXPECT_EQ(sda.io_time_ms, 1800u);
  EXPECT_EQ(sda.weighted_io_time_ms, 2000u);
}

TEST(disk_stats, partitions_and_custom_exclusions_on_request) {
  disk_stats_options options;
  options.include_partitions = true;
  options.excluded_prefixes = {"loop", "ram", "md"};
  disk_stats_sample s;
  parse_disk_stats(diskstats, s, options);
  EXPECT_EQ(names(s), (std::vector<std::string>{"sda", "sda1", "sdb", "nvme0n1", "nvme0n1p1",
                                                "nvme0n10", "dm-0", "zram0"}));
  EXPECT_TRUE(s.devices[1].partition);
  EXPECT_TRUE(s.devices[4].partition);
  EXPECT_FALSE(s.devices[5].partition);
}

TEST(disk_stats, partition_names_follow_the_kernel_rule) {
  std::vector<std::string_view> all{"sda", "md1", "nvme0n1", "mmcblk0", "sdaa"};
  EXPECT_TRUE(is_partition_name("sda1", all));
  EXPECT_TRUE(is_partition_name("sda15", all));
  EXPECT_FALSE(is_partition_name("sdaa", all));
  EXPECT_FALSE(is_partition_name("sda", all));
  EXPECT_TRUE(is_partition_name("md1p1", all));
  EXPECT_FALSE(is_partition_name("md12", all));
  EXPECT_TRUE(is_partition_name("nvme0n1p3", all));
  EXPECT_FALSE(is_partition_name("nvme0n10", all));
  EXPECT_TRUE(is_partition_name("mmcblk0p1", all));
  EXPECT_FALSE(is_partition_name("mmcblk0boot0", all));
}

disk_counters disk(std::string name, std::uint64_t reads, std::uint64_t read_sectors,
                   std::uint64_t read_ms, std::uint64_t writes, std::uint64_t write_sectors,
                   std::uint64_t write_ms, std::uint64_t io_ms, bool partition = false) {
  disk_counters d;
  d.name = std::move(name);
  d.partition = partition;
  d.reads = reads;
  d.read_bytes = read_sectors * 512;
  d.read_time_ms = read_ms;
  d.writes = writes;
  d.write_bytes = write_sectors * 512;
  d.write_time_ms = write_ms;
  d.io_time_ms = io_ms;
  return d;
}

TEST(disk_stats, rates_over_two_samples) {
  disk_stats_sample prev{{disk("sda", 1000, 20000, 500, 2000, 40000, 1500, 1800)}};
  disk_stats_sample cur{{disk("sda", 1100, 24096, 600, 2300, 48192, 2100, 2300)}};
  auto r = compute_disk_rates(prev, cur, 2s);
  ASSERT_EQ(r.devices.size(), 1u);
  const auto& d = r.devices[0];
  EXPECT_EQ(d.name, "sda");
  EXPECT_DOUBLE_EQ(d.read_bytes_per_second, 4096.0 * 512 / 2); // 1 MiB/s
  EXPECT_DOUBLE_EQ(d.write_bytes_per_second, 8192.0 * 512 / 2);
  EXPECT_DOUBLE_EQ(d.reads_per_second, 50.0);
  EXPECT_DOUBLE_EQ(d.writes_per_second, 150.0);
  EXPECT_DOUBLE_EQ(d.iops, 200.0);
  EXPECT_DOUBLE_EQ(d.busy_percent, 25.0); // 500 ms busy in 2 s
  EXPECT_DOUBLE_EQ(d.average_read_ms, 1.0);
  EXPECT_DOUBLE_EQ(d.average_write_ms, 2.0);
  EXPECT_DOUBLE_EQ(r.read_bytes_per_second, d.read_bytes_per_second);
  EXPECT_DOUBLE_EQ(r.write_bytes_per_second, d.write_bytes_per_second);
  EXPECT_DOUBLE_EQ(r.iops, 200.0);
}

TEST(disk_stats, busy_is_capped_at_100_percent) {
  disk_stats_sample prev{{disk("sda", 0, 0, 0, 0, 0, 0, 0)}};
  disk_stats_sample cur{{disk("sda", 0, 0, 0, 0, 0, 0, 1100)}}; // timer skew
  EXPECT_DOUBLE_EQ(compute_disk_rates(prev, cur, 1s).devices.at(0).busy_percent, 100.0);
}

TEST(disk_stats, a_32_bit_io_time_wrap_is_counted_and_a_reset_drops_the_device) {
  // io_ticks is printed as 32-bit milliseconds: it wraps every 49.7 days.
  disk_stats_sample prev{{disk("sda", 10, 10, 10, 10, 10, 10, 4'294'967'000),
                          disk("sdb", 1'000'000, 10, 10, 10, 10, 10, 10)}};
  disk_stats_sample cur{{disk("sda", 10, 10, 10, 10, 10, 10, 204), // +500 across the wrap
                         disk("sdb", 5, 10, 10, 10, 10, 10, 10)}}; // reads restarted
  auto r = compute_disk_rates(prev, cur, 2s);
  ASSERT_EQ(r.devices.size(), 1u);
  EXPECT_EQ(r.devices[0].name, "sda");
  EXPECT_DOUBLE_EQ(r.devices[0].busy_percent, 25.0);
}

TEST(disk_stats, new_devices_wait_a_sample_and_totals_skip_partitions_and_stacked_devices) {
  disk_stats_sample prev{{disk("sda", 0, 0, 0, 0, 0, 0, 0), disk("sda1", 0, 0, 0, 0, 0, 0, 0, true),
                          disk("dm-0", 0, 0, 0, 0, 0, 0, 0), disk("md0", 0, 0, 0, 0, 0, 0, 0)}};
  disk_stats_sample cur{{disk("sda", 10, 100, 0, 0, 0, 0, 0),
                         disk("sda1", 10, 100, 0, 0, 0, 0, 0, true),
                         disk("dm-0", 10, 100, 0, 0, 0, 0, 0), disk("md0", 10, 100, 0, 0, 0, 0, 0),
                         disk("sdb", 10, 100, 0, 0, 0, 0, 0)}}; // hot-plugged
  auto r = compute_disk_rates(prev, cur, 1s);
  ASSERT_EQ(r.devices.size(), 4u);
  EXPECT_EQ(r.devices[3].name, "md0");
  EXPECT_DOUBLE_EQ(r.devices[1].read_bytes_per_second, 100.0 * 512);
  EXPECT_DOUBLE_EQ(r.read_bytes_per_second, 100.0 * 512); // sda only
  EXPECT_DOUBLE_EQ(r.iops, 10.0);
  EXPECT_TRUE(compute_disk_rates(prev, cur, 0s).devices.empty());
}

TEST(disk_stats, missing_file_throws_naming_it) {
  test::proc_fixture fx;
  try {
    disk_stats_reader{fx.root()}.read();
    FAIL() << "no exception";
  } catch (const std::system_error& e) {
    EXPECT_NE(std::string(e.what()).find("proc/diskstats"), std::string::npos) << e.what();
  }
}

TEST(disk_stats, real_proc_lists_no_loop_or_ram_devices_and_no_partitions) {
  disk_stats_reader reader;
  auto s = reader.read();
  std::vector<std::string_view> all;
  for (const auto& d : s.devices)
    all.push_back(d.name);
  for (const auto& d : s.devices) {
    EXPECT_NE(d.name.rfind("loop", 0), 0u) << d.name;
    EXPECT_NE(d.name.rfind("ram", 0), 0u) << d.name;
    EXPECT_FALSE(d.partition) << d.name;
    EXPECT_FALSE(is_partition_name(d.name, all)) << d.name;
  }
  auto again = reader.read();
  auto r = compute_disk_rates(s, again, 1s);
  for (const auto& d : r.devices) {
    EXPECT_GE(d.busy_percent, 0.0);
    EXPECT_LE(d.busy_percent, 100.0);
  }
}

} // namespace
} // namespace vigil::proc
