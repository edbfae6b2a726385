#include "io/proc/cpu_info.hpp"
#include "tests/io_proc/proc_fixture.hpp"

#include <gtest/gtest.h>

#include <string>
#include <unistd.h>

namespace vigil::proc {
namespace {

// Two cores with two hardware threads each, one socket.
std::string x86_cpuinfo() {
  std::string text;
  int core_of[] = {0, 1, 0, 1};
  const char* mhz[] = {"2400.000", "2600.000", "2000.000", "3000.000"};
  for (int i = 0; i < 4; ++i) {
    text += "processor\t: " + std::to_string(i) + "\n";
    text += "vendor_id\t: GenuineIntel\n";
    text += "model name\t: Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz\n";
    text += std::string("cpu MHz\t\t: ") + mhz[i] + "\n";
    text += "physical id\t: 0\n";
    text += "core id\t\t: " + std::to_string(core_of[i]) + "\n";
    text += "flags\t\t: fpu vme de pse\n\n";
  }
  return text;
}

TEST(cpu_info, parses_model_cores_and_cpuinfo_frequency) {
  test::proc_fixture fx;
  fx.write("proc/cpuinfo", x86_cpuinfo());
  auto info = cpu_info_reader{fx.root()}.read();
  EXPECT_EQ(info.model_name, "Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz");
  EXPECT_EQ(info.logical_cores, 4u);
  EXPECT_EQ(info.physical_cores, 2u);
  EXPECT_EQ(info.sockets, 1u);
  ASSERT_TRUE(info.current_mhz);
  EXPECT_DOUBLE_EQ(*info.current_mhz, 2500.0); // no cpufreq: average "cpu MHz"
  EXPECT_FALSE(info.temperature_celsius);      // no sensors at all
  EXPECT_TRUE(info.temperature_sensor.empty());
}

TEST(cpu_info, arm_style_cpuinfo_without_topology) {
  cpu_info info;
  parse_cpuinfo("processor\t: 0\nBogoMIPS\t: 38.40\n\nprocessor\t: 1\nBogoMIPS\t: 38.40\n\n"
                "Processor\t: ARMv7 Processor rev 4 (v7l)\nHardware\t: BCM2835\n",
                info);
  EXPECT_EQ(info.model_name, "ARMv7 Processor rev 4 (v7l)");
  EXPECT_EQ(info.logical_cores, 2u);
  EXPECT_FALSE(info.physical_cores);
  EXPECT_FALSE(info.sockets);
  EXPECT_FALSE(info.current_mhz);
}

TEST(cpu_info, scaling_cur_freq_is_preferred_and_averaged) {
  test::proc_fixture fx;
  fx.write("proc/cpuinfo", x86_cpuinfo());
  const char* khz[] = {"1000000\n", "1200000\n", "1400000\n", "1600000\n"};
  for (int i = 0; i < 4; ++i)
    fx.write("sys/devices/system/cpu/cpu" + std::to_string(i) + "/cpufreq/scaling_cur_freq",
             khz[i]);
  fx.make_directory("sys/devices/system/cpu/cpufreq");
  fx.make_directory("sys/devices/system/cpu/cpuidle");
  cpu_info_reader reader{fx.root()};
  auto info = reader.read();
  ASSERT_TRUE(info.current_mhz);
  EXPECT_DOUBLE_EQ(*info.current_mhz, 1300.0);
  fx.write("sys/devices/system/cpu/cpu3/cpufreq/scaling_cur_freq", "2200000\n");
  EXPECT_DOUBLE_EQ(reader.read_current_mhz().value_or(0), 1450.0); // read anew each time
}

TEST(cpu_info, package_thermal_zone_is_preferred_over_other_zones) {
  test::proc_fixture fx;
  fx.write("proc/cpuinfo", x86_cpuinfo());
  fx.write("sys/class/thermal/thermal_zone0/type", "acpitz\n");
  fx.write("sys/class/thermal/thermal_zone0/temp", "40000\n");
  fx.write("sys/class/thermal/thermal_zone1/type", "x86_pkg_temp\n");
  fx.write("sys/class/thermal/thermal_zone1/temp", "55000\n");
  fx.make_directory("sys/class/thermal/cooling_device0");
  cpu_info_reader reader{fx.root()};
  auto info = reader.read();
  ASSERT_TRUE(info.temperature_celsius);
  EXPECT_DOUBLE_EQ(*info.temperature_celsius, 55.0);
  EXPECT_EQ(info.temperature_sensor, "thermal_zone1 (x86_pkg_temp)");

  fx.write("sys/class/thermal/thermal_zone1/temp", "61500\n");
  EXPECT_DOUBLE_EQ(reader.read_temperature_celsius().value_or(0), 61.5);

  // The package sensor goes away: the next best one is chosen on the same call.
  fx.remove("sys/class/thermal/thermal_zone1");
  EXPECT_DOUBLE_EQ(reader.read_temperature_celsius().value_or(0), 40.0);
  EXPECT_EQ(reader.temperature_sensor(), "thermal_zone0 (acpitz)");
}

TEST(cpu_info, coretemp_package_label_is_preferred_over_a_lower_numbered_core) {
  test::proc_fixture fx;
  fx.write("sys/class/hwmon/hwmon0/name", "nvme\n");
  fx.write("sys/class/hwmon/hwmon0/temp1_input", "30000\n");
  fx.write("sys/class/hwmon/hwmon1/name", "coretemp\n");
  fx.write("sys/class/hwmon/hwmon1/temp1_input", "50000\n");
  fx.write("sys/class/hwmon/hwmon1/temp1_label", "Core 0\n");
  fx.write("sys/class/hwmon/hwmon1/temp2_input", "60000\n");
  fx.write("sys/class/hwmon/hwmon1/temp2_label", "Package id 0\n");
  // A thermal zone that is not the CPU's ranks below coretemp.
  fx.write("sys/class/thermal/thermal_zone0/type", "acpitz\n");
  fx.write("sys/class/thermal/thermal_zone0/temp", "45000\n");
  cpu_info_reader reader{fx.root()};
  EXPECT_DOUBLE_EQ(reader.read_temperature_celsius().value_or(0), 60.0);
  EXPECT_EQ(reader.temperature_sensor(), "hwmon1 (coretemp, Package id 0)");
}

TEST(cpu_info, k10temp_prefers_tdie_over_tctl) {
  test::proc_fixture fx;
  fx.write("sys/class/hwmon/hwmon2/name", "k10temp\n");
  fx.write("sys/class/hwmon/hwmon2/temp1_input", "70000\n");
  fx.write("sys/class/hwmon/hwmon2/temp1_label", "Tctl\n");
  fx.write("sys/class/hwmon/hwmon2/temp2_input", "50000\n");
  fx.write("sys/class/hwmon/hwmon2/temp2_label", "Tdie\n");
  cpu_info_reader reader{fx.root()};
  EXPECT_DOUBLE_EQ(reader.read_temperature_celsius().value_or(0), 50.0);
}

TEST(cpu_info, cpu_thermal_zone_beats_unknown_zones_and_insane_values_are_ignored) {
  test::proc_fixture fx;
  fx.write("sys/class/thermal/thermal_zone0/type", "acpitz\n");
  fx.write("sys/class/thermal/thermal_zone0/temp", "42000\n");
  fx.write("sys/class/thermal/thermal_zone1/type", "cpu-thermal\n");
  fx.write("sys/class/thermal/thermal_zone1/temp", "48312\n");
  fx.write("sys/class/thermal/thermal_zone2/type", "x86_pkg_temp\n");
  fx.write("sys/class/thermal/thermal_zone2/temp", "-273000\n"); // broken sensor
  cpu_info_reader reader{fx.root()};
  EXPECT_DOUBLE_EQ(reader.read_temperature_celsius().value_or(0), 48.312);
  EXPECT_EQ(reader.temperature_sensor(), "thermal_zone1 (cpu-thermal)");
}

TEST(cpu_info, missing_cpuinfo_throws_naming_it) {
  test::proc_fixture fx;
  try {
    cpu_info_reader{fx.root()}.read();
    FAIL() << "no exception";
  } catch (const std::system_error& e) {
    EXPECT_NE(std::string(e.what()).find("proc/cpuinfo"), std::string::npos) << e.what();
  }
}

TEST(cpu_info, real_system_reports_the_online_cpus) {
  auto info = cpu_info_reader{}.read();
  EXPECT_GE(info.logical_cores, 1u);
  EXPECT_EQ(info.logical_cores, static_cast<unsigned>(::sysconf(_SC_NPROCESSORS_ONLN)));
  if (info.current_mhz) {
    EXPECT_GT(*info.current_mhz, 0.0);
    EXPECT_LT(*info.current_mhz, 20000.0);
  }
  if (info.temperature_celsius) {
    EXPECT_GT(*info.temperature_celsius, -50.0);
    EXPECT_LT(*info.temperature_celsius, 200.0);
    EXPECT_FALSE(info.temperature_sensor.empty());
  }
}

} // namespace
} // namespace vigil::proc
