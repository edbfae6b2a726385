#include "io/http/address_filter.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace vigil {
namespace {

boost::asio::ip::address ip(const char* text) {
  return boost::asio::ip::make_address(text);
}

ip_network cidr(const char* text) {
  std::string error;
  auto network = parse_cidr(text, error);
  EXPECT_TRUE(network) << error;
  return network.value_or(ip_network{ip("255.255.255.255"), 32});
}

TEST(Cidr, Ipv4NetworkMatchesItsAddressesOnly) {
  auto network = cidr("10.0.0.0/8");
  EXPECT_EQ(network.to_string(), "10.0.0.0/8");
  EXPECT_TRUE(network.contains(ip("10.0.0.0")));
  EXPECT_TRUE(network.contains(ip("10.255.255.255")));
  EXPECT_FALSE(network.contains(ip("11.0.0.0")));
  EXPECT_FALSE(network.contains(ip("9.255.255.255")));
  auto odd = cidr("192.168.4.0/22"); // a prefix that splits a byte
  EXPECT_TRUE(odd.contains(ip("192.168.7.255")));
  EXPECT_FALSE(odd.contains(ip("192.168.8.0")));
  EXPECT_FALSE(odd.contains(ip("192.168.3.255")));
}

TEST(Cidr, BareAddressIsAHostNetwork) {
  auto v4 = cidr("192.168.1.7");
  EXPECT_EQ(v4.to_string(), "192.168.1.7/32");
  EXPECT_TRUE(v4.contains(ip("192.168.1.7")));
  EXPECT_FALSE(v4.contains(ip("192.168.1.8")));
  auto v6 = cidr("::1");
  EXPECT_EQ(v6.to_string(), "::1/128");
  EXPECT_TRUE(v6.contains(ip("::1")));
  EXPECT_FALSE(v6.contains(ip("::2")));
}

TEST(Cidr, Ipv6Networks) {
  auto loopback = cidr("::1/128");
  EXPECT_TRUE(loopback.contains(ip("::1")));
  EXPECT_FALSE(loopback.contains(ip("127.0.0.1"))); // IPv6 loopback is not IPv4 loopback
  auto unique_local = cidr("fd00::/8");
  EXPECT_EQ(unique_local.to_string(), "fd00::/8");
  EXPECT_TRUE(unique_local.contains(ip("fd12:3456::1")));
  EXPECT_FALSE(unique_local.contains(ip("fe80::1")));
  EXPECT_FALSE(unique_local.contains(ip("10.0.0.1")));
}

TEST(Cidr, MappedIpv4ClientMatchesIpv4Networks) {
  auto network = cidr("10.0.0.0/8");
  EXPECT_TRUE(network.contains(ip("::ffff:10.1.2.3")));
  EXPECT_FALSE(network.contains(ip("::ffff:11.1.2.3")));
  // An IPv6 address whose last 32 bits happen to be 10.x is not an IPv4 client.
  EXPECT_FALSE(network.contains(ip("::10.1.2.3")));
  EXPECT_FALSE(network.contains(ip("fd00::a01:203")));
  EXPECT_TRUE(cidr("0.0.0.0/0").contains(ip("::ffff:1.2.3.4")));
  EXPECT_FALSE(cidr("0.0.0.0/0").contains(ip("fd00::1")));
}

TEST(Cidr, ZeroPrefixMatchesEveryAddressOfItsFamily) {
  EXPECT_TRUE(cidr("0.0.0.0/0").contains(ip("203.0.113.9")));
  EXPECT_TRUE(cidr("::/0").contains(ip("2001:db8::1")));
}

TEST(Cidr, BadInputsAreRefusedWithAReason) {
  struct bad_case {
    const char* text;
    const char* reason;
  };
  for (auto [text, reason] : {
           bad_case{"10.0.0.0/33", "from 0 to 32 for IPv4"},
           bad_case{"::/129", "from 0 to 128 for IPv6"},
           bad_case{"10.0.0.0/", "prefix length"},
           bad_case{"10.0.0.0/-1", "prefix length"},
           bad_case{"10.0.0.0/+8", "prefix length"},
           bad_case{"10.0.0.0/8/8", "prefix length"},
           bad_case{"10.0.0.0/0008", "prefix length"},
           bad_case{"10.0.0.0/ 8", "prefix length"},
           bad_case{"", "is not an IP address"},
           bad_case{"/8", "is not an IP address"},
           bad_case{"10.0.0/8", "is not an IP address"},
           bad_case{"256.0.0.0/8", "is not an IP address"},
           bad_case{" 10.0.0.0/8", "is not an IP address"},
           bad_case{"localhost", "is not an IP address"},
           bad_case{"fe80::1%lo/64", "zone index"},
           bad_case{"10.0.0.1/8", "host bits are set after the /8 prefix (the network would be "
                                  "10.0.0.0/8)"},
           bad_case{"fd00::1/8", "host bits"},
       }) {
    std::string error;
    EXPECT_FALSE(parse_cidr(text, error)) << text;
    EXPECT_EQ(error.rfind("\"" + std::string(text) + "\" is not a CIDR: ", 0), 0u) << error;
    EXPECT_NE(error.find(reason), std::string::npos) << error;
  }
}

TEST(AddressFilter, EmptyAllowsEveryone) {
  address_filter everyone;
  EXPECT_TRUE(everyone.allows_everyone());
  EXPECT_TRUE(everyone.allows(ip("203.0.113.9")));
  EXPECT_TRUE(address_filter{std::vector<std::string>{}}.allows(ip("2001:db8::1")));
}

TEST(AddressFilter, AllowsAnyListedNetwork) {
  address_filter filter{{"127.0.0.2/32", "10.0.0.0/8", "fd00::/8"}};
  EXPECT_FALSE(filter.allows_everyone());
  EXPECT_TRUE(filter.allows(ip("127.0.0.2")));
  EXPECT_TRUE(filter.allows(ip("10.9.8.7")));
  EXPECT_TRUE(filter.allows(ip("::ffff:10.9.8.7")));
  EXPECT_TRUE(filter.allows(ip("fd00::7")));
  EXPECT_FALSE(filter.allows(ip("127.0.0.1")));
  EXPECT_FALSE(filter.allows(ip("::1")));
}

TEST(AddressFilter, BadEntryThrowsNamingItsIndexAndText) {
  try {
    address_filter filter{{"10.0.0.0/8", "::1/128", "10.0.0.0/33"}};
    FAIL() << "bad entry accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()).rfind("allow_from[2]: \"10.0.0.0/33\" is not a CIDR: ", 0), 0u)
        << e.what();
  }
}

} // namespace
} // namespace vigil
