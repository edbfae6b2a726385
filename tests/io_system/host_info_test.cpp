#include "io/system/host_info.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fstream>
#include <unistd.h>

using namespace vigil;

TEST(host_info, hostname_matches_the_kernel) {
  char name[256] = {};
  ASSERT_EQ(gethostname(name, sizeof name - 1), 0);
  EXPECT_EQ(read_host_info().hostname, name);
}

TEST(host_info, primary_ip_is_a_valid_ipv4_and_not_loopback_when_others_exist) {
  auto info = read_host_info();
  in_addr a{};
  ASSERT_EQ(inet_pton(AF_INET, info.primary_ip.c_str(), &a), 1) << info.primary_ip;
  bool has_v4 = false;
  for (auto& ip : info.ips)
    has_v4 |= inet_pton(AF_INET, ip.c_str(), &a) == 1;
  if (has_v4) {
    EXPECT_NE(info.primary_ip.rfind("127.", 0), 0u) << info.primary_ip;
  }
  for (auto& ip : info.ips)
    EXPECT_NE(ip, "127.0.0.1");
}

TEST(host_info, missing_route_table_falls_back_to_an_address) {
  auto info = read_host_info("/nonexistent/route");
  EXPECT_FALSE(info.primary_ip.empty());
}
