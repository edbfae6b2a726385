#pragma once

// Host attributes that go with every event and report: they may change at run time
// (DHCP, hostnamectl), so callers refresh them periodically.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace vigil {

struct host_info {
  std::string hostname;
  std::string primary_ip;        // IPv4 of the default-route interface, else the first non-loopback
  std::string primary_interface; // the interface primary_ip belongs to (empty: none)
  std::vector<std::string> ips;  // every non-loopback address, IPv4 and IPv6
};

/// Reads the current hostname and addresses. `route_table` is /proc/net/route.
host_info read_host_info(const std::string& route_table = "/proc/net/route");

/// The host attributes re-read at most once per `max_age`: cheap enough to ask per batch.
class cached_host_info {
public:
  explicit cached_host_info(std::chrono::steady_clock::duration max_age = std::chrono::minutes{1})
      : max_age_(max_age) {}

  const host_info&
  get(std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now()) {
    if (!read_at_ || now - *read_at_ >= max_age_) {
      info_ = read_host_info();
      read_at_ = now;
    }
    return info_;
  }

private:
  std::chrono::steady_clock::duration max_age_;
  std::optional<std::chrono::steady_clock::time_point> read_at_;
  host_info info_;
};

} // namespace vigil
