#include "io/mail/smtp_client.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <curl/curl.h>
#include <memory>
#include <mutex>
#include <random>
#include <string_view>

namespace vigil {
namespace {

constexpr size_t fold_column = 78; // RFC 5322 §2.1.1 SHOULD
constexpr size_t max_line = 998;   // RFC 5322 §2.1.1 MUST
constexpr size_t qp_line = 76;     // RFC 2045 §6.7 (5)
// An encoded-word is at most 75 characters (RFC 2047 §2): "=?UTF-8?B?" + 52 base64
// characters + "?=" is 64, so even after "Subject: " the line stays within 76.
constexpr size_t encoded_word_bytes = 39;

bool is_ascii_text(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u >= 0x20 && u < 0x7f;
  });
}

std::string_view trim(std::string_view s) {
  auto first = s.find_first_not_of(" \t");
  if (first == std::string_view::npos)
    return {};
  return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

// Header text (subject, display names): a run of CR/LF becomes one space, a tab a space,
// other control characters go. Nothing that could end the header line survives.
std::string sanitize_text(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  bool in_break = false;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (c == '\r' || c == '\n') {
      if (!in_break)
        out += ' ';
      in_break = true;
      continue;
    }
    in_break = false;
    if (c == '\t')
      out += ' ';
    else if (u >= 0x20 && u != 0x7f)
      out += c;
  }
  return std::string{trim(out)};
}

// An address: every control character (CR and LF included) is removed.
std::string sanitize_address(std::string_view s) {
  std::string out;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u != 0x7f)
      out += c;
  }
  return std::string{trim(out)};
}

struct mailbox {
  std::string display; // sanitized, may be empty
  std::string address; // sanitized
};

// "addr" or "Display Name <addr>" (the display name optionally in double quotes).
mailbox parse_mailbox(std::string_view raw) {
  auto s = sanitize_address(raw);
  auto open = s.rfind('<');
  if (!s.empty() && s.back() == '>' && open != std::string::npos) {
    auto display = sanitize_text(std::string_view{s}.substr(0, open));
    if (display.size() >= 2 && display.front() == '"' && display.back() == '"')
      display = display.substr(1, display.size() - 2);
    return {display, sanitize_address(std::string_view{s}.substr(open + 1, s.size() - open - 2))};
  }
  return {{}, s};
}

std::optional<std::string> check_address(const std::string& address) {
  if (address.empty())
    return "is empty";
  auto at = address.rfind('@');
  if (at == std::string::npos || at == 0 || at + 1 == address.size())
    return "is not of the form local@domain";
  for (char c : address)
    if (c == ' ' || c == '<' || c == '>' || c == ',' || c == '"' || c == '\\')
      return "contains a space, quote, comma or angle bracket";
  return std::nullopt;
}

std::string base64(std::string_view in) {
  static constexpr char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = static_cast<uint32_t>(static_cast<unsigned char>(in[i])) << 16 |
                 static_cast<uint32_t>(static_cast<unsigned char>(in[i + 1])) << 8 |
                 static_cast<uint32_t>(static_cast<unsigned char>(in[i + 2]));
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += alphabet[v & 63];
  }
  if (i < in.size()) {
    uint32_t v = static_cast<uint32_t>(static_cast<unsigned char>(in[i])) << 16;
    if (i + 1 < in.size())
      v |= static_cast<uint32_t>(static_cast<unsigned char>(in[i + 1])) << 8;
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += i + 1 < in.size() ? alphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

// Length of the UTF-8 character starting at s[i]; a malformed byte counts as one.
size_t utf8_length(std::string_view s, size_t i) {
  auto lead = static_cast<unsigned char>(s[i]);
  size_t n = lead < 0x80           ? 1
             : (lead >> 5) == 0x6  ? 2
             : (lead >> 4) == 0xe  ? 3
             : (lead >> 3) == 0x1e ? 4
                                   : 1;
  if (i + n > s.size())
    return 1;
  for (size_t k = 1; k < n; ++k)
    if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80)
      return 1;
  return n;
}

// RFC 2047 "B" encoded-words, never splitting a UTF-8 character between two words (§5).
std::vector<std::string> encoded_words(std::string_view text) {
  std::vector<std::string> words;
  std::string chunk;
  auto flush = [&] {
    if (!chunk.empty())
      words.push_back("=?UTF-8?B?" + base64(chunk) + "?=");
    chunk.clear();
  };
  for (size_t i = 0; i < text.size();) {
    auto n = utf8_length(text, i);
    if (chunk.size() + n > encoded_word_bytes)
      flush();
    chunk.append(text.substr(i, n));
    i += n;
  }
  flush();
  return words;
}

// Plain ASCII text as words split at single spaces (so unfolding restores every space),
// or encoded-words when the text is not plain ASCII, looks like an encoded-word itself or
// has a word too long to fit a line.
std::vector<std::string> header_words(std::string_view text) {
  bool encode = !is_ascii_text(text) || text.find("=?") != std::string_view::npos;
  std::vector<std::string> words;
  if (!encode) {
    size_t start = 0;
    while (true) {
      auto space = text.find(' ', start);
      words.emplace_back(text.substr(start, space - start));
      if (words.back().size() > max_line - fold_column)
        encode = true;
      if (space == std::string_view::npos)
        break;
      start = space + 1;
    }
  }
  return encode ? encoded_words(text) : words;
}

// "Name: w1 w2 …\r\n", folded (CRLF before the space) where a line would pass 78 columns.
std::string header(std::string_view name, const std::vector<std::string>& words) {
  std::string out{name};
  out += ':';
  size_t column = out.size();
  for (size_t i = 0; i < words.size(); ++i) {
    const auto& w = words[i];
    // Empty words (from runs of spaces) cannot start a line: they stay with the word
    // before them.
    size_t width = 1 + w.size();
    for (size_t k = i + 1; k < words.size() && words[k].empty(); ++k)
      ++width;
    if (i > 0 && !w.empty() && column + width > fold_column) {
      out += "\r\n";
      column = 0;
    }
    out += ' ';
    out += w;
    column += 1 + w.size();
  }
  out += "\r\n";
  return out;
}

bool is_atext_phrase(std::string_view s) {
  static constexpr std::string_view specials = "!#$%&'*+-/=?^_`{|}~ ";
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           specials.find(c) != std::string_view::npos;
  });
}

std::vector<std::string> mailbox_words(const mailbox& box) {
  if (box.display.empty())
    return {box.address};
  std::vector<std::string> words;
  if (!is_ascii_text(box.display) || box.display.find("=?") != std::string::npos) {
    words = encoded_words(box.display);
  } else if (is_atext_phrase(box.display)) {
    words = header_words(box.display);
  } else {
    std::string quoted = "\"";
    for (char c : box.display) {
      if (c == '"' || c == '\\')
        quoted += '\\';
      quoted += c;
    }
    words.push_back(quoted + '"');
  }
  words.push_back('<' + box.address + '>');
  return words;
}

std::string rfc5322_date(std::chrono::system_clock::time_point now) {
  static constexpr std::array<const char*, 7> days{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr std::array<const char*, 12> months{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday % 7],
                tm.tm_mday, months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return buf;
}

std::string message_id(const std::string& from_address, std::chrono::system_clock::time_point now) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string domain;
  auto at = from_address.rfind('@');
  if (at != std::string::npos)
    for (char c : from_address.substr(at + 1))
      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
          c == '-')
        domain += c;
  if (domain.empty())
    domain = "vigil.localhost";
  char buf[80];
  auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  std::snprintf(buf, sizeof buf, "<%llx.%016llx%016llx@", static_cast<long long>(micros),
                static_cast<unsigned long long>(rng()), static_cast<unsigned long long>(rng()));
  return buf + domain + '>';
}

// Body lines with CRLF endings (LF, CR and CRLF all accepted), ending in CRLF.
std::vector<std::string_view> body_lines(std::string_view body) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  for (size_t i = 0; i < body.size(); ++i) {
    if (body[i] == '\r' || body[i] == '\n') {
      lines.push_back(body.substr(start, i - start));
      if (body[i] == '\r' && i + 1 < body.size() && body[i + 1] == '\n')
        ++i;
      start = i + 1;
    }
  }
  if (start < body.size())
    lines.push_back(body.substr(start));
  return lines;
}

bool needs_quoted_printable(const std::vector<std::string_view>& lines) {
  return std::any_of(lines.begin(), lines.end(), [](std::string_view line) {
    return line.size() > max_line || !std::all_of(line.begin(), line.end(), [](char c) {
             auto u = static_cast<unsigned char>(c);
             return c == '\t' || (u >= 0x20 && u < 0x7f);
           });
  });
}

// RFC 2045 §6.7: lines of at most 76 characters, soft breaks "=" CRLF, trailing white
// space encoded.
void append_quoted_printable(std::string& out, std::string_view line) {
  static constexpr char hex[] = "0123456789ABCDEF";
  size_t column = 0;
  for (size_t i = 0; i < line.size(); ++i) {
    auto u = static_cast<unsigned char>(line[i]);
    bool last = i + 1 == line.size();
    bool literal = (u >= 33 && u <= 126 && u != '=') || ((u == ' ' || u == '\t') && !last);
    std::string token =
        literal ? std::string(1, line[i]) : std::string{'=', hex[u >> 4], hex[u & 15]};
    // Keep room for the soft break "=" unless this token ends the line.
    size_t limit = last ? qp_line : qp_line - 1;
    if (column + token.size() > limit) {
      out += "=\r\n";
      column = 0;
    }
    out += token;
    column += token.size();
  }
  out += "\r\n";
}

std::string redact_url(std::string_view url) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos)
    return std::string{url};
  auto authority = scheme_end + 3;
  auto end = url.find_first_of("/?#", authority);
  auto at = url.substr(authority, end == std::string_view::npos ? end : end - authority).rfind('@');
  if (at == std::string_view::npos)
    return std::string{url};
  return std::string{url.substr(0, authority)} + std::string{url.substr(authority + at + 1)};
}

void scrub(std::string& text, const std::string& secret) {
  if (secret.size() < 3) // too short to tell from ordinary text; curl never echoes it
    return;
  for (auto pos = text.find(secret); pos != std::string::npos; pos = text.find(secret, pos))
    text.replace(pos, secret.size(), "***");
}

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct upload {
  std::string_view data;
  size_t offset = 0;
};

size_t read_payload(char* buffer, size_t size, size_t count, void* user) {
  auto* up = static_cast<upload*>(user);
  auto n = std::min(size * count, up->data.size() - up->offset);
  std::copy_n(up->data.data() + up->offset, n, buffer);
  up->offset += n;
  return n;
}

// Remembers the server's last 4xx/5xx reply line. Only incoming protocol lines are read;
// what curl sends (AUTH data) is never looked at.
int record_reply(CURL*, curl_infotype type, char* data, size_t size, void* user) {
  if (type != CURLINFO_HEADER_IN || size == 0 || (data[0] != '4' && data[0] != '5'))
    return 0;
  auto* reply = static_cast<std::string*>(user);
  *reply = sanitize_text(std::string_view{data, std::min<size_t>(size, 300)});
  return 0;
}

struct curl_deleter {
  void operator()(CURL* h) const { curl_easy_cleanup(h); }
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

} // namespace

std::optional<std::string> validate_smtp_settings(const smtp_settings& settings) {
  std::string scheme = settings.url.substr(0, settings.url.find("://"));
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (settings.url.find("://") == std::string::npos || (scheme != "smtp" && scheme != "smtps"))
    return "mail URL '" + redact_url(settings.url) + "' must start with smtp:// or smtps://";
  if (settings.url.size() == scheme.size() + 3)
    return "mail URL '" + redact_url(settings.url) + "' has no host";
  if (auto e = check_address(parse_mailbox(settings.from).address))
    return "mail sender '" + sanitize_address(settings.from) + "' " + *e;
  if (settings.to.empty())
    return "no mail recipients";
  for (const auto& to : settings.to)
    if (auto e = check_address(parse_mailbox(to).address))
      return "mail recipient '" + sanitize_address(to) + "' " + *e;
  if (settings.timeout.count() <= 0)
    return "mail timeout must be positive";
  return std::nullopt;
}

std::string format_mail(const smtp_settings& settings, const mail_message& message,
                        std::chrono::system_clock::time_point now) {
  auto from = parse_mailbox(settings.from);
  std::vector<std::string> to_words;
  for (size_t i = 0; i < settings.to.size(); ++i) {
    auto words = mailbox_words(parse_mailbox(settings.to[i]));
    if (i + 1 < settings.to.size())
      words.back() += ',';
    to_words.insert(to_words.end(), words.begin(), words.end());
  }
  auto subject = sanitize_text(message.subject);
  auto lines = body_lines(message.text_body);
  bool qp = needs_quoted_printable(lines);

  std::string out;
  out += "Date: " + rfc5322_date(now) + "\r\n";
  out += header("From", mailbox_words(from));
  out += header("To", to_words);
  out += header("Subject", subject.empty() ? std::vector<std::string>{} : header_words(subject));
  out += "Message-ID: " + message_id(from.address, now) + "\r\n";
  out += "MIME-Version: 1.0\r\n";
  out += "Content-Type: text/plain; charset=utf-8\r\n";
  out += qp ? "Content-Transfer-Encoding: quoted-printable\r\n"
            : "Content-Transfer-Encoding: 7bit\r\n";
  out += "Auto-Submitted: auto-generated\r\n"; // RFC 3834: no vacation replies
  out += "\r\n";
  for (auto line : lines) {
    if (qp) {
      append_quoted_printable(out, line);
    } else {
      out += line;
      out += "\r\n";
    }
  }
  return out;
}

std::optional<std::string> send_mail(const smtp_settings& settings, const mail_message& message) {
  auto where = "SMTP " + redact_url(settings.url) + ": ";
  auto fail = [&](std::string text) {
    text = where + text;
    scrub(text, settings.password);
    return std::optional<std::string>{std::move(text)};
  };
  if (auto e = validate_smtp_settings(settings))
    return fail(*e);

  global_init();
  std::unique_ptr<CURL, curl_deleter> handle{curl_easy_init()};
  if (!handle)
    return fail("curl_easy_init failed");
  CURL* h = handle.get();

  auto payload = format_mail(settings, message, std::chrono::system_clock::now());
  upload up{payload};
  std::unique_ptr<curl_slist, curl_deleter> recipients;
  for (const auto& to : settings.to) {
    auto* list =
        curl_slist_append(recipients.get(), ('<' + parse_mailbox(to).address + '>').c_str());
    if (!list)
      return fail("out of memory");
    (void)recipients.release();
    recipients.reset(list);
  }
  auto mail_from = '<' + parse_mailbox(settings.from).address + '>';
  char error[CURL_ERROR_SIZE] = {};
  std::string server_reply;
  long timeout_ms = static_cast<long>(settings.timeout.count());

  CURLcode rc = CURLE_OK;
  auto set = [&](CURLoption option, auto value) {
    if (rc == CURLE_OK)
      rc = curl_easy_setopt(h, option, value);
  };
  set(CURLOPT_ERRORBUFFER, error);
  set(CURLOPT_NOSIGNAL, 1L);
  set(CURLOPT_URL, settings.url.c_str());
#if LIBCURL_VERSION_NUM >= 0x075500 // 7.85.0
  set(CURLOPT_PROTOCOLS_STR, "smtp,smtps");
#else
  set(CURLOPT_PROTOCOLS, static_cast<long>(CURLPROTO_SMTP | CURLPROTO_SMTPS));
#endif
  set(CURLOPT_USE_SSL, static_cast<long>(settings.starttls ? CURLUSESSL_ALL : CURLUSESSL_NONE));
  set(CURLOPT_SSL_VERIFYPEER, settings.verify_peer ? 1L : 0L);
  set(CURLOPT_SSL_VERIFYHOST, settings.verify_peer ? 2L : 0L);
  if (!settings.ca_file.empty())
    set(CURLOPT_CAINFO, settings.ca_file.c_str());
  if (!settings.username.empty()) {
    set(CURLOPT_USERNAME, settings.username.c_str());
    set(CURLOPT_PASSWORD, settings.password.c_str());
  }
  set(CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
  set(CURLOPT_TIMEOUT_MS, timeout_ms);
  set(CURLOPT_MAIL_FROM, mail_from.c_str());
  set(CURLOPT_MAIL_RCPT, recipients.get());
  set(CURLOPT_UPLOAD, 1L);
  set(CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(payload.size()));
  set(CURLOPT_READFUNCTION, &read_payload);
  set(CURLOPT_READDATA, &up);
  set(CURLOPT_DEBUGFUNCTION, &record_reply);
  set(CURLOPT_DEBUGDATA, &server_reply);
  set(CURLOPT_VERBOSE, 1L); // feeds record_reply only; nothing is printed
  if (rc != CURLE_OK)
    return fail(std::string{"cannot configure curl: "} + curl_easy_strerror(rc));

  rc = curl_easy_perform(h);
  if (rc == CURLE_OK)
    return std::nullopt;
  std::string text = curl_easy_strerror(rc);
  if (error[0] != '\0')
    text += std::string{" ("} + error + ")";
  if (!server_reply.empty())
    text += "; server replied: " + server_reply;
  return fail(std::move(text));
}

} // namespace vigil
