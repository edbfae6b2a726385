#include "io/system/systemd_notify.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

using namespace vigil;

namespace {

// A real notification socket, as systemd provides one to Type=notify services.
struct notify_socket {
  int fd = -1;
  std::string path;
  notify_socket() {
    path = "/tmp/vigil-notify-" + std::to_string(getpid());
    ::unlink(path.c_str());
    fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    path.copy(addr.sun_path, sizeof addr.sun_path - 1);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
      ADD_FAILURE() << "bind " << path;
    timeval tv{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setenv("NOTIFY_SOCKET", path.c_str(), 1);
  }
  ~notify_socket() {
    ::unsetenv("NOTIFY_SOCKET");
    ::close(fd);
    ::unlink(path.c_str());
  }
  std::string receive() {
    char buf[512];
    auto n = ::recv(fd, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string{};
  }
};

TEST(systemd_notify, messages_reach_the_notify_socket) {
  notify_socket sock;
  notify_ready("watching 3 files");
  EXPECT_EQ(sock.receive(), "READY=1\nSTATUS=watching 3 files");
  notify_watchdog();
  EXPECT_EQ(sock.receive(), "WATCHDOG=1");
  notify_stopping();
  EXPECT_EQ(sock.receive(), "STOPPING=1");
}

TEST(systemd_notify, watchdog_interval_from_environment) {
  ::unsetenv("WATCHDOG_USEC");
  EXPECT_FALSE(watchdog_interval());
  ::setenv("WATCHDOG_USEC", "20000000", 1);
  ::setenv("WATCHDOG_PID", std::to_string(getpid()).c_str(), 1);
  auto iv = watchdog_interval();
  ASSERT_TRUE(iv);
  EXPECT_EQ(*iv, std::chrono::seconds{20});
  ::unsetenv("WATCHDOG_USEC");
  ::unsetenv("WATCHDOG_PID");
}

} // namespace
