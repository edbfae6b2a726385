#include "io/proc/network_stats.hpp"
#include "tests/io_proc/proc_fixture.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace vigil::proc {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view header =
    "Inter-|   Receive                                                |  Transmit\n"
    " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs "
    "drop fifo colls carrier compressed\n";

TEST(network_stats, parses_every_interface_including_glued_old_format) {
  test::proc_fixture fx;
  fx.write("proc/net/dev", std::string(header) +
                               "    lo: 1000 10 0 0 0 0 0 0 1000 10 0 0 0 0 0 0\n"
                               "  eth0: 5000000 4000 1 2 0 0 0 7 3000000 2000 3 4 0 0 0 0\n"
                               "wlan0:123 1 0 0 0 0 0 0 456 2 0 0 0 0 0 0\n");
  auto s = network_stats_reader{fx.root()}.read();
  ASSERT_EQ(s.interfaces.size(), 3u);
  EXPECT_EQ(s.interfaces[0].name, "lo");
  const auto& eth = s.interfaces[1];
  EXPECT_EQ(eth.name, "eth0");
  EXPECT_EQ(eth.rx_bytes, 5000000u);
  EXPECT_EQ(eth.rx_packets, 4000u);
  EXPECT_EQ(eth.rx_errors, 1u);
  EXPECT_EQ(eth.rx_dropped, 2u);
  EXPECT_EQ(eth.tx_bytes, 3000000u);
  EXPECT_EQ(eth.tx_packets, 2000u);
  EXPECT_EQ(eth.tx_errors, 3u);
  EXPECT_EQ(eth.tx_dropped, 4u);
  EXPECT_EQ(s.interfaces[2].name, "wlan0");
  EXPECT_EQ(s.interfaces[2].rx_bytes, 123u);
  EXPECT_EQ(s.interfaces[2].tx_bytes, 456u);
}

TEST(network_stats, malformed_line_throws_naming_the_file) {
  test::proc_fixture fx;
  fx.write("proc/net/dev", std::string(header) + "  eth0: 1 2 3\n");
  try {
    network_stats_reader{fx.root()}.read();
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("proc/net/dev"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("eth0"), std::string::npos) << e.what();
  }
}

interface_counters iface(std::string name, std::uint64_t rx, std::uint64_t tx,
                         std::uint64_t rx_packets = 0, std::uint64_t tx_packets = 0,
                         std::uint64_t rx_errors = 0, std::uint64_t tx_dropped = 0) {
  interface_counters i;
  i.name = std::move(name);
  i.rx_bytes = rx;
  i.tx_bytes = tx;
  i.rx_packets = rx_packets;
  i.tx_packets = tx_packets;
  i.rx_errors = rx_errors;
  i.tx_dropped = tx_dropped;
  return i;
}

TEST(network_stats, rates_per_interface_and_totals_without_loopback) {
  network_sample prev{{iface("lo", 1000, 1000), iface("eth0", 5000000, 3000000, 4000, 2000, 1, 4)}};
  network_sample cur{
      {iface("lo", 101000, 101000), iface("eth0", 7000000, 4000000, 6000, 2600, 3, 10)}};
  auto r = compute_network_rates(prev, cur, 2s);
  ASSERT_EQ(r.interfaces.size(), 2u);
  const auto& eth = r.interfaces[1];
  EXPECT_EQ(eth.name, "eth0");
  EXPECT_DOUBLE_EQ(eth.rx_bytes_per_second, 1000000.0);
  EXPECT_DOUBLE_EQ(eth.tx_bytes_per_second, 500000.0);
  EXPECT_DOUBLE_EQ(eth.rx_packets_per_second, 1000.0);
  EXPECT_DOUBLE_EQ(eth.tx_packets_per_second, 300.0);
  EXPECT_DOUBLE_EQ(eth.rx_errors_per_second, 1.0);
  EXPECT_DOUBLE_EQ(eth.tx_dropped_per_second, 3.0);
  EXPECT_DOUBLE_EQ(r.interfaces[0].rx_bytes_per_second, 50000.0);
  EXPECT_DOUBLE_EQ(r.rx_bytes_per_second, 1000000.0);
  EXPECT_DOUBLE_EQ(r.tx_bytes_per_second, 500000.0);
  EXPECT_DOUBLE_EQ(r.total_bytes_per_second, 1500000.0);
}

TEST(network_stats, a_32_bit_wrap_is_counted_and_a_reset_drops_the_interface) {
  network_sample prev{{iface("wlan0", 4'294'967'000, 10), iface("eth1", 10'000'000'000, 10),
                       iface("eth2", 1'000'000, 10)}};
  network_sample cur{{iface("wlan0", 704, 10),    // +1000 across the 32-bit wrap
                      iface("eth1", 100, 10),     // 64-bit counter restarted
                      iface("eth2", 10, 10),      // restarted far from the 32-bit top
                      iface("veth9", 500, 500)}}; // new: no rate yet
  auto r = compute_network_rates(prev, cur, 2s);
  ASSERT_EQ(r.interfaces.size(), 1u);
  EXPECT_EQ(r.interfaces[0].name, "wlan0");
  EXPECT_DOUBLE_EQ(r.interfaces[0].rx_bytes_per_second, 500.0);
  EXPECT_DOUBLE_EQ(r.rx_bytes_per_second, 500.0);
  EXPECT_TRUE(compute_network_rates(prev, cur, 0s).interfaces.empty());
}

TEST(network_stats, real_proc_lists_loopback) {
  network_stats_reader reader;
  auto s = reader.read();
  bool has_lo = false;
  for (const auto& i : s.interfaces) {
    EXPECT_FALSE(i.name.empty());
    has_lo |= i.name == "lo";
  }
  EXPECT_TRUE(has_lo);
  auto r = compute_network_rates(s, reader.read(), 1s);
  EXPECT_EQ(r.interfaces.size(), s.interfaces.size());
  for (const auto& i : r.interfaces)
    EXPECT_GE(i.rx_bytes_per_second, 0.0);
}

} // namespace
} // namespace vigil::proc
