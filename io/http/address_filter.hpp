#pragma once

#include <boost/asio/ip/address.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vigil {

// An address as 16 bytes, IPv4 as IPv4-mapped IPv6 (::ffff:a.b.c.d): a client seen on a
// dual-stack socket as ::ffff:10.1.2.3 is the same client as 10.1.2.3.
using ip_address_bytes = std::array<std::uint8_t, 16>;
ip_address_bytes canonical_bytes(const boost::asio::ip::address& address);

// An IP network (CIDR). IPv4 networks are kept in mapped form with the prefix offset by 96, so
// they match both plain and mapped IPv4 clients; an IPv6 network covering ::ffff:0:0/96 (::/0
// included) therefore matches IPv4 clients too.
class ip_network {
public:
  // Clears host bits past the prefix; throws std::invalid_argument when the prefix is longer
  // than the address. Config text goes through parse_cidr, which refuses host bits instead.
  ip_network(const boost::asio::ip::address& network, unsigned prefix_length);

  bool contains(const boost::asio::ip::address& address) const;
  // As written in a config: "10.0.0.0/8", "fd00::/8".
  std::string to_string() const;

private:
  ip_address_bytes network_;
  unsigned mapped_prefix_length_; // of the 128 bits of network_
  bool v4_;
};

// "10.0.0.0/8", "192.168.1.7" (= /32), "::1/128", "fd00::/8". A network with host bits set
// ("10.0.0.1/8") is refused rather than masked: an allow-list entry that admits more than it
// spells out is more likely a typo than intended. On failure returns nullopt and sets `error`
// to a phrase starting with the quoted text: "\"10.0.0.0/33\" is not a CIDR: ...".
std::optional<ip_network> parse_cidr(std::string_view text, std::string& error);

// A client address allow-list; empty allows everyone.
class address_filter {
public:
  address_filter() = default;
  // Throws std::invalid_argument naming the first bad entry: "allow_from[2]: \"x\" is not...".
  explicit address_filter(const std::vector<std::string>& cidrs);

  bool allows(const boost::asio::ip::address& address) const;
  bool allows_everyone() const { return networks_.empty(); }

private:
  std::vector<ip_network> networks_;
};

} // namespace vigil
