// io/mail format_mail and validate_smtp_settings: the RFC 5322 payload without a server.
// Header lines are checked as raw text, encoded-words decoded by a base64 decoder here.

#include "io/mail/smtp_client.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <regex>
#include <string>
#include <vector>

namespace vigil::test {
namespace {

using namespace std::chrono;

const auto fixed_now = sys_days{year{2025} / March / 4} + hours{12} + minutes{5} + seconds{9};

smtp_settings settings(std::string from = "vigil@example.com",
                       std::vector<std::string> to = {"ops@example.org"}) {
  smtp_settings s;
  s.url = "smtp://127.0.0.1:2525";
  s.from = std::move(from);
  s.to = std::move(to);
  return s;
}

std::string format(const std::string& subject, const std::string& body = "body\n",
                   const smtp_settings& s = settings()) {
  return format_mail(s, {subject, body}, fixed_now);
}

std::string head_of(const std::string& mail) {
  return mail.substr(0, mail.find("\r\n\r\n") + 2);
}

std::string body_of(const std::string& mail) {
  return mail.substr(mail.find("\r\n\r\n") + 4);
}

// Raw lines of `text` split at CRLF.
std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  for (auto pos = text.find("\r\n"); pos != std::string::npos; pos = text.find("\r\n", start)) {
    lines.push_back(text.substr(start, pos - start));
    start = pos + 2;
  }
  if (start < text.size())
    lines.push_back(text.substr(start));
  return lines;
}

// The raw (still folded) field `name` including its continuation lines, without the final
// CRLF; empty when absent.
std::string raw_field(const std::string& mail, const std::string& name) {
  auto head = head_of(mail);
  auto lines = lines_of(head);
  std::string field;
  bool in = false;
  for (const auto& line : lines) {
    if (in && !line.empty() && (line[0] == ' ' || line[0] == '\t')) {
      field += "\r\n" + line;
      continue;
    }
    if (in)
      break;
    if (line.rfind(name + ":", 0) == 0) {
      field = line;
      in = true;
    }
  }
  return field;
}

std::string unfold(std::string field) {
  for (auto pos = field.find("\r\n"); pos != std::string::npos; pos = field.find("\r\n"))
    field.erase(pos, 2);
  return field;
}

std::string base64_decode(const std::string& in) {
  static const std::string alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  unsigned bits = 0;
  int count = 0;
  for (char c : in) {
    if (c == '=')
      break;
    auto v = alphabet.find(c);
    if (v == std::string::npos) {
      ADD_FAILURE() << "not base64: " << in;
      return {};
    }
    bits = (bits << 6) | static_cast<unsigned>(v);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out += static_cast<char>((bits >> count) & 0xff);
    }
  }
  return out;
}

bool is_ascii(const std::string& s) {
  for (char c : s)
    if (static_cast<unsigned char>(c) >= 0x80)
      return false;
  return true;
}

bool valid_utf8(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size())
      return false;
    for (size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80)
        return false;
    i += n;
  }
  return true;
}

// The encoded-words of an unfolded field value, each decoded on its own.
std::vector<std::string> decoded_words(const std::string& value) {
  std::vector<std::string> words;
  static const std::regex word{R"(=\?UTF-8\?B\?([A-Za-z0-9+/=]*)\?=)"};
  for (std::sregex_iterator it{value.begin(), value.end(), word}, end; it != end; ++it)
    words.push_back(base64_decode((*it)[1]));
  return words;
}

std::string joined(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts)
    out += p;
  return out;
}

void expect_crlf_only(const std::string& mail) {
  for (size_t i = 0; i < mail.size(); ++i) {
    if (mail[i] == '\n') {
      ASSERT_TRUE(i > 0 && mail[i - 1] == '\r') << "bare LF at " << i;
    }
    if (mail[i] == '\r') {
      ASSERT_TRUE(i + 1 < mail.size() && mail[i + 1] == '\n') << "bare CR at " << i;
    }
  }
}

TEST(format_mail, writes_the_rfc5322_headers_for_an_ascii_alert) {
  auto mail = format("Disk full on web1", "Disk / is at 97 %.\n",
                     settings("Vigil on web1 <vigil@example.com>",
                              {"ops@example.org", "Oncall Team <oncall@example.net>"}));
  EXPECT_EQ(raw_field(mail, "Date"), "Date: Tue, 04 Mar 2025 12:05:09 +0000");
  EXPECT_EQ(raw_field(mail, "From"), "From: Vigil on web1 <vigil@example.com>");
  EXPECT_EQ(raw_field(mail, "To"), "To: ops@example.org, Oncall Team <oncall@example.net>");
  EXPECT_EQ(raw_field(mail, "Subject"), "Subject: Disk full on web1");
  EXPECT_TRUE(std::regex_match(raw_field(mail, "Message-ID"),
                               std::regex{R"(Message-ID: <[0-9a-f]+\.[0-9a-f]{32}@example\.com>)"}))
      << raw_field(mail, "Message-ID");
  EXPECT_EQ(raw_field(mail, "MIME-Version"), "MIME-Version: 1.0");
  EXPECT_EQ(raw_field(mail, "Content-Type"), "Content-Type: text/plain; charset=utf-8");
  EXPECT_EQ(raw_field(mail, "Content-Transfer-Encoding"), "Content-Transfer-Encoding: 7bit");
  EXPECT_EQ(raw_field(mail, "Auto-Submitted"), "Auto-Submitted: auto-generated");
  EXPECT_EQ(body_of(mail), "Disk / is at 97 %.\r\n");
  expect_crlf_only(mail);
}

TEST(format_mail, message_ids_differ_between_mails) {
  EXPECT_NE(raw_field(format("a"), "Message-ID"), raw_field(format("a"), "Message-ID"));
}

TEST(format_mail, encodes_an_emoji_subject_as_utf8_base64_encoded_words) {
  std::string subject = "\xF0\x9F\x94\xB4 CRITICAL: disk / at 97% on web1";
  auto mail = format(subject);
  auto field = raw_field(mail, "Subject");
  ASSERT_EQ(field.rfind("Subject: =?UTF-8?B?", 0), 0u) << field;
  EXPECT_TRUE(is_ascii(field));
  auto words = decoded_words(unfold(field));
  ASSERT_FALSE(words.empty());
  EXPECT_EQ(joined(words), subject);
}

TEST(format_mail, splits_long_utf8_subjects_between_characters_and_folds_them) {
  std::string subject;
  for (int i = 0; i < 40; ++i)
    subject += "\xF0\x9F\x94\xB4 \xC3\xBC"; // 🔴 ü
  auto field = raw_field(format(subject), "Subject");
  auto lines = lines_of(field + "\r\n");
  ASSERT_GT(lines.size(), 3u);
  for (size_t i = 0; i < lines.size(); ++i) {
    EXPECT_LE(lines[i].size(), 76u) << lines[i];
    if (i > 0) {
      EXPECT_EQ(lines[i][0], ' ') << "continuation line must start with white space";
    }
  }
  auto words = decoded_words(unfold(field));
  for (const auto& w : words)
    EXPECT_TRUE(valid_utf8(w)) << "an encoded-word splits a character";
  std::regex word{R"(=\?UTF-8\?B\?[A-Za-z0-9+/=]*\?=)"};
  for (std::sregex_iterator it{field.begin(), field.end(), word}, end; it != end; ++it)
    EXPECT_LE(it->length(), 75);
  EXPECT_EQ(joined(words), subject);
}

TEST(format_mail, folds_a_long_ascii_subject_at_spaces_without_losing_any) {
  std::string subject;
  for (int i = 0; i < 30; ++i)
    subject += "word" + std::to_string(i) + (i % 7 == 0 ? "  " : " ");
  subject += "end";
  auto field = raw_field(format(subject), "Subject");
  auto lines = lines_of(field + "\r\n");
  ASSERT_GT(lines.size(), 2u);
  for (const auto& line : lines)
    EXPECT_LE(line.size(), 78u) << line;
  EXPECT_EQ(unfold(field), "Subject: " + subject);
}

TEST(format_mail, encodes_an_ascii_subject_that_looks_like_an_encoded_word) {
  std::string subject = "=?UTF-8?B?SGk=?= literally";
  auto field = raw_field(format(subject), "Subject");
  EXPECT_EQ(joined(decoded_words(unfold(field))), subject);
}

TEST(format_mail, strips_cr_and_lf_so_no_header_can_be_injected) {
  auto mail = format("Disk full\r\nBcc: victim@example.org\r\n\r\nfake body", "real body\n",
                     settings("vigil@example.com\r\nX-Injected: from",
                              {"ops@example.org\nBcc: victim2@example.org", "a@b.org\r"}));
  auto head = head_of(mail);
  for (const auto& line : lines_of(head)) {
    EXPECT_NE(line.rfind("Bcc:", 0), 0u) << line;
    EXPECT_NE(line.rfind("X-Injected:", 0), 0u) << line;
  }
  EXPECT_EQ(unfold(raw_field(mail, "Subject")),
            "Subject: Disk full Bcc: victim@example.org fake body");
  EXPECT_EQ(body_of(mail), "real body\r\n");
  expect_crlf_only(mail);
}

TEST(format_mail, leaves_no_bare_lf_or_cr_in_the_body) {
  auto mail = format("s", "unix\nmac\rdos\r\nmixed\n\r\nlast");
  expect_crlf_only(mail);
  EXPECT_EQ(body_of(mail), "unix\r\nmac\r\ndos\r\nmixed\r\n\r\nlast\r\n");
}

TEST(format_mail, sends_a_non_ascii_body_as_quoted_printable) {
  auto mail = format("s", "Temp\xC3\xA9rature 97 \xC2\xB0"
                          "C\nratio=1 \nend\t\n");
  EXPECT_EQ(raw_field(mail, "Content-Transfer-Encoding"),
            "Content-Transfer-Encoding: quoted-printable");
  // '=' is escaped, trailing white space is encoded so transport cannot strip it.
  EXPECT_EQ(body_of(mail), "Temp=C3=A9rature 97 =C2=B0C\r\nratio=3D1=20\r\nend=09\r\n");
}

TEST(format_mail, soft_breaks_long_lines_at_76_columns) {
  std::string line(2000, 'x');
  line += "\xC3\xA9"; // forces quoted-printable
  auto body = body_of(format("s", line + "\n"));
  std::string decoded;
  for (const auto& l : lines_of(body)) {
    EXPECT_LE(l.size(), 76u);
    decoded += l.back() == '=' ? l.substr(0, l.size() - 1) : l + "\n";
  }
  EXPECT_EQ(decoded, std::string(2000, 'x') + "=C3=A9\n");
}

TEST(format_mail, keeps_a_long_ascii_line_only_up_to_998_bytes_unencoded) {
  auto short_enough = format("s", std::string(998, 'y'));
  EXPECT_EQ(raw_field(short_enough, "Content-Transfer-Encoding"),
            "Content-Transfer-Encoding: 7bit");
  auto too_long = format("s", std::string(999, 'y'));
  EXPECT_EQ(raw_field(too_long, "Content-Transfer-Encoding"),
            "Content-Transfer-Encoding: quoted-printable");
  for (const auto& l : lines_of(body_of(too_long)))
    EXPECT_LE(l.size(), 76u);
}

TEST(format_mail, quotes_or_encodes_display_names) {
  auto mail = format("s", "b\n",
                     settings("\"Vigil, web1\" <vigil@example.com>",
                              {"M\xC3\xBCller <m@example.de>", "Say \"hi\" <h@example.org>"}));
  EXPECT_EQ(raw_field(mail, "From"), "From: \"Vigil, web1\" <vigil@example.com>");
  auto to = unfold(raw_field(mail, "To"));
  EXPECT_EQ(joined(decoded_words(to)), "M\xC3\xBCller");
  EXPECT_NE(to.find("<m@example.de>, \"Say \\\"hi\\\"\" <h@example.org>"), std::string::npos) << to;
}

TEST(format_mail, folds_a_long_recipient_list_between_addresses) {
  std::vector<std::string> to;
  for (int i = 0; i < 12; ++i)
    to.push_back("recipient" + std::to_string(i) + "@example.org");
  auto field = raw_field(format("s", "b", settings("vigil@example.com", to)), "To");
  auto lines = lines_of(field + "\r\n");
  ASSERT_GT(lines.size(), 2u);
  for (const auto& line : lines) {
    EXPECT_LE(line.size(), 78u);
    EXPECT_NE(line.back(), ' ');
  }
  std::string expected = "To: ";
  for (size_t i = 0; i < to.size(); ++i)
    expected += to[i] + (i + 1 < to.size() ? ", " : "");
  EXPECT_EQ(unfold(field), expected);
}

TEST(validate_smtp_settings, accepts_a_complete_configuration) {
  EXPECT_EQ(validate_smtp_settings(settings()), std::nullopt);
  auto s = settings("Vigil <vigil@example.com>", {"Ops <ops@example.org>"});
  s.url = "SMTPS://mail.example.org:465";
  EXPECT_EQ(validate_smtp_settings(s), std::nullopt);
}

TEST(validate_smtp_settings, names_what_is_wrong) {
  auto s = settings();
  s.url = "https://mail.example.org";
  ASSERT_TRUE(validate_smtp_settings(s));
  EXPECT_NE(validate_smtp_settings(s)->find("smtp://"), std::string::npos);

  s = settings();
  s.to.clear();
  ASSERT_TRUE(validate_smtp_settings(s));
  EXPECT_NE(validate_smtp_settings(s)->find("recipients"), std::string::npos);

  s = settings("vigil@example.com", {"ops"});
  ASSERT_TRUE(validate_smtp_settings(s));
  EXPECT_NE(validate_smtp_settings(s)->find("'ops'"), std::string::npos);

  s = settings("vigil@example.com", {"ops@example.org\r\nBcc: victim@example.org"});
  ASSERT_TRUE(validate_smtp_settings(s)) << "an injected header leaves an invalid address";

  s = settings("");
  ASSERT_TRUE(validate_smtp_settings(s));
  EXPECT_NE(validate_smtp_settings(s)->find("sender"), std::string::npos);

  s = settings();
  s.timeout = std::chrono::milliseconds{0};
  EXPECT_TRUE(validate_smtp_settings(s));
}

TEST(validate_smtp_settings, never_shows_the_url_password) {
  auto s = settings();
  s.url = "http://bob:hunter2-secret@mail.example.org";
  auto error = validate_smtp_settings(s);
  ASSERT_TRUE(error);
  EXPECT_EQ(error->find("hunter2-secret"), std::string::npos) << *error;
  EXPECT_NE(error->find("http://mail.example.org"), std::string::npos) << *error;
}

} // namespace
} // namespace vigil::test
