#pragma once

// Telemetry as plain data: the sections the collectors measure and the snapshot the
// telemetry_hub merges them into. Everything travels as std::shared_ptr<const T>: a
// section or snapshot is built once, never changed, and shared by every receiver without
// copies. The JSON shape is actors/telemetry_json (docs/telemetry-format.md).
//
// Units: percentages 0–100 (process and user CPU: 100 = one core, as `top` shows it),
// sizes in bytes, rates per second, times as wall-clock milliseconds since the epoch.

#include <caf/allowed_unsafe_message_type.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace vigil {

using wall_time = std::chrono::time_point<std::chrono::system_clock, std::chrono::milliseconds>;

// --- cpu_collector: /proc/stat, /proc/loadavg, /proc/uptime, /proc/cpuinfo, /sys -----------------

struct cpu_modes_percent {
  double user = 0;   // minus guest
  double nice = 0;   // minus guest_nice
  double system = 0; // kernel
  double irq = 0;    // irq + softirq
  double iowait = 0;
  double steal = 0;
  double guest = 0;
  double idle = 0;
};

struct cpu_core_usage {
  int id = 0;                          // N of cpuN
  std::optional<double> usage_percent; // nullopt: the core just appeared or its counters reset
};

struct cpu_section {
  wall_time sampled_at{};
  std::optional<double> usage_percent; // all CPUs: 100 − idle − iowait
  std::optional<cpu_modes_percent> modes;
  std::vector<cpu_core_usage> cores;
  unsigned logical_cores = 0;
  std::optional<unsigned> physical_cores;
  std::optional<unsigned> sockets;
  std::string model;
  std::optional<double> frequency_mhz;
  std::optional<double> temperature_celsius;
  std::string temperature_sensor;
  std::optional<double> context_switches_per_second;
  std::optional<double> processes_created_per_second;
  std::uint32_t procs_running = 0;
  std::uint32_t procs_blocked = 0;
  double load_one = 0;
  double load_five = 0;
  double load_fifteen = 0;
  double uptime_seconds = 0;
  std::int64_t boot_time = 0; // seconds since the epoch
};

// --- memory_collector: /proc/meminfo -------------------------------------------------------------

struct memory_section {
  wall_time sampled_at{};
  std::uint64_t total_bytes = 0;
  std::uint64_t available_bytes = 0;
  std::uint64_t used_bytes = 0; // total − available
  std::uint64_t free_bytes = 0;
  std::uint64_t buffers_bytes = 0;
  std::uint64_t cached_bytes = 0;
  std::uint64_t shared_bytes = 0;
  double used_percent = 0;
  std::uint64_t swap_total_bytes = 0;
  std::uint64_t swap_used_bytes = 0;
  std::uint64_t swap_free_bytes = 0;
  double swap_used_percent = 0;
};

// --- disk_collector: /proc/diskstats -------------------------------------------------------------

struct disk_device_rates {
  std::string name;
  double read_bytes_per_second = 0;
  double write_bytes_per_second = 0;
  double reads_per_second = 0;
  double writes_per_second = 0;
  double busy_percent = 0;
  double average_read_ms = 0;
  double average_write_ms = 0;
};

struct disk_io_section {
  wall_time sampled_at{};
  std::vector<disk_device_rates> devices;
  double read_bytes_per_second = 0; // whole physical disks only
  double write_bytes_per_second = 0;
  double iops = 0;
};

// --- network_collector: /proc/net/dev, /proc/net/tcp{,6}
// ------------------------------------------

struct interface_traffic {
  std::string name;
  double rx_bytes_per_second = 0;
  double tx_bytes_per_second = 0;
  double rx_packets_per_second = 0;
  double tx_packets_per_second = 0;
  double rx_errors_per_second = 0;
  double tx_errors_per_second = 0;
  double rx_dropped_per_second = 0;
  double tx_dropped_per_second = 0;
  std::uint64_t rx_bytes = 0; // counters since the interface came up
  std::uint64_t tx_bytes = 0;
};

struct tcp_connection_counts {
  std::uint64_t total = 0;
  std::uint64_t established = 0;
  std::uint64_t listen = 0;
  std::uint64_t time_wait = 0;
  std::uint64_t close_wait = 0;
  std::uint64_t syn_sent = 0;
  std::uint64_t syn_recv = 0;
  std::uint64_t other = 0;
};

struct network_section {
  wall_time sampled_at{};
  std::vector<interface_traffic> interfaces; // present in two consecutive samples
  double rx_bytes_per_second = 0;            // all interfaces but loopback
  double tx_bytes_per_second = 0;
  std::uint64_t rx_bytes = 0; // counters, all interfaces but loopback
  std::uint64_t tx_bytes = 0;
  std::optional<tcp_connection_counts> tcp; // nullopt when /proc/net/tcp cannot be read
};

// --- filesystem_collector: /proc/self/mounts + statvfs on io/proc's worker threads ---------------

struct filesystem_entry {
  std::string device;
  std::string mount_point;
  std::string type;
  bool read_only = false;
  std::string status; // "ok", "stale" (statvfs hung), "unavailable", "error"
  std::string error;
  std::uint64_t total_bytes = 0;
  std::uint64_t used_bytes = 0;
  std::uint64_t available_bytes = 0;
  double used_percent = 0; // as df shows it
  std::uint64_t inodes_total = 0;
  std::uint64_t inodes_used = 0;
  double inodes_used_percent = 0;
};

struct filesystems_section {
  wall_time sampled_at{};
  std::vector<filesystem_entry> filesystems;
};

// --- process_collector: /proc/[pid]
// ---------------------------------------------------------------

struct process_entry {
  std::int32_t pid = 0;
  std::string name;
  std::string user;
  char state = '?';
  double cpu_percent = 0; // 100 = one core
  std::uint64_t rss_bytes = 0;
  double memory_percent = 0;
  std::uint32_t threads = 0;
  std::string cmdline; // secrets masked by io/proc
};

struct user_entry {
  std::string user;
  std::uint32_t uid = 0;
  double cpu_percent = 0; // 100 = one core
  double memory_percent = 0;
  std::uint64_t rss_bytes = 0;
  std::uint32_t processes = 0;
};

struct process_state_totals {
  std::uint32_t running = 0;
  std::uint32_t sleeping = 0;
  std::uint32_t disk_sleep = 0;
  std::uint32_t stopped = 0;
  std::uint32_t zombie = 0;
  std::uint32_t idle = 0;
  std::uint32_t other = 0;
};

struct processes_section {
  wall_time sampled_at{};
  std::uint32_t total = 0;
  std::uint64_t threads = 0;
  process_state_totals states;
  std::vector<process_entry> top_by_cpu; // empty until two walks were compared
  std::vector<process_entry> top_by_memory;
  std::vector<user_entry> users; // after the telemetry.users filters
};

// --- service_collector: systemd units over D-Bus (sd-bus) -----------------------------------

struct service_entry {
  std::string name; // unit, e.g. "nginx.service"
  std::string description;
  std::string status;       // running, stopped, failed, starting, stopping, not-found
  std::string load_state;   // systemd's: loaded, not-found, masked, ...
  std::string active_state; // systemd's: active, inactive, failed, activating, ...
  std::string sub_state;    // systemd's: running, exited, dead, failed, auto-restart, ...
  std::optional<std::uint32_t> main_pid; // services with a main process only
};

struct services_section {
  wall_time sampled_at{};
  bool available = false;         // false: no systemd reachable (or disabled); not an error
  std::string unavailable_reason; // why not available
  bool discovered = false;        // the units were found, not configured (telemetry.services.units)
  std::vector<service_entry> services;
};

// --- container_collector: Docker Engine API on its unix socket ----------------------------------

struct container_entry {
  std::string id;
  std::string name;
  std::string image;
  std::string state;  // Docker's: created, running, paused, restarting, removing, exited, dead
  std::string status; // Docker's text: "Up 2 hours", "Exited (0) 3 days ago"
  std::int64_t created = 0; // seconds since the epoch
};

struct containers_section {
  wall_time sampled_at{};
  bool available = false;         // false: no engine at the socket (or disabled); not an error
  std::string unavailable_reason; // why not available
  std::vector<container_entry> containers;
};

using cpu_section_ptr = std::shared_ptr<const cpu_section>;
using memory_section_ptr = std::shared_ptr<const memory_section>;
using disk_io_section_ptr = std::shared_ptr<const disk_io_section>;
using network_section_ptr = std::shared_ptr<const network_section>;
using filesystems_section_ptr = std::shared_ptr<const filesystems_section>;
using processes_section_ptr = std::shared_ptr<const processes_section>;
using services_section_ptr = std::shared_ptr<const services_section>;
using containers_section_ptr = std::shared_ptr<const containers_section>;

// --- the merged snapshot -------------------------------------------------------------------------

// The sections in snapshot order; the index of section_states.
enum class telemetry_section : std::uint8_t {
  cpu,
  memory,
  disk_io,
  network,
  filesystems,
  processes,
  services,
  containers,
};
constexpr std::size_t telemetry_section_count = 8;

struct section_state {
  std::optional<wall_time> updated_at; // nullopt: never received
  std::chrono::milliseconds interval{0};
  bool stale = false; // not refreshed within 3 × interval (since the hub started, if never)
  std::string error;  // the collector's last failure, cleared by its next good sample
};

// How long a user has been at or above telemetry.users.{cpu,memory}_threshold. Kept in the
// hub's memory; the history store can hand it back after a restart (atom::restore).
struct user_pressure_entry {
  std::string user;
  std::string metric; // "cpu" or "memory"
  wall_time since{};  // first sample of the current run above the threshold
  wall_time last_seen{};
  double peak_percent = 0;
  double sum_percent = 0; // of the samples, for the average
  std::uint32_t samples = 0;
  bool persistent = false; // above the threshold for at least telemetry.users.persistent_after
};

struct user_pressure_state {
  std::vector<user_pressure_entry> users;
};

enum class load_level : std::uint8_t { light, medium, heavy };

struct system_status {
  load_level level = load_level::light;
  std::vector<std::string> reasons; // what put it above light, e.g. "cpu 92.0% >= 80%"
};

struct telemetry_snapshot {
  std::uint64_t sequence = 0; // 1, 2, … per hub incarnation
  wall_time timestamp{};
  std::string node_id;
  std::string hostname;
  cpu_section_ptr cpu; // null until the collector's first sample
  memory_section_ptr memory;
  disk_io_section_ptr disk_io;
  network_section_ptr network;
  filesystems_section_ptr filesystems;
  processes_section_ptr processes;
  services_section_ptr services;
  containers_section_ptr containers;
  std::array<section_state, telemetry_section_count> sections;
  std::vector<user_pressure_entry> user_pressure; // users currently above a threshold
  system_status status;
};

using telemetry_snapshot_ptr = std::shared_ptr<const telemetry_snapshot>;

} // namespace vigil

// Local only, never serialized: immutable data shared by pointer.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(vigil::cpu_section_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(vigil::memory_section_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(vigil::disk_io_section_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(vigil::network_section_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(vigil::filesystems_section_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(vigil::processes_section_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(vigil::services_section_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(vigil::containers_section_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(vigil::telemetry_snapshot_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(vigil::user_pressure_state)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(vigil::telemetry_section)
