#include "io/proc/cpu_info.hpp"

#include "io/proc/text_scan.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <fcntl.h>
#include <set>
#include <utility>

namespace vigil::proc {

using namespace detail;
namespace fs = std::filesystem;

namespace {

// Numbered children "prefixN" of a directory, sorted by N.
std::vector<std::pair<unsigned, fs::path>> numbered_entries(const fs::path& dir,
                                                            std::string_view prefix) {
  std::vector<std::pair<unsigned, fs::path>> out;
  std::error_code ec;
  for (fs::directory_iterator it{dir, ec}, end; !ec && it != end; it.increment(ec)) {
    auto name = it->path().filename().string();
    unsigned n = 0;
    if (name.size() > prefix.size() && std::string_view{name}.substr(0, prefix.size()) == prefix &&
        parse_integer(std::string_view{name}.substr(prefix.size()), n))
      out.emplace_back(n, it->path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool contains_cpu(std::string_view text) {
  for (std::size_t i = 0; i + 3 <= text.size(); ++i) {
    auto c = [&](std::size_t k) { return static_cast<char>(text[i + k] | 0x20); };
    if (c(0) == 'c' && c(1) == 'p' && c(2) == 'u')
      return true;
  }
  return false;
}

bool sane_celsius(double c) {
  return c > -50.0 && c < 200.0;
}

} // namespace

void parse_cpuinfo(std::string_view text, cpu_info& out) {
  out.model_name.clear();
  out.logical_cores = 0;
  out.physical_cores.reset();
  out.sockets.reset();
  out.current_mhz.reset();
  std::string_view model, processor_field, hardware;
  std::set<std::pair<long, long>> cores;
  std::set<long> packages;
  long physical_id = -1, core_id = -1;
  double mhz_sum = 0;
  unsigned mhz_count = 0;
  auto end_of_block = [&] {
    if (physical_id >= 0 && core_id >= 0)
      cores.emplace(physical_id, core_id);
    if (physical_id >= 0)
      packages.insert(physical_id);
    physical_id = core_id = -1;
  };
  while (!text.empty()) {
    auto line = next_line(text);
    auto colon = line.find(':');
    if (colon == std::string_view::npos) {
      if (trim(line).empty())
        end_of_block();
      continue;
    }
    auto key = trim(line.substr(0, colon));
    auto value = trim(line.substr(colon + 1));
    if (key == "processor") {
      ++out.logical_cores;
    } else if (key == "model name") {
      if (model.empty())
        model = value;
    } else if (key == "Processor") {
      if (processor_field.empty())
        processor_field = value;
    } else if (key == "Hardware") {
      if (hardware.empty())
        hardware = value;
    } else if (key == "physical id") {
      parse_integer(value, physical_id);
    } else if (key == "core id") {
      parse_integer(value, core_id);
    } else if (key == "cpu MHz") {
      double mhz = 0;
      if (parse_double(value, mhz) && mhz > 0) {
        mhz_sum += mhz;
        ++mhz_count;
      }
    }
  }
  end_of_block();
  out.model_name = !model.empty() ? model : !processor_field.empty() ? processor_field : hardware;
  if (!cores.empty())
    out.physical_cores = static_cast<unsigned>(cores.size());
  if (!packages.empty())
    out.sockets = static_cast<unsigned>(packages.size());
  if (mhz_count > 0)
    out.current_mhz = mhz_sum / mhz_count;
}

cpu_info_reader::cpu_info_reader(const fs::path& root)
    : root_(root)
    , cpuinfo_path_(path_under(root, "proc/cpuinfo"))
    , file_(16384) {}

cpu_info cpu_info_reader::read() {
  cpu_info info;
  parse_cpuinfo(file_.read(cpuinfo_path_), info);
  discover_frequency_files();
  if (!frequency_files_.empty()) {
    if (auto mhz = read_current_mhz())
      info.current_mhz = mhz;
  }
  info.temperature_celsius = read_temperature_celsius();
  if (info.temperature_celsius)
    info.temperature_sensor = sensor_name_;
  return info;
}

std::optional<double> cpu_info_reader::read_number(const std::string& path) {
  std::string_view text;
  if (file_.read_at(AT_FDCWD, path.c_str(), text, 64) != 0)
    return std::nullopt;
  std::int64_t value = 0;
  if (!parse_integer(trim(text), value))
    return std::nullopt;
  return static_cast<double>(value);
}

void cpu_info_reader::discover_frequency_files() {
  if (frequency_discovered_)
    return;
  frequency_discovered_ = true;
  frequency_files_.clear();
  for (auto& [n, dir] : numbered_entries(root_ / "sys/devices/system/cpu", "cpu")) {
    auto file = dir / "cpufreq/scaling_cur_freq";
    std::error_code ec;
    if (fs::exists(file, ec))
      frequency_files_.push_back(file.string());
  }
}

std::optional<double> cpu_info_reader::read_current_mhz() {
  discover_frequency_files();
  double sum_khz = 0;
  unsigned count = 0;
  for (const auto& file : frequency_files_) {
    if (auto khz = read_number(file); khz && *khz > 0) {
      sum_khz += *khz;
      ++count;
    }
  }
  if (count > 0)
    return sum_khz / count / 1000.0;
  if (!frequency_files_.empty())
    frequency_discovered_ = false; // CPUs went away: look again next time
  std::string_view text;
  if (file_.read_at(AT_FDCWD, cpuinfo_path_.c_str(), text) != 0)
    return std::nullopt;
  cpu_info parsed;
  parse_cpuinfo(text, parsed);
  return parsed.current_mhz;
}

void cpu_info_reader::discover_temperature_sensor() {
  sensor_discovered_ = true;
  sensor_file_.clear();
  sensor_name_.clear();
  int best = 0;
  auto consider = [&](int score, const fs::path& file, std::string name) {
    if (score <= best)
      return;
    auto value = read_number(file.string());
    if (!value || !sane_celsius(*value / 1000.0))
      return;
    best = score;
    sensor_file_ = file.string();
    sensor_name_ = std::move(name);
  };
  auto read_text = [&](const fs::path& file) -> std::string {
    std::string_view text;
    if (file_.read_at(AT_FDCWD, file.c_str(), text, 256) != 0)
      return {};
    return std::string(trim(text));
  };

  for (auto& [n, dir] : numbered_entries(root_ / "sys/class/thermal", "thermal_zone")) {
    auto type = read_text(dir / "type");
    int score = type == "x86_pkg_temp" ? 100 : contains_cpu(type) ? 60 : 10;
    consider(score, dir / "temp", dir.filename().string() + " (" + type + ")");
  }
  for (auto& [n, dir] : numbered_entries(root_ / "sys/class/hwmon", "hwmon")) {
    auto name = read_text(dir / "name");
    int score = (name == "coretemp" || name == "k10temp" || name == "zenpower") ? 90
                : contains_cpu(name)                                            ? 55
                                                                                : 0;
    if (score == 0)
      continue;
    // The package/die reading if labelled, else the lowest-numbered input.
    static constexpr std::string_view preferred[] = {"Package id 0", "Tdie", "Tctl"};
    fs::path chosen;
    std::string chosen_label;
    std::size_t chosen_rank = std::size(preferred) + 1;
    unsigned lowest = ~0u;
    std::error_code ec;
    for (fs::directory_iterator it{dir, ec}, end; !ec && it != end; it.increment(ec)) {
      auto file = it->path().filename().string();
      std::string_view f{file};
      unsigned index = 0;
      if (f.size() < 11 || f.substr(0, 4) != "temp" || f.substr(f.size() - 6) != "_input" ||
          !parse_integer(f.substr(4, f.size() - 10), index))
        continue;
      auto label = read_text(dir / ("temp" + std::to_string(index) + "_label"));
      std::size_t rank = std::size(preferred);
      for (std::size_t r = 0; r < std::size(preferred); ++r)
        if (label == preferred[r])
          rank = r;
      if (rank < chosen_rank || (rank == chosen_rank && index < lowest)) {
        chosen_rank = rank;
        lowest = index;
        chosen = it->path();
        chosen_label = label;
      }
    }
    if (!chosen.empty())
      consider(score, chosen,
               dir.filename().string() + " (" + name +
                   (chosen_label.empty() ? std::string{} : ", " + chosen_label) + ")");
  }
}

std::optional<double> cpu_info_reader::read_temperature_celsius() {
  // A chosen sensor that stopped answering (module unloaded) is replaced at once.
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!sensor_discovered_)
      discover_temperature_sensor();
    if (sensor_file_.empty())
      return std::nullopt;
    if (auto value = read_number(sensor_file_); value && sane_celsius(*value / 1000.0))
      return *value / 1000.0;
    sensor_discovered_ = false;
  }
  return std::nullopt;
}

} // namespace vigil::proc
