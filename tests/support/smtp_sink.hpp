#pragma once

// A real SMTP server for tests: tests/io_mail/smtp_sink.py (Debian's python3-aiosmtpd) as a
// child process on 127.0.0.1, ended by its PID. Each mail it receives is written to files
// (envelope, raw message, decoded subject and body) that the test reads back.

#include "tests/support/child_process.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <signal.h>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace vigil::test {

namespace smtp_sink_detail {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

inline const std::string python = "/usr/bin/python3"; // Debian's, where python3-aiosmtpd lives
inline const std::string sink_script = VIGIL_SOURCE_DIR "/tests/io_mail/smtp_sink.py";

inline std::string read_file(const fs::path& path) {
  std::ifstream in{path, std::ios::binary};
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct received_mail {
  std::string envelope; // "mail_from: …\nrcpt_to: …\ntls: yes|no\nauth: …\n"
  std::string raw;      // the DATA content as the server got it
  std::string subject;  // decoded by Python's email package
  std::string body;     // decoded by Python's email package
};

// smtp_sink.py as a child process, ended by its PID.
class smtp_sink {
public:
  smtp_sink(fs::path dir, std::vector<std::string> options)
      : dir_(std::move(dir))
      , process_(command(dir_, std::move(options)), (dir_ / "log").string()) {
    if (!process_.wait_for_output("PORT ", 30s))
      return;
    std::smatch m;
    auto out = process_.output();
    // The line is printed whole; wait for its newline all the same.
    for (int i = 0; i < 100 && !std::regex_search(out, m, std::regex{R"(PORT (\d+)\n)"}); ++i) {
      std::this_thread::sleep_for(10ms);
      out = process_.output();
    }
    if (!m.empty())
      port_ = std::stoi(m[1]);
  }

  ~smtp_sink() {
    process_.signal(SIGTERM);
    process_.wait_for_exit(10s);
  }

  int port() const { return port_; }
  std::string url(const std::string& scheme = "smtp") const {
    return scheme + "://127.0.0.1:" + std::to_string(port_);
  }
  std::string log() const { return process_.output(); }

  size_t received() const {
    size_t n = 0;
    for (const auto& entry : fs::directory_iterator{dir_ / "mail"})
      n += entry.path().extension() == ".done";
    return n;
  }

  std::optional<received_mail> mail(int n) const {
    auto base = dir_ / "mail" / ("msg-" + std::to_string(n));
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!fs::exists(base.string() + ".done")) {
      if (std::chrono::steady_clock::now() > deadline)
        return std::nullopt;
      std::this_thread::sleep_for(10ms);
    }
    return received_mail{read_file(base.string() + ".envelope"), read_file(base.string() + ".eml"),
                         read_file(base.string() + ".subject"), read_file(base.string() + ".body")};
  }

private:
  static std::vector<std::string> command(const fs::path& dir, std::vector<std::string> options) {
    fs::create_directories(dir / "mail");
    std::vector<std::string> argv{python, sink_script, "--dir", (dir / "mail").string()};
    argv.insert(argv.end(), options.begin(), options.end());
    return argv;
  }

  fs::path dir_;
  child_process process_;
  int port_ = 0;
};

} // namespace smtp_sink_detail

using smtp_sink_detail::received_mail;
using smtp_sink_detail::smtp_sink;

} // namespace vigil::test
