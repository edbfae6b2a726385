#include "io/http/address_filter.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace vigil {

namespace {

namespace ip = boost::asio::ip;

constexpr unsigned mapped_v4_prefix = 96; // ::ffff:0:0/96 holds the IPv4-mapped addresses

unsigned max_prefix_length(const ip::address& address) {
  return address.is_v4() ? 32 : 128;
}

// The prefix length counted over the 16 bytes of canonical_bytes().
unsigned mapped_prefix_length(const ip::address& address, unsigned prefix_length) {
  return address.is_v4() ? mapped_v4_prefix + prefix_length : prefix_length;
}

// Clears every bit after the first `prefix_length` bits.
ip_address_bytes masked(ip_address_bytes bytes, unsigned prefix_length) {
  for (unsigned i = 0; i < bytes.size(); ++i) {
    unsigned kept = prefix_length > i * 8 ? std::min(8u, prefix_length - i * 8) : 0;
    bytes[i] &= static_cast<std::uint8_t>(0xFF00u >> kept);
  }
  return bytes;
}

} // namespace

ip_address_bytes canonical_bytes(const ip::address& address) {
  if (address.is_v4())
    return ip::make_address_v6(ip::v4_mapped, address.to_v4()).to_bytes();
  return address.to_v6().to_bytes();
}

ip_network::ip_network(const ip::address& network, unsigned prefix_length)
    : v4_(network.is_v4()) {
  if (prefix_length > max_prefix_length(network))
    throw std::invalid_argument("ip_network: prefix length " + std::to_string(prefix_length) +
                                " is too long for " + network.to_string());
  mapped_prefix_length_ = mapped_prefix_length(network, prefix_length);
  network_ = masked(canonical_bytes(network), mapped_prefix_length_);
}

bool ip_network::contains(const ip::address& address) const {
  return masked(canonical_bytes(address), mapped_prefix_length_) == network_;
}

std::string ip_network::to_string() const {
  if (v4_) {
    ip::address_v4::bytes_type v4;
    std::copy(network_.begin() + 12, network_.end(), v4.begin());
    return ip::address_v4(v4).to_string() + "/" +
           std::to_string(mapped_prefix_length_ - mapped_v4_prefix);
  }
  return ip::address_v6(network_).to_string() + "/" + std::to_string(mapped_prefix_length_);
}

std::optional<ip_network> parse_cidr(std::string_view text, std::string& error) {
  auto refuse = [&](const std::string& why) {
    error = "\"" + std::string(text) + "\" is not a CIDR: " + why;
    return std::nullopt;
  };
  auto slash = text.find('/');
  auto address_text = std::string(text.substr(0, slash));
  // make_address would take "fe80::1%eth0"; a zone means nothing in a network.
  if (address_text.find('%') != std::string::npos)
    return refuse("a zone index (%...) is not allowed");
  boost::system::error_code ec;
  auto address = ip::make_address(address_text, ec);
  if (ec)
    return refuse("\"" + address_text + "\" is not an IP address");
  unsigned max_length = max_prefix_length(address);
  unsigned prefix_length = max_length;
  if (slash != std::string_view::npos) {
    auto digits = text.substr(slash + 1);
    auto range_error = "the prefix length after / must be a number from 0 to " +
                       std::to_string(max_length) + (address.is_v4() ? " for IPv4" : " for IPv6");
    if (digits.empty() || digits.size() > 3 ||
        !std::all_of(digits.begin(), digits.end(),
                     [](unsigned char c) { return std::isdigit(c) != 0; }))
      return refuse(range_error);
    prefix_length = static_cast<unsigned>(std::stoul(std::string(digits)));
    if (prefix_length > max_length)
      return refuse(range_error);
  }
  ip_network network{address, prefix_length};
  auto bytes = canonical_bytes(address);
  if (masked(bytes, mapped_prefix_length(address, prefix_length)) != bytes)
    return refuse("host bits are set after the /" + std::to_string(prefix_length) +
                  " prefix (the network would be " + network.to_string() + ")");
  return network;
}

address_filter::address_filter(const std::vector<std::string>& cidrs) {
  networks_.reserve(cidrs.size());
  for (std::size_t i = 0; i < cidrs.size(); ++i) {
    std::string error;
    auto network = parse_cidr(cidrs[i], error);
    if (!network)
      throw std::invalid_argument("allow_from[" + std::to_string(i) + "]: " + error);
    networks_.push_back(*network);
  }
}

bool address_filter::allows(const ip::address& address) const {
  return networks_.empty() ||
         std::any_of(networks_.begin(), networks_.end(),
                     [&](const ip_network& network) { return network.contains(address); });
}

} // namespace vigil
