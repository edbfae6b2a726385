#include "io/proc/load_and_uptime.hpp"
#include "tests/io_proc/proc_fixture.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace vigil::proc {
namespace {

TEST(load_and_uptime, parses_loadavg_and_uptime_from_the_root) {
  test::proc_fixture fx;
  fx.write("proc/loadavg", "1.50 0.75 0.25 3/456 7890\n");
  fx.write("proc/uptime", "12345.67 23456.78\n");
  load_and_uptime_reader reader{fx.root()};
  auto load = reader.read_load_average();
  EXPECT_DOUBLE_EQ(load.one_minute, 1.5);
  EXPECT_DOUBLE_EQ(load.five_minutes, 0.75);
  EXPECT_DOUBLE_EQ(load.fifteen_minutes, 0.25);
  EXPECT_EQ(load.running_tasks, 3u);
  EXPECT_EQ(load.total_tasks, 456u);
  EXPECT_EQ(load.last_pid, 7890);
  auto up = reader.read_uptime();
  EXPECT_DOUBLE_EQ(up.uptime_seconds, 12345.67);
  EXPECT_DOUBLE_EQ(up.idle_seconds, 23456.78);
}

TEST(load_and_uptime, malformed_content_throws_naming_the_file) {
  test::proc_fixture fx;
  fx.write("proc/loadavg", "1.50 0.75\n");
  fx.write("proc/uptime", "soon\n");
  load_and_uptime_reader reader{fx.root()};
  try {
    reader.read_load_average();
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("proc/loadavg"), std::string::npos) << e.what();
  }
  fx.write("proc/loadavg", "1.50 0.75 0.25 3-456 7890\n");
  EXPECT_THROW(reader.read_load_average(), std::runtime_error);
  try {
    reader.read_uptime();
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("proc/uptime"), std::string::npos) << e.what();
  }
}

TEST(load_and_uptime, missing_files_throw_system_error) {
  test::proc_fixture fx;
  load_and_uptime_reader reader{fx.root()};
  EXPECT_THROW(reader.read_load_average(), std::system_error);
  EXPECT_THROW(reader.read_uptime(), std::system_error);
}

TEST(load_and_uptime, real_proc_values_are_sane) {
  load_and_uptime_reader reader;
  auto load = reader.read_load_average();
  EXPECT_GE(load.one_minute, 0.0);
  EXPECT_GE(load.fifteen_minutes, 0.0);
  EXPECT_GE(load.running_tasks, 1u); // this test is running
  EXPECT_GE(load.total_tasks, load.running_tasks);
  auto up = reader.read_uptime();
  EXPECT_GT(up.uptime_seconds, 0.0);
  EXPECT_GE(up.idle_seconds, 0.0);
}

} // namespace
} // namespace vigil::proc
