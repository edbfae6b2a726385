#pragma once

// /proc/diskstats: I/O counters per block device, and the rate calculator over two samples.

#include "io/proc/proc_file.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::proc {

// Counters since boot (or since the device appeared).
struct disk_counters {
  std::string name; // "sda", "nvme0n1", "dm-0", "md0"
  std::uint32_t major = 0;
  std::uint32_t minor = 0;
  bool partition = false;  // "sda1", "nvme0n1p2" (only kept with include_partitions)
  std::uint64_t reads = 0; // completed read I/Os
  std::uint64_t reads_merged = 0;
  std::uint64_t read_bytes = 0;   // sectors read × 512 (the file always counts 512-byte sectors)
  std::uint64_t read_time_ms = 0; // time spent reading, ms
  std::uint64_t writes = 0;       // completed write I/Os
  std::uint64_t writes_merged = 0;
  std::uint64_t write_bytes = 0; // sectors written × 512
  std::uint64_t write_time_ms = 0;
  std::uint64_t in_flight = 0;  // I/Os in progress now (a gauge, not a counter)
  std::uint64_t io_time_ms = 0; // time the device had I/O in flight (busy), ms
  std::uint64_t weighted_io_time_ms = 0;
};

struct disk_stats_sample {
  std::vector<disk_counters> devices; // file order
};

struct disk_stats_options {
  // Devices whose name starts with one of these are skipped (RAM-backed or virtual).
  std::vector<std::string> excluded_prefixes = {"loop", "ram", "zram", "fd"};
  // Partitions ("sda1", "nvme0n1p1", "mmcblk0p1") are skipped unless set: their I/O is already
  // counted in their disk. dm-* and md* devices are kept.
  bool include_partitions = false;
};

// A partition by the kernel's naming rule: the name of another listed device followed by digits,
// or by "p" and digits when that device's name ends in a digit ("md1" vs "md12" are both disks).
bool is_partition_name(std::string_view name, const std::vector<std::string_view>& all_names);

// Device-mapper and software RAID devices, which sit on top of other disks.
bool is_stacked_device(std::string_view name);

// Lines with fewer than 14 fields (pre-2.6.25 partition lines) are skipped.
void parse_disk_stats(std::string_view text, disk_stats_sample& out,
                      const disk_stats_options& options = {});

class disk_stats_reader {
public:
  explicit disk_stats_reader(const std::filesystem::path& root = "/",
                             disk_stats_options options = {});
  // Throws std::system_error naming the file.
  void read(disk_stats_sample& out);
  disk_stats_sample read();

private:
  std::string path_;
  disk_stats_options options_;
  proc_file_reader file_;
};

struct disk_rates {
  std::string name;
  double read_bytes_per_second = 0;
  double write_bytes_per_second = 0;
  double reads_per_second = 0; // completed read I/Os per second
  double writes_per_second = 0;
  double iops = 0;            // reads + writes per second
  double busy_percent = 0;    // io_time delta / elapsed, 0–100 (%util)
  double average_read_ms = 0; // read time per completed read in the interval (await)
  double average_write_ms = 0;
};

struct disk_io_rates {
  std::vector<disk_rates> devices; // devices present in both samples with sane counters
  // Sums over the listed whole physical disks: partitions and stacked devices (dm-*, md*) are
  // left out, their I/O is already counted on the disks below them.
  double read_bytes_per_second = 0;
  double write_bytes_per_second = 0;
  double iops = 0;
};

// Pure function of two samples. Devices are matched by name; a device that appeared, or whose
// counters were reset, is left out for this interval; 32-bit wraps are accounted for (see
// counter_delta). Empty when elapsed <= 0.
disk_io_rates compute_disk_rates(const disk_stats_sample& previous,
                                 const disk_stats_sample& current,
                                 std::chrono::duration<double> elapsed);

} // namespace vigil::proc
