#pragma once

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <stdlib.h>
#include <string>

namespace vigil::test {

// A private RabbitMQ started through scripts/test-broker in its own temporary directory,
// stopped (by its PID, via the script) and removed on destruction.
class private_broker {
public:
  // tls: also an amqps listener with a private CA (tls_url(), tls_ca_file()).
  explicit private_broker(bool tls = false)
      : tls_(tls) {
    auto base = std::filesystem::temp_directory_path() / "vigil-broker-XXXXXX";
    std::string pattern = base.string();
    if (mkdtemp(pattern.data()) == nullptr)
      throw std::runtime_error("mkdtemp failed for " + pattern);
    dir_ = pattern;
    start();
  }
  ~private_broker() {
    run("stop");
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  private_broker(const private_broker&) = delete;
  private_broker& operator=(const private_broker&) = delete;

  // Starts it again on the port it had (after kill()).
  void start() {
    std::string command =
        (tls_ ? "VIGIL_TEST_BROKER_TLS=1 " : "") + script() + " start " + dir_.string();
    if (port_) {
      command += ' ';
      command += std::to_string(*port_);
    }
    command += " 2>&1";
    FILE* out = popen(command.c_str(), "r");
    if (out == nullptr)
      throw std::runtime_error("cannot run " + command);
    std::string output;
    char buffer[512];
    while (fgets(buffer, sizeof buffer, out) != nullptr)
      output += buffer;
    int status = pclose(out);
    const std::string key = "VIGIL_TEST_AMQP_URL=";
    auto pos = output.find(key);
    if (status != 0 || pos == std::string::npos)
      throw std::runtime_error("test-broker start failed: " + output);
    url_ = value_of(output, key);
    tls_url_ = value_of(output, "VIGIL_TEST_AMQPS_URL=");
    tls_ca_file_ = value_of(output, "VIGIL_TEST_AMQPS_CA=");
    auto port_at = url_.rfind(':');
    port_ = std::stoi(url_.substr(port_at + 1));
  }
  void kill() { run("kill"); }
  void stop() { run("stop"); }

  const std::string& url() const { return url_; }
  const std::string& tls_url() const { return tls_url_; }
  const std::string& tls_ca_file() const { return tls_ca_file_; }

private:
  static std::string value_of(const std::string& output, const std::string& key) {
    auto pos = output.find(key);
    if (pos == std::string::npos)
      return {};
    return output.substr(pos + key.size(), output.find('\n', pos) - pos - key.size());
  }
  static std::string script() { return std::string{VIGIL_SOURCE_DIR} + "/scripts/test-broker"; }
  void run(const char* verb) {
    std::string command = script() + " " + verb + " " + dir_.string() + " >/dev/null 2>&1";
    if (std::system(command.c_str()) != 0) {
      // Best effort: a stop of an already dead broker is fine.
    }
  }

  bool tls_ = false;
  std::filesystem::path dir_;
  std::string url_;
  std::string tls_url_;
  std::string tls_ca_file_;
  std::optional<int> port_;
};

// VIGIL_TEST_AMQP_URL when set (the CI broker), else a private broker started on first use and
// shared by every test of this process.
inline std::string shared_broker_url() {
  if (const char* url = std::getenv("VIGIL_TEST_AMQP_URL"); url != nullptr && *url != '\0')
    return url;
  static private_broker broker;
  return broker.url();
}

} // namespace vigil::test
