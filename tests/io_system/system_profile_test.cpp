#include "io/system/system_profile.hpp"
#include "tests/support/temp_directory.hpp"

#include <gtest/gtest.h>

namespace vigil {
namespace {

TEST(system_profile, reads_os_release_and_hardware_of_a_fixture_root) {
  test::temp_directory root;
  std::filesystem::create_directories(root / "etc");
  std::filesystem::create_directories(root / "proc");
  test::rewrite_file(root / "etc/os-release", "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n"
                                              "ID=debian\nVERSION_ID=\"12\"\n");
  test::rewrite_file(root / "proc/meminfo", "MemTotal:       16384 kB\nMemFree: 1 kB\n"
                                            "MemAvailable: 8192 kB\n");
  test::rewrite_file(root / "proc/cpuinfo",
                     "processor\t: 0\nmodel name\t: Test CPU\nphysical id\t: 0\ncore id\t: 0\n\n"
                     "processor\t: 1\nmodel name\t: Test CPU\nphysical id\t: 0\ncore id\t: 1\n\n");
  auto p = read_system_profile(root.path());
  EXPECT_EQ(p.os_name, "Debian GNU/Linux 12 (bookworm)");
  EXPECT_EQ(p.os_id, "debian");
  EXPECT_EQ(p.os_version, "12");
  EXPECT_EQ(p.memory_total_bytes, 16384u * 1024);
  EXPECT_EQ(p.logical_cores, 2u);
  EXPECT_EQ(p.physical_cores, 2u);
  EXPECT_EQ(p.cpu_model, "Test CPU");
  EXPECT_GT(p.disk_total_bytes, 0u);
}

TEST(system_profile, the_live_machine_has_sane_values) {
  auto p = read_system_profile();
  EXPECT_FALSE(p.hostname.empty());
  EXPECT_FALSE(p.kernel.empty());
  EXPECT_FALSE(p.architecture.empty());
  EXPECT_GT(p.memory_total_bytes, 64u << 20);
  EXPECT_GT(p.logical_cores, 0u);
  EXPECT_FALSE(p.os_id.empty());
}

} // namespace
} // namespace vigil
