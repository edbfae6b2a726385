// io/mail send_mail against a real SMTP server on 127.0.0.1 (tests/io_mail/smtp_sink.py,
// aiosmtpd): delivery, STARTTLS and SMTPS with AUTH and certificate checks, and every
// failure the agent must report clearly (without the password) instead of sending in
// plain text.

#include "io/mail/smtp_client.hpp"
#include "tests/support/smtp_sink.hpp"
#include "tests/support/temp_directory.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <netinet/in.h>
#include <regex>
#include <signal.h>
#include <sstream>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace vigil::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const std::string red_circle = "\xF0\x9F\x94\xB4"; // 🔴
const std::string password = "hunter2-Secret!";

std::string crlf_to_lf(std::string s) {
  for (auto pos = s.find("\r\n"); pos != std::string::npos; pos = s.find("\r\n", pos))
    s.erase(pos, 1);
  return s;
}

class smtp_client_test : public ::testing::Test {
protected:
  temp_directory dir;

  // A self-signed certificate for 127.0.0.1/localhost: <name>.pem and <name>.key.
  void make_certificate(const std::string& name) {
    child_process openssl({"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                           "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj",
                           "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                           "-keyout", (dir / (name + ".key")).string(), "-out",
                           (dir / (name + ".pem")).string()},
                          (dir / (name + ".log")).string());
    ASSERT_EQ(openssl.wait_for_exit(60s), 0) << openssl.output();
  }

  std::unique_ptr<smtp_sink> start_sink(std::vector<std::string> options) {
    auto sink =
        std::make_unique<smtp_sink>(dir / ("sink" + std::to_string(++sinks_)), std::move(options));
    EXPECT_NE(sink->port(), 0) << "the SMTP sink did not start:\n" << sink->log();
    return sink;
  }

  std::unique_ptr<smtp_sink> start_tls_sink(std::vector<std::string> options = {}) {
    make_certificate("server");
    std::vector<std::string> all{"--tls-cert", (dir / "server.pem").string(), "--tls-key",
                                 (dir / "server.key").string()};
    all.insert(all.end(), options.begin(), options.end());
    return start_sink(all);
  }

  smtp_settings plain_settings(const smtp_sink& sink) {
    smtp_settings s;
    s.url = sink.url();
    s.starttls = false;
    s.from = "Vigil on web1 <vigil@example.com>";
    s.to = {"ops@example.org"};
    s.timeout = 10s;
    return s;
  }

  smtp_settings tls_settings(const smtp_sink& sink) {
    auto s = plain_settings(sink);
    s.starttls = true;
    s.username = "bob";
    s.password = password;
    s.ca_file = (dir / "server.pem").string();
    return s;
  }

  static void expect_clear_error(const std::optional<std::string>& error, const std::string& url) {
    ASSERT_TRUE(error) << "the mail was sent";
    EXPECT_NE(error->find(url), std::string::npos) << *error;
    EXPECT_EQ(error->find(password), std::string::npos) << *error;
    EXPECT_EQ(error->find('\n'), std::string::npos) << *error;
  }

private:
  int sinks_ = 0;
};

const mail_message alert{"Disk full on web1", "Disk / is at 97 %.\n"};

TEST_F(smtp_client_test, delivers_a_mail_with_envelope_emoji_subject_and_body_intact) {
  auto sink = start_sink({});
  ASSERT_NE(sink->port(), 0);
  auto settings = plain_settings(*sink);
  settings.to = {"ops@example.org", "Oncall <oncall@example.net>"};
  std::string subject = red_circle + " CRITICAL: disk / at 97% on web1 \xE2\x80\x94 voll";
  // Lines "." and ".." need dot-stuffing; the long line and the non-ASCII ones need
  // quoted-printable; the LF endings need converting.
  std::string body = "Disk / is at 97 %.\n.\n..two dots\nTemp\xC3\xA9rature 41 \xC2\xB0"
                     "C, 1+1=2\n" +
                     std::string(1500, 'x') + "\nlast line\n";

  auto error = send_mail(settings, {subject, body});

  ASSERT_EQ(error, std::nullopt) << *error << "\n" << sink->log();
  auto mail = sink->mail(1);
  ASSERT_TRUE(mail) << sink->log();
  EXPECT_EQ(mail->envelope, "mail_from: vigil@example.com\n"
                            "rcpt_to: ops@example.org\n"
                            "rcpt_to: oncall@example.net\n"
                            "tls: no\n"
                            "auth: none\n");
  EXPECT_EQ(mail->subject, subject);
  EXPECT_EQ(crlf_to_lf(mail->body), body);
  for (size_t i = 0; i < mail->raw.size(); ++i) {
    if (mail->raw[i] == '\n') {
      ASSERT_TRUE(i > 0 && mail->raw[i - 1] == '\r') << "bare LF at " << i;
    }
  }
  EXPECT_NE(mail->raw.find("\r\nTo: ops@example.org, Oncall <oncall@example.net>\r\n"),
            std::string::npos)
      << mail->raw;
  EXPECT_EQ(sink->received(), 1u);
}

TEST_F(smtp_client_test, strips_an_injected_header_from_the_subject) {
  auto sink = start_sink({});
  ASSERT_NE(sink->port(), 0);

  auto error = send_mail(plain_settings(*sink),
                         {"Disk full\r\nBcc: victim@example.org\r\n\r\nInjected", "real body\n"});

  ASSERT_EQ(error, std::nullopt) << *error;
  auto mail = sink->mail(1);
  ASSERT_TRUE(mail);
  EXPECT_EQ(mail->subject, "Disk full Bcc: victim@example.org Injected");
  EXPECT_EQ(crlf_to_lf(mail->body), "real body\n");
  auto head = mail->raw.substr(0, mail->raw.find("\r\n\r\n"));
  EXPECT_EQ(head.find("\r\nBcc:"), std::string::npos) << head;
  EXPECT_EQ(mail->envelope.find("victim"), std::string::npos) << mail->envelope;
}

TEST_F(smtp_client_test, refuses_a_recipient_carrying_an_injected_header) {
  auto sink = start_sink({});
  ASSERT_NE(sink->port(), 0);
  auto settings = plain_settings(*sink);
  settings.to = {"ops@example.org\r\nBcc: victim@example.org"};

  auto error = send_mail(settings, alert);

  expect_clear_error(error, sink->url());
  EXPECT_NE(error->find("recipient"), std::string::npos) << *error;
  EXPECT_EQ(sink->received(), 0u);
}

TEST_F(smtp_client_test, authenticates_with_plain_over_starttls_verified_with_the_ca_file) {
  auto sink = start_tls_sink({"--auth", "bob:" + password, "--auth-mechanism", "PLAIN"});
  ASSERT_NE(sink->port(), 0);

  auto error = send_mail(tls_settings(*sink), {red_circle + " tls", "over STARTTLS\n"});

  ASSERT_EQ(error, std::nullopt) << *error << "\n" << sink->log();
  auto mail = sink->mail(1);
  ASSERT_TRUE(mail);
  EXPECT_NE(mail->envelope.find("tls: yes\nauth: PLAIN bob\n"), std::string::npos)
      << mail->envelope;
  EXPECT_EQ(mail->subject, red_circle + " tls");
}

TEST_F(smtp_client_test, authenticates_with_login_over_starttls) {
  auto sink = start_tls_sink({"--auth", "bob:" + password, "--auth-mechanism", "LOGIN"});
  ASSERT_NE(sink->port(), 0);

  auto error = send_mail(tls_settings(*sink), alert);

  ASSERT_EQ(error, std::nullopt) << *error << "\n" << sink->log();
  auto mail = sink->mail(1);
  ASSERT_TRUE(mail);
  EXPECT_NE(mail->envelope.find("tls: yes\nauth: LOGIN bob\n"), std::string::npos)
      << mail->envelope;
}

TEST_F(smtp_client_test, sends_over_smtps_with_tls_from_the_first_byte) {
  auto sink = start_tls_sink({"--implicit-tls", "--auth", "bob:" + password});
  ASSERT_NE(sink->port(), 0);
  auto settings = tls_settings(*sink);
  settings.url = sink->url("smtps");

  auto error = send_mail(settings, alert);

  ASSERT_EQ(error, std::nullopt) << *error << "\n" << sink->log();
  auto mail = sink->mail(1);
  ASSERT_TRUE(mail);
  EXPECT_NE(mail->envelope.find("tls: yes\nauth: PLAIN bob\n"), std::string::npos)
      << mail->envelope;
}

TEST_F(smtp_client_test, rejects_a_certificate_from_another_ca) {
  auto sink = start_tls_sink({"--auth", "bob:" + password});
  ASSERT_NE(sink->port(), 0);
  make_certificate("other");
  auto settings = tls_settings(*sink);
  settings.ca_file = (dir / "other.pem").string();

  auto error = send_mail(settings, alert);

  expect_clear_error(error, sink->url());
  EXPECT_NE(error->find("certificate"), std::string::npos) << *error;
  EXPECT_EQ(sink->received(), 0u);
}

TEST_F(smtp_client_test, rejects_a_self_signed_certificate_not_in_the_system_store) {
  auto sink = start_tls_sink({"--auth", "bob:" + password});
  ASSERT_NE(sink->port(), 0);
  auto settings = tls_settings(*sink);
  settings.ca_file.clear();

  auto error = send_mail(settings, alert);

  expect_clear_error(error, sink->url());
  EXPECT_NE(error->find("certificate"), std::string::npos) << *error;
  EXPECT_EQ(sink->received(), 0u);
}

TEST_F(smtp_client_test, accepts_any_certificate_when_verification_is_off) {
  auto sink = start_tls_sink({"--auth", "bob:" + password});
  ASSERT_NE(sink->port(), 0);
  auto settings = tls_settings(*sink);
  settings.ca_file.clear();
  settings.verify_peer = false;

  auto error = send_mail(settings, alert);

  ASSERT_EQ(error, std::nullopt) << *error;
  ASSERT_TRUE(sink->mail(1));
  EXPECT_NE(sink->mail(1)->envelope.find("tls: yes"), std::string::npos);
}

TEST_F(smtp_client_test, refuses_to_fall_back_to_plain_text_without_starttls) {
  auto sink = start_sink({});
  ASSERT_NE(sink->port(), 0);
  auto settings = plain_settings(*sink);
  settings.starttls = true;
  settings.username = "bob";
  settings.password = password;

  auto error = send_mail(settings, alert);

  expect_clear_error(error, sink->url());
  EXPECT_NE(error->find("STARTTLS"), std::string::npos) << *error;
  EXPECT_EQ(sink->received(), 0u);
}

TEST_F(smtp_client_test, reports_wrong_credentials_without_the_password) {
  auto sink = start_tls_sink({"--auth", "bob:the-right-one"});
  ASSERT_NE(sink->port(), 0);

  auto error = send_mail(tls_settings(*sink), alert);

  expect_clear_error(error, sink->url());
  EXPECT_NE(error->find("535"), std::string::npos) << *error;
  EXPECT_EQ(sink->received(), 0u);
}

TEST_F(smtp_client_test, reports_a_refused_recipient_with_the_server_reply) {
  auto sink = start_sink({"--reject-rcpt", "nobody@example.org"});
  ASSERT_NE(sink->port(), 0);
  auto settings = plain_settings(*sink);
  settings.to = {"ops@example.org", "nobody@example.org"};
  settings.password = password;

  auto error = send_mail(settings, alert);

  expect_clear_error(error, sink->url());
  EXPECT_NE(error->find("550"), std::string::npos) << *error;
  EXPECT_NE(error->find("Recipient address rejected"), std::string::npos) << *error;
  EXPECT_EQ(sink->received(), 0u) << "no mail may go out when one recipient is refused";
}

// A port nothing listens on: bound for a moment, then closed.
int closed_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

TEST_F(smtp_client_test, fails_quickly_on_a_closed_port_naming_the_url_but_not_the_password) {
  auto port = std::to_string(closed_port());
  smtp_settings settings;
  settings.url = "smtp://bob:" + password + "@127.0.0.1:" + port;
  settings.password = password;
  settings.from = "vigil@example.com";
  settings.to = {"ops@example.org"};

  auto start = std::chrono::steady_clock::now();
  auto error = send_mail(settings, alert);
  auto took = std::chrono::steady_clock::now() - start;

  expect_clear_error(error, "smtp://127.0.0.1:" + port);
  EXPECT_NE(error->find("connect"), std::string::npos) << *error;
  EXPECT_LT(took, 2s);
}

TEST_F(smtp_client_test, gives_up_on_a_silent_server_after_the_timeout) {
  // Accepts connections (the kernel completes the handshake) but never says a word.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 4), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  smtp_settings settings;
  settings.url = "smtp://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  settings.from = "vigil@example.com";
  settings.to = {"ops@example.org"};
  settings.timeout = 500ms;

  auto start = std::chrono::steady_clock::now();
  auto error = send_mail(settings, alert);
  auto took = std::chrono::steady_clock::now() - start;
  ::close(fd);

  expect_clear_error(error, settings.url);
  EXPECT_NE(error->find("Timeout"), std::string::npos) << *error;
  EXPECT_GE(took, 400ms);
  EXPECT_LT(took, 3s);
}

TEST_F(smtp_client_test, refuses_a_url_that_is_not_smtp) {
  smtp_settings settings;
  settings.url = "https://127.0.0.1:1";
  settings.from = "vigil@example.com";
  settings.to = {"ops@example.org"};

  auto error = send_mail(settings, alert);

  expect_clear_error(error, settings.url);
  EXPECT_NE(error->find("smtp://"), std::string::npos) << *error;
}

} // namespace
} // namespace vigil::test
