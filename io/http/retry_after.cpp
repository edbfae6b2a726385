#include "io/http/retry_after.hpp"

#include <array>
#include <cctype>
#include <charconv>
#include <ctime>
#include <string>

namespace vigil {

namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
    text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.remove_suffix(1);
  return text;
}

int month_index(std::string_view name) {
  static constexpr std::array<std::string_view, 12> months = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (std::size_t i = 0; i < months.size(); ++i)
    if (months[i] == name)
      return static_cast<int>(i);
  return -1;
}

bool parse_int(std::string_view text, int& out) {
  if (text.empty())
    return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && ptr == text.data() + text.size();
}

// "08:49:37"
bool parse_clock(std::string_view text, std::tm& tm) {
  return text.size() == 8 && text[2] == ':' && text[5] == ':' &&
         parse_int(text.substr(0, 2), tm.tm_hour) && parse_int(text.substr(3, 2), tm.tm_min) &&
         parse_int(text.substr(6, 2), tm.tm_sec);
}

// Splits on single spaces into at most N tokens; false if there are more.
template <std::size_t N>
bool split_words(std::string_view text, std::array<std::string_view, N>& words,
                 std::size_t& count) {
  count = 0;
  while (!text.empty()) {
    while (!text.empty() && text.front() == ' ')
      text.remove_prefix(1);
    if (text.empty())
      break;
    auto end = text.find(' ');
    if (count == N)
      return false;
    words[count++] = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end);
  }
  return true;
}

} // namespace

std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view text) {
  text = trim(text);
  std::array<std::string_view, 6> words;
  std::size_t count = 0;
  if (!split_words(text, words, count))
    return std::nullopt;
  std::tm tm{};
  bool ok = false;
  if (count == 6 && words[0].size() == 4 && words[0].back() == ',' && words[5] == "GMT") {
    // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
    tm.tm_mon = month_index(words[2]);
    ok = parse_int(words[1], tm.tm_mday) && tm.tm_mon >= 0 && parse_int(words[3], tm.tm_year) &&
         parse_clock(words[4], tm);
    tm.tm_year -= 1900;
  } else if (count == 4 && words[0].back() == ',' && words[3] == "GMT") {
    // RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT"; two-digit years are read as 19xx/20xx by
    // the 50-year rule of RFC 9110.
    auto date = words[1];
    if (date.size() == 9 && date[2] == '-' && date[6] == '-') {
      tm.tm_mon = month_index(date.substr(3, 3));
      int year = 0;
      ok = parse_int(date.substr(0, 2), tm.tm_mday) && tm.tm_mon >= 0 &&
           parse_int(date.substr(7, 2), year) && parse_clock(words[2], tm);
      tm.tm_year = year < 70 ? year + 100 : year;
    }
  } else if (count == 5) {
    // asctime: "Sun Nov  6 08:49:37 1994"
    tm.tm_mon = month_index(words[1]);
    ok = tm.tm_mon >= 0 && parse_int(words[2], tm.tm_mday) && parse_clock(words[3], tm) &&
         parse_int(words[4], tm.tm_year);
    tm.tm_year -= 1900;
  }
  if (!ok || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
      tm.tm_sec > 60 || tm.tm_year < 70)
    return std::nullopt;
  auto seconds = timegm(&tm);
  if (seconds == static_cast<std::time_t>(-1))
    return std::nullopt;
  return std::chrono::system_clock::from_time_t(seconds);
}

std::optional<std::chrono::seconds> parse_retry_after(std::string_view value,
                                                      std::chrono::system_clock::time_point now) {
  value = trim(value);
  if (value.empty())
    return std::nullopt;
  if (std::isdigit(static_cast<unsigned char>(value.front()))) {
    long long seconds = 0;
    auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ptr != value.data() + value.size())
      return std::nullopt;
    // Capped so that now + delay cannot overflow; ~68 years is "never" for every caller.
    constexpr long long cap = 0x7fffffff;
    if (ec == std::errc::result_out_of_range || seconds > cap)
      return std::chrono::seconds{cap};
    if (ec != std::errc{})
      return std::nullopt;
    return std::chrono::seconds{seconds};
  }
  auto when = parse_http_date(value);
  if (!when)
    return std::nullopt;
  if (*when <= now)
    return std::chrono::seconds{0};
  return std::chrono::ceil<std::chrono::seconds>(*when - now);
}

} // namespace vigil
