#pragma once

// /proc/net/dev: traffic counters per interface, and the rate calculator over two samples.

#include "io/proc/proc_file.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::proc {

// Counters since the interface came up (bytes and packets).
struct interface_counters {
  std::string name;
  std::uint64_t rx_bytes = 0;
  std::uint64_t rx_packets = 0;
  std::uint64_t rx_errors = 0;
  std::uint64_t rx_dropped = 0;
  std::uint64_t tx_bytes = 0;
  std::uint64_t tx_packets = 0;
  std::uint64_t tx_errors = 0;
  std::uint64_t tx_dropped = 0;
};

struct network_sample {
  std::vector<interface_counters> interfaces; // file order
};

// Throws std::runtime_error naming `origin` on a malformed interface line.
void parse_network_stats(std::string_view text, network_sample& out, std::string_view origin);

class network_stats_reader {
public:
  explicit network_stats_reader(const std::filesystem::path& root = "/");
  // Throws std::system_error / std::runtime_error naming the file.
  void read(network_sample& out);
  network_sample read();

private:
  std::string path_;
  proc_file_reader file_;
};

struct interface_rates {
  std::string name;
  double rx_bytes_per_second = 0;
  double tx_bytes_per_second = 0;
  double rx_packets_per_second = 0;
  double tx_packets_per_second = 0;
  double rx_errors_per_second = 0;
  double tx_errors_per_second = 0;
  double rx_dropped_per_second = 0;
  double tx_dropped_per_second = 0;
};

struct network_rates {
  // Present in both samples with sane counters, in the order of the current sample.
  std::vector<interface_rates> interfaces;
  // Sums over the listed interfaces except loopback ("lo"), bytes per second.
  double rx_bytes_per_second = 0;
  double tx_bytes_per_second = 0;
  double total_bytes_per_second = 0; // rx + tx
};

// Pure function of two samples. Interfaces are matched by name; one that appeared, or whose
// counters were reset (re-created, driver reload), is left out for this interval; 32-bit wraps
// are accounted for (see counter_delta). Empty when elapsed <= 0.
network_rates compute_network_rates(const network_sample& previous, const network_sample& current,
                                    std::chrono::duration<double> elapsed);

} // namespace vigil::proc
