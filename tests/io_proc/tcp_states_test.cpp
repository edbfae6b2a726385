#include "io/proc/tcp_states.hpp"
#include "tests/io_proc/proc_fixture.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>

namespace vigil::proc {
namespace {

constexpr std::string_view tcp_header =
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout "
    "inode\n";

std::string v4_line(int slot, const char* state) {
  return "   " + std::to_string(slot) + ": 0100007F:1F90 0100007F:C350 " + state +
         " 00000000:00000000 00:00000000 00000000  1000        0 12345 1 0000000000000000 20 4 "
         "30 10 -1\n";
}

std::string v6_line(int slot, const char* state) {
  return "   " + std::to_string(slot) +
         ": 00000000000000000000000001000000:0016 00000000000000000000000000000000:0000 " + state +
         " 00000000:00000000 00:00000000 00000000     0        0 23456 1 0000000000000000 100 0 0 "
         "10 0\n";
}

TEST(tcp_states, counts_ipv4_and_ipv6_sockets_by_state) {
  test::proc_fixture fx;
  fx.write("proc/net/tcp", std::string(tcp_header) + v4_line(0, "0A") + v4_line(1, "01") +
                               v4_line(2, "01") + v4_line(3, "06"));
  fx.write("proc/net/tcp6", std::string(tcp_header) + v6_line(0, "0A") + v6_line(1, "01") +
                                v6_line(2, "08") + v6_line(3, "0C"));
  auto c = tcp_states_reader{fx.root()}.read();
  EXPECT_EQ(c.count(tcp_state::listen), 2u);
  EXPECT_EQ(c.count(tcp_state::established), 3u);
  EXPECT_EQ(c.count(tcp_state::time_wait), 1u);
  EXPECT_EQ(c.count(tcp_state::close_wait), 1u);
  EXPECT_EQ(c.count(tcp_state::new_syn_recv), 1u);
  EXPECT_EQ(c.count(tcp_state::syn_sent), 0u);
  EXPECT_EQ(c.unknown, 0u);
  EXPECT_EQ(c.total, 8u);
}

TEST(tcp_states, missing_tcp6_counts_nothing_but_missing_tcp_throws) {
  test::proc_fixture fx;
  fx.write("proc/net/tcp", std::string(tcp_header) + v4_line(0, "0A") + v4_line(1, "FF"));
  auto c = tcp_states_reader{fx.root()}.read();
  EXPECT_EQ(c.count(tcp_state::listen), 1u);
  EXPECT_EQ(c.unknown, 1u);
  EXPECT_EQ(c.total, 2u);
  fx.remove("proc/net/tcp");
  try {
    tcp_states_reader{fx.root()}.read();
    FAIL() << "no exception";
  } catch (const std::system_error& e) {
    EXPECT_NE(std::string(e.what()).find("proc/net/tcp"), std::string::npos) << e.what();
  }
}

TEST(tcp_states, files_larger_than_the_buffer_are_counted_across_chunk_boundaries) {
  test::proc_fixture fx;
  std::string text{tcp_header};
  const char* states[] = {"01", "06", "0A", "08", "01", "01", "06"};
  for (int i = 0; i < 7000; ++i)
    text += v4_line(i, states[i % 7]);
  text.pop_back(); // last line without '\n'
  ASSERT_GT(text.size(), 5u * 64 * 1024);
  fx.write("proc/net/tcp", text);
  auto c = tcp_states_reader{fx.root()}.read();
  EXPECT_EQ(c.total, 7000u);
  EXPECT_EQ(c.count(tcp_state::established), 3000u);
  EXPECT_EQ(c.count(tcp_state::time_wait), 2000u);
  EXPECT_EQ(c.count(tcp_state::listen), 1000u);
  EXPECT_EQ(c.count(tcp_state::close_wait), 1000u);
}

TEST(tcp_states, malformed_line_throws_naming_the_file) {
  test::proc_fixture fx;
  fx.write("proc/net/tcp", std::string(tcp_header) + "   0: 0100007F:1F90 0100007F:C350 zz\n");
  try {
    tcp_states_reader{fx.root()}.read();
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("proc/net/tcp"), std::string::npos) << e.what();
  }
}

TEST(tcp_states, names) {
  EXPECT_EQ(tcp_state_name(tcp_state::established), "ESTABLISHED");
  EXPECT_EQ(tcp_state_name(tcp_state::time_wait), "TIME_WAIT");
  EXPECT_EQ(tcp_state_name(tcp_state::listen), "LISTEN");
  EXPECT_EQ(tcp_state_name(tcp_state::new_syn_recv), "NEW_SYN_RECV");
  EXPECT_EQ(tcp_state_name(static_cast<tcp_state>(99)), "UNKNOWN");
}

TEST(tcp_states, real_proc_sees_a_socket_this_test_listens_on) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  auto before = tcp_states_reader{}.read();
  ::close(fd);
  EXPECT_GE(before.count(tcp_state::listen), 1u);
  std::uint64_t sum = before.unknown;
  for (auto n : before.by_state)
    sum += n;
  EXPECT_EQ(sum, before.total);
}

} // namespace
} // namespace vigil::proc
