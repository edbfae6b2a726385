#pragma once

// Host attributes that go with every event and report: they may change at run time
// (DHCP, hostnamectl), so callers refresh them periodically.

#include <string>
#include <vector>

namespace vigil {

struct host_info {
  std::string hostname;
  std::string primary_ip;       // IPv4 of the default-route interface, else the first non-loopback
  std::vector<std::string> ips; // every non-loopback address, IPv4 and IPv6
};

/// Reads the current hostname and addresses. `route_table` is /proc/net/route.
host_info read_host_info(const std::string& route_table = "/proc/net/route");

} // namespace vigil
