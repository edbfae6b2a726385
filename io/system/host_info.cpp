#include "io/system/host_info.hpp"

#include <arpa/inet.h>
#include <fstream>
#include <ifaddrs.h>
#include <net/if.h>
#include <sstream>
#include <unistd.h>

namespace vigil {

namespace {

// The interface carrying the IPv4 default route (destination 00000000).
std::string default_route_interface(const std::string& route_table) {
  std::ifstream in{route_table};
  std::string line;
  std::getline(in, line); // header
  while (std::getline(in, line)) {
    std::istringstream fields{line};
    std::string iface, destination;
    if (fields >> iface >> destination && destination == "00000000")
      return iface;
  }
  return {};
}

} // namespace

host_info read_host_info(const std::string& route_table) {
  host_info info;
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) == 0)
    info.hostname = name;
  auto route_iface = default_route_interface(route_table);
  std::string first_v4;
  std::string first_v4_interface;
  ifaddrs* addrs = nullptr;
  if (::getifaddrs(&addrs) == 0) {
    for (auto* a = addrs; a != nullptr; a = a->ifa_next) {
      if (a->ifa_addr == nullptr || (a->ifa_flags & IFF_LOOPBACK) != 0)
        continue;
      char buf[INET6_ADDRSTRLEN] = {};
      auto family = a->ifa_addr->sa_family;
      if (family == AF_INET) {
        inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(a->ifa_addr)->sin_addr, buf, sizeof buf);
        if (first_v4.empty()) {
          first_v4 = buf;
          first_v4_interface = a->ifa_name;
        }
        if (info.primary_ip.empty() && route_iface == a->ifa_name) {
          info.primary_ip = buf;
          info.primary_interface = a->ifa_name;
        }
      } else if (family == AF_INET6) {
        inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(a->ifa_addr)->sin6_addr, buf,
                  sizeof buf);
      } else {
        continue;
      }
      info.ips.emplace_back(buf);
    }
    ::freeifaddrs(addrs);
  }
  if (info.primary_ip.empty()) {
    info.primary_ip = first_v4.empty() ? "127.0.0.1" : first_v4;
    info.primary_interface = first_v4_interface;
  }
  return info;
}

} // namespace vigil
