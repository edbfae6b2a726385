#pragma once

// Counts of TCP sockets by state from /proc/net/tcp and /proc/net/tcp6.

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::proc {

// The kernel's numbering (include/net/tcp_states.h).
enum class tcp_state : std::uint8_t {
  established = 1,
  syn_sent,
  syn_recv,
  fin_wait1,
  fin_wait2,
  time_wait,
  close,
  close_wait,
  last_ack,
  listen,
  closing,
  new_syn_recv,
};

// "ESTABLISHED", "TIME_WAIT", ...; "UNKNOWN" outside the range.
std::string_view tcp_state_name(tcp_state state);

struct tcp_state_counts {
  std::array<std::uint64_t, 13> by_state{}; // indexed by the tcp_state value; [0] unused
  std::uint64_t unknown = 0;                // states outside 1–12
  std::uint64_t total = 0;                  // every socket line, IPv4 and IPv6

  std::uint64_t count(tcp_state state) const { return by_state[static_cast<std::size_t>(state)]; }
};

// Adds the socket lines of one /proc/net/tcp{,6} text (header line included or not) to `counts`.
// Throws std::runtime_error naming `origin` on a line without a state field.
void count_tcp_states(std::string_view text, tcp_state_counts& counts, std::string_view origin);

class tcp_states_reader {
public:
  explicit tcp_states_reader(const std::filesystem::path& root = "/");
  // Streams both files through a fixed 64 KiB buffer (they can be megabytes with many
  // connections). A missing tcp6 (IPv6 disabled) counts nothing; a missing tcp throws
  // std::system_error naming it.
  tcp_state_counts read();

private:
  void read_file(const std::string& path, bool required, tcp_state_counts& counts);

  std::string tcp_path_;
  std::string tcp6_path_;
  std::vector<char> buffer_;
};

} // namespace vigil::proc
