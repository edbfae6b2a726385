#pragma once

// A minimal blocking HTTP/1.0 client for tests of the real agent over loopback.

#include "tests/support/child_process.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <regex>
#include <string>
#include <sys/socket.h>
#include <unistd.h>

namespace vigil::test {

struct http_reply {
  int status = 0;      // 0: no connection
  std::string headers; // the status line and headers, as received
  std::string body;

  // The value of a header (case-insensitive name), "" when absent.
  std::string header(const std::string& name) const {
    std::regex re{"\r\n" + name + ":[ \t]*([^\r\n]*)", std::regex::icase};
    std::smatch m;
    return std::regex_search(headers, m, re) ? std::string{m[1]} : std::string{};
  }
};

inline http_reply http_call(uint16_t port, const std::string& method, const std::string& path,
                            const std::string& body = "", const std::string& token = "") {
  http_reply reply;
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return reply;
  }
  std::string req = method + " " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n";
  if (!token.empty())
    req += "Authorization: Bearer " + token + "\r\n";
  req += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
    ::close(fd);
    return reply;
  }
  std::string raw;
  char buf[4096];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;)
    raw.append(buf, static_cast<size_t>(n));
  ::close(fd);
  if (raw.rfind("HTTP/1.", 0) == 0 && raw.size() > 12)
    reply.status = std::stoi(raw.substr(9, 3));
  if (auto p = raw.find("\r\n\r\n"); p != std::string::npos) {
    reply.headers = raw.substr(0, p);
    reply.body = raw.substr(p + 4);
  }
  return reply;
}

// The port the agent announced in a log line "<prefix><port>" (tests ask for port 0); 0 when
// it did not announce it within 30 s.
inline uint16_t announced_port(child_process& agent, const std::string& prefix) {
  if (!agent.wait_for_output(prefix, std::chrono::seconds{30}))
    return 0;
  auto out = agent.output();
  auto at = out.find(prefix) + prefix.size();
  auto digits = out.find_first_not_of("0123456789", at);
  if (digits == at)
    return 0;
  return static_cast<uint16_t>(std::stoi(out.substr(at, digits - at)));
}

// The control API's port ("control API listening on ...").
inline uint16_t announced_control_port(child_process& agent) {
  return announced_port(agent, "control API listening on http://127.0.0.1:");
}

} // namespace vigil::test
