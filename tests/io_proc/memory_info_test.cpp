#include "io/proc/memory_info.hpp"
#include "tests/io_proc/proc_fixture.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace vigil::proc {
namespace {

constexpr std::uint64_t KiB = 1024;

constexpr std::string_view meminfo = "MemTotal:       16000000 kB\n"
                                     "MemFree:         2000000 kB\n"
                                     "MemAvailable:    8000000 kB\n"
                                     "Buffers:          500000 kB\n"
                                     "Cached:          4000000 kB\n"
                                     "SwapCached:        12345 kB\n"
                                     "Active:          9999999 kB\n"
                                     "Shmem:            300000 kB\n"
                                     "SReclaimable:     600000 kB\n"
                                     "SUnreclaim:       100000 kB\n"
                                     "SwapTotal:       2000000 kB\n"
                                     "SwapFree:        1500000 kB\n"
                                     "HugePages_Total:       0\n";

TEST(memory_info, reads_sizes_in_bytes_and_derives_used_from_available) {
  test::proc_fixture fx;
  fx.write("proc/meminfo", meminfo);
  auto m = memory_info_reader{fx.root()}.read();
  EXPECT_EQ(m.total, 16000000 * KiB);
  EXPECT_EQ(m.free, 2000000 * KiB);
  EXPECT_EQ(m.available, 8000000 * KiB);
  EXPECT_EQ(m.used, 8000000 * KiB);
  EXPECT_EQ(m.buffers, 500000 * KiB);
  EXPECT_EQ(m.cached, 4600000 * KiB); // Cached + SReclaimable, not SwapCached
  EXPECT_EQ(m.shared, 300000 * KiB);
  EXPECT_EQ(m.swap_total, 2000000 * KiB);
  EXPECT_EQ(m.swap_free, 1500000 * KiB);
  EXPECT_EQ(m.swap_used, 500000 * KiB);
  EXPECT_DOUBLE_EQ(m.used_percent, 50.0);
  EXPECT_DOUBLE_EQ(m.swap_used_percent, 25.0);
  EXPECT_FALSE(m.available_estimated);
}

TEST(memory_info, without_memavailable_it_is_estimated_and_without_swap_percent_is_zero) {
  auto m = parse_memory_info("MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 50 kB\nCached: 200 kB\n"
                             "SReclaimable: 50 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n",
                             "test");
  EXPECT_TRUE(m.available_estimated);
  EXPECT_EQ(m.available, 400 * KiB);
  EXPECT_EQ(m.used, 600 * KiB);
  EXPECT_DOUBLE_EQ(m.used_percent, 60.0);
  EXPECT_EQ(m.swap_used, 0u);
  EXPECT_DOUBLE_EQ(m.swap_used_percent, 0.0);
}

TEST(memory_info, missing_memtotal_throws_naming_the_file) {
  test::proc_fixture fx;
  fx.write("proc/meminfo", "MemFree: 100 kB\n");
  try {
    memory_info_reader{fx.root()}.read();
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("proc/meminfo"), std::string::npos) << e.what();
  }
}

TEST(memory_info, real_proc_values_are_sane) {
  auto m = memory_info_reader{}.read();
  EXPECT_GT(m.total, 0u);
  EXPECT_LE(m.available, m.total);
  EXPECT_EQ(m.used, m.total - m.available);
  EXPECT_GT(m.used_percent, 0.0);
  EXPECT_LT(m.used_percent, 100.0);
  EXPECT_LE(m.swap_used, m.swap_total);
}

} // namespace
} // namespace vigil::proc
