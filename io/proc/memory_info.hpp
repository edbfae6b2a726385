#pragma once

// /proc/meminfo: RAM and swap.

#include "io/proc/proc_file.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace vigil::proc {

// All sizes in bytes; percentages 0–100.
struct memory_info {
  std::uint64_t total = 0;     // MemTotal
  std::uint64_t free = 0;      // MemFree: unused at all
  std::uint64_t available = 0; // MemAvailable (kernel's estimate of what can be allocated
                               // without swapping); free + buffers + cached before Linux 3.14
  std::uint64_t used = 0;      // total − available
  std::uint64_t buffers = 0;   // Buffers
  std::uint64_t cached = 0;    // Cached + SReclaimable (page cache and reclaimable slab)
  std::uint64_t shared = 0;    // Shmem (tmpfs, shared memory; part of cached)
  std::uint64_t swap_total = 0;
  std::uint64_t swap_free = 0;
  std::uint64_t swap_used = 0;      // swap_total − swap_free
  double used_percent = 0;          // used / total
  double swap_used_percent = 0;     // swap_used / swap_total; 0 without swap
  bool available_estimated = false; // no MemAvailable line (kernel before 3.14)
};

// Throws std::runtime_error naming `origin` when MemTotal is missing.
memory_info parse_memory_info(std::string_view text, std::string_view origin);

class memory_info_reader {
public:
  explicit memory_info_reader(const std::filesystem::path& root = "/");
  // Throws std::system_error / std::runtime_error naming the file.
  memory_info read();

private:
  std::string path_;
  proc_file_reader file_;
};

} // namespace vigil::proc
