#pragma once

// Sends one plain-text mail over SMTP with libcurl. No CAF: a blocking call, made from a
// detached actor thread. Every call opens its own connection (alert mail is rare).
//
// Errors come back as one line of text that names the server URL (without any userinfo)
// and curl's error, plus the server's last 4xx/5xx reply when there was one. The password
// never appears in it.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace vigil {

struct smtp_settings {
  /// smtp://host:port (STARTTLS, see below) or smtps://host:port (TLS from the start). An
  /// optional path is the EHLO name: smtp://mail.example.org:587/agent.example.org.
  std::string url{};
  /// On smtp://: true requires STARTTLS (a server that does not offer it is an error,
  /// never a plaintext fallback); false sends everything, credentials included, in plain
  /// text and never tries STARTTLS. smtps:// is always TLS.
  bool starttls{true};
  /// Empty: no AUTH. Otherwise the strongest mechanism both sides know (PLAIN, LOGIN, …).
  std::string username{};
  std::string password{};
  /// "alerts@example.org" or "Vigil on web1 <alerts@example.org>".
  std::string from{};
  /// Each "ops@example.org" or "Ops <ops@example.org>"; every one must be accepted.
  std::vector<std::string> to{};
  /// Verify the server's certificate chain and host name.
  bool verify_peer{true};
  /// PEM file of trusted CAs; empty: the system store.
  std::string ca_file{};
  /// Bounds the connection and the whole SMTP transaction.
  std::chrono::milliseconds timeout{10000};
};

struct mail_message {
  std::string subject{};   // UTF-8 (alert titles carry emoji)
  std::string text_body{}; // UTF-8; LF, CRLF or CR line endings
};

/// What is wrong with the settings (URL scheme, sender, recipients, timeout), or nullopt.
std::optional<std::string> validate_smtp_settings(const smtp_settings& settings);

/// The RFC 5322 message: Date, From, To, Subject (RFC 2047 UTF-8 encoded-words when not
/// plain ASCII), Message-ID, MIME-Version, Content-Type text/plain; charset=utf-8,
/// Content-Transfer-Encoding 7bit or quoted-printable, Auto-Submitted; CRLF line endings,
/// header lines folded at 78 columns. CR, LF and other control characters are removed
/// from the subject, sender and recipients, so no header can be injected. Dot-stuffing is
/// left to curl. Only the Message-ID is random.
std::string format_mail(const smtp_settings& settings, const mail_message& message,
                        std::chrono::system_clock::time_point now);

/// Sends `message` to every recipient. nullopt on success, otherwise the error text.
std::optional<std::string> send_mail(const smtp_settings& settings, const mail_message& message);

} // namespace vigil
