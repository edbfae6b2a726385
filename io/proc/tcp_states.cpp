#include "io/proc/tcp_states.hpp"

#include "io/proc/proc_file.hpp"
#include "io/proc/text_scan.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <stdexcept>
#include <system_error>
#include <unistd.h>

namespace vigil::proc {

using namespace detail;

std::string_view tcp_state_name(tcp_state state) {
  static constexpr std::string_view names[] = {
      "UNKNOWN", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",   "TIME_WAIT",
      "CLOSE",   "CLOSE_WAIT",  "LAST_ACK", "LISTEN",   "CLOSING",   "NEW_SYN_RECV"};
  auto i = static_cast<std::size_t>(state);
  return i < std::size(names) ? names[i] : names[0];
}

namespace {

// One line: "  12: 0100007F:0277 00000000:0000 0A 00000000:00000000 ...".
bool count_line(std::string_view line, tcp_state_counts& counts) {
  auto slot = next_token(line);
  if (slot.empty())
    return true; // blank line
  if (slot == "sl")
    return true;    // header
  next_token(line); // local address
  next_token(line); // remote address
  unsigned state = 0;
  if (!parse_integer(next_token(line), state, 16))
    return false;
  ++counts.total;
  if (state >= 1 && state < counts.by_state.size())
    ++counts.by_state[state];
  else
    ++counts.unknown;
  return true;
}

std::runtime_error malformed(std::string_view origin) {
  return std::runtime_error(std::string(origin) + ": malformed socket line");
}

} // namespace

void count_tcp_states(std::string_view text, tcp_state_counts& counts, std::string_view origin) {
  while (!text.empty())
    if (!count_line(next_line(text), counts))
      throw malformed(origin);
}

tcp_states_reader::tcp_states_reader(const std::filesystem::path& root)
    : tcp_path_(path_under(root, "proc/net/tcp"))
    , tcp6_path_(path_under(root, "proc/net/tcp6"))
    , buffer_(64 * 1024) {}

void tcp_states_reader::read_file(const std::string& path, bool required,
                                  tcp_state_counts& counts) {
  int fd;
  do
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    if (!required && (errno == ENOENT || errno == ENOTDIR))
      return;
    throw std::system_error(errno, std::generic_category(), "cannot read " + path);
  }
  std::size_t carried = 0; // bytes of an incomplete line kept at the front of the buffer
  for (;;) {
    if (carried == buffer_.size()) {
      ::close(fd);
      throw std::runtime_error(path + ": line longer than " + std::to_string(buffer_.size()));
    }
    ssize_t n = ::read(fd, buffer_.data() + carried, buffer_.size() - carried);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      int error = errno;
      ::close(fd);
      throw std::system_error(error, std::generic_category(), "cannot read " + path);
    }
    std::string_view data{buffer_.data(), carried + static_cast<std::size_t>(n)};
    if (n == 0) { // end: the rest is a last line without '\n'
      ::close(fd);
      if (!data.empty() && !count_line(data, counts))
        throw malformed(path);
      return;
    }
    auto last_newline = data.rfind('\n');
    if (last_newline == std::string_view::npos) {
      carried = data.size();
      continue;
    }
    auto complete = data.substr(0, last_newline + 1);
    while (!complete.empty())
      if (!count_line(next_line(complete), counts)) {
        ::close(fd);
        throw malformed(path);
      }
    carried = data.size() - (last_newline + 1);
    std::memmove(buffer_.data(), buffer_.data() + last_newline + 1, carried);
  }
}

tcp_state_counts tcp_states_reader::read() {
  tcp_state_counts counts;
  read_file(tcp_path_, true, counts);
  read_file(tcp6_path_, false, counts);
  return counts;
}

} // namespace vigil::proc
