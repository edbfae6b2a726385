#pragma once

// What the backend's /api/system_info receives: the host's hardware and OS, read from
// /etc/os-release, uname, /proc and /sys (the seed ran a one-off script at install time;
// vigil sends it at start and whenever it changes).

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace vigil {

struct system_profile {
  std::string os_name;    // os-release PRETTY_NAME, e.g. "Debian GNU/Linux 12 (bookworm)"
  std::string os_id;      // ID, e.g. "debian"
  std::string os_version; // VERSION_ID, e.g. "12"
  std::string kernel;     // uname release
  std::string architecture;
  std::string hostname;
  std::string primary_ip;
  std::vector<std::string> ips;
  std::string mac_address; // of the primary interface; empty when unknown
  uint64_t memory_total_bytes = 0;
  uint64_t disk_total_bytes = 0; // the root file system
  unsigned logical_cores = 0;
  std::optional<unsigned> physical_cores;
  std::string cpu_model;
};

/// Reads the profile of the machine `root` describes ("/" in production).
system_profile read_system_profile(const std::filesystem::path& root = "/");

} // namespace vigil
