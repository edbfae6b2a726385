#include "io/proc/disk_stats.hpp"

#include "io/proc/counter_delta.hpp"
#include "io/proc/text_scan.hpp"

#include <algorithm>
#include <optional>

namespace vigil::proc {

using namespace detail;

namespace {

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool excluded(std::string_view name, const std::vector<std::string>& prefixes) {
  for (const auto& p : prefixes)
    if (name.substr(0, p.size()) == p)
      return true;
  return false;
}

} // namespace

bool is_stacked_device(std::string_view name) {
  return name.substr(0, 3) == "dm-" ||
         (name.size() > 2 && name.substr(0, 2) == "md" && name[2] >= '0' && name[2] <= '9');
}

bool is_partition_name(std::string_view name, const std::vector<std::string_view>& all_names) {
  for (auto disk : all_names) {
    if (disk.size() >= name.size() || name.substr(0, disk.size()) != disk)
      continue;
    auto rest = name.substr(disk.size());
    bool disk_ends_in_digit = disk.back() >= '0' && disk.back() <= '9';
    if (disk_ends_in_digit ? (rest.size() > 1 && rest[0] == 'p' && all_digits(rest.substr(1)))
                           : all_digits(rest))
      return true;
  }
  return false;
}

void parse_disk_stats(std::string_view text, disk_stats_sample& out,
                      const disk_stats_options& options) {
  // Pass 1: every name, for the partition test (views into `text`, no copies).
  thread_local std::vector<std::string_view> names;
  names.clear();
  for (auto rest = text; !rest.empty();) {
    auto line = next_line(rest);
    next_token(line);
    next_token(line);
    auto name = next_token(line);
    if (!name.empty())
      names.push_back(name);
  }
  std::size_t count = 0;
  while (!text.empty()) {
    auto line = next_line(text);
    disk_counters d;
    std::uint64_t f[11];
    if (!next_integer(line, d.major) || !next_integer(line, d.minor))
      continue;
    auto name = next_token(line);
    bool ok = !name.empty();
    for (auto& v : f)
      ok = ok && next_integer(line, v);
    if (!ok || excluded(name, options.excluded_prefixes))
      continue;
    bool partition = is_partition_name(name, names);
    if (partition && !options.include_partitions)
      continue;
    if (count == out.devices.size())
      out.devices.emplace_back();
    auto& dev = out.devices[count++];
    dev.name.assign(name);
    dev.major = d.major;
    dev.minor = d.minor;
    dev.partition = partition;
    dev.reads = f[0];
    dev.reads_merged = f[1];
    dev.read_bytes = f[2] * 512;
    dev.read_time_ms = f[3];
    dev.writes = f[4];
    dev.writes_merged = f[5];
    dev.write_bytes = f[6] * 512;
    dev.write_time_ms = f[7];
    dev.in_flight = f[8];
    dev.io_time_ms = f[9];
    dev.weighted_io_time_ms = f[10];
  }
  out.devices.resize(count);
}

disk_stats_reader::disk_stats_reader(const std::filesystem::path& root, disk_stats_options options)
    : path_(path_under(root, "proc/diskstats"))
    , options_(std::move(options)) {}

void disk_stats_reader::read(disk_stats_sample& out) {
  parse_disk_stats(file_.read(path_), out, options_);
}

disk_stats_sample disk_stats_reader::read() {
  disk_stats_sample sample;
  read(sample);
  return sample;
}

disk_io_rates compute_disk_rates(const disk_stats_sample& previous,
                                 const disk_stats_sample& current,
                                 std::chrono::duration<double> elapsed) {
  disk_io_rates rates;
  double seconds = elapsed.count();
  if (seconds <= 0)
    return rates;
  std::size_t hint = 0;
  for (const auto& cur : current.devices) {
    const disk_counters* prev = nullptr;
    if (hint < previous.devices.size() && previous.devices[hint].name == cur.name) {
      prev = &previous.devices[hint];
    } else {
      for (std::size_t i = 0; i < previous.devices.size(); ++i)
        if (previous.devices[i].name == cur.name) {
          prev = &previous.devices[i];
          hint = i;
          break;
        }
    }
    if (!prev)
      continue;
    ++hint;
    auto reads = counter_delta(prev->reads, cur.reads);
    auto writes = counter_delta(prev->writes, cur.writes);
    // Byte counters are sectors × 512: wraps happen on the sector count.
    auto read_sectors = counter_delta(prev->read_bytes / 512, cur.read_bytes / 512);
    auto write_sectors = counter_delta(prev->write_bytes / 512, cur.write_bytes / 512);
    auto read_ms = counter_delta(prev->read_time_ms, cur.read_time_ms);
    auto write_ms = counter_delta(prev->write_time_ms, cur.write_time_ms);
    auto busy_ms = counter_delta(prev->io_time_ms, cur.io_time_ms);
    if (!reads || !writes || !read_sectors || !write_sectors || !read_ms || !write_ms || !busy_ms)
      continue; // reset: no value this interval
    disk_rates r;
    r.name = cur.name;
    r.read_bytes_per_second = static_cast<double>(*read_sectors * 512) / seconds;
    r.write_bytes_per_second = static_cast<double>(*write_sectors * 512) / seconds;
    r.reads_per_second = static_cast<double>(*reads) / seconds;
    r.writes_per_second = static_cast<double>(*writes) / seconds;
    r.iops = r.reads_per_second + r.writes_per_second;
    r.busy_percent = std::min(100.0, static_cast<double>(*busy_ms) / (seconds * 1000.0) * 100.0);
    if (*reads > 0)
      r.average_read_ms = static_cast<double>(*read_ms) / static_cast<double>(*reads);
    if (*writes > 0)
      r.average_write_ms = static_cast<double>(*write_ms) / static_cast<double>(*writes);
    if (!cur.partition && !is_stacked_device(cur.name)) {
      rates.read_bytes_per_second += r.read_bytes_per_second;
      rates.write_bytes_per_second += r.write_bytes_per_second;
      rates.iops += r.iops;
    }
    rates.devices.push_back(std::move(r));
  }
  return rates;
}

} // namespace vigil::proc
