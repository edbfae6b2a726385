#pragma once

// CPU model and core counts (/proc/cpuinfo), current frequency (cpufreq in /sys, else
// /proc/cpuinfo) and package temperature (/sys/class/thermal, /sys/class/hwmon).

#include "io/proc/proc_file.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::proc {

struct cpu_info {
  std::string model_name;     // "model name" (x86), else "Processor"/"Hardware"; may be empty
  unsigned logical_cores = 0; // "processor" entries: online logical CPUs
  std::optional<unsigned>
      physical_cores;                // distinct (physical id, core id); absent without topology
  std::optional<unsigned> sockets;   // distinct physical id
  std::optional<double> current_mhz; // average over online CPUs, MHz
  std::optional<double> temperature_celsius;
  std::string
      temperature_sensor; // where the temperature came from, e.g. "thermal_zone0 (x86_pkg_temp)"
};

// Model, core counts and the average "cpu MHz" of /proc/cpuinfo text (temperature untouched).
void parse_cpuinfo(std::string_view text, cpu_info& out);

class cpu_info_reader {
public:
  explicit cpu_info_reader(const std::filesystem::path& root = "/");

  // Everything. Throws std::system_error naming /proc/cpuinfo when it cannot be read; the
  // frequency and temperature are std::nullopt when no source exists.
  cpu_info read();

  // scaling_cur_freq averaged over CPUs (kHz → MHz), else "cpu MHz" of /proc/cpuinfo.
  std::optional<double> read_current_mhz();

  // The preferred sensor: thermal zone "x86_pkg_temp", then hwmon coretemp/k10temp/zenpower
  // (label "Package id 0", "Tdie", "Tctl", else its first input), then a thermal zone or hwmon
  // whose type/name mentions "cpu", then the first thermal zone with a sane reading. The choice
  // is made once and redone when the chosen file stops being readable.
  std::optional<double> read_temperature_celsius();
  const std::string& temperature_sensor() const { return sensor_name_; }

private:
  void discover_frequency_files();
  void discover_temperature_sensor();
  std::optional<double> read_number(const std::string& path);

  std::filesystem::path root_;
  std::string cpuinfo_path_;
  proc_file_reader file_;
  bool frequency_discovered_ = false;
  std::vector<std::string> frequency_files_;
  bool sensor_discovered_ = false;
  std::string sensor_file_;
  std::string sensor_name_;
};

} // namespace vigil::proc
