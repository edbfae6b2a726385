#include "io/logs/timestamp_parser.hpp"

#include <array>
#include <cstdio>
#include <ctime>

namespace vigil {

namespace {

using namespace std::chrono;

// A cursor over the line; every reader returns false without consuming on mismatch.
struct text_cursor {
  std::string_view text;
  std::size_t pos = 0;

  bool at_end() const { return pos >= text.size(); }
  char peek() const { return at_end() ? '\0' : text[pos]; }
  bool take(char c) {
    if (peek() != c)
      return false;
    ++pos;
    return true;
  }
  static bool is_digit(char c) { return c >= '0' && c <= '9'; }
  // Exactly `count` digits.
  bool digits(int count, int& value) {
    if (pos + static_cast<std::size_t>(count) > text.size())
      return false;
    int v = 0;
    for (int i = 0; i < count; ++i) {
      char c = text[pos + static_cast<std::size_t>(i)];
      if (!is_digit(c))
        return false;
      v = v * 10 + (c - '0');
    }
    value = v;
    pos += static_cast<std::size_t>(count);
    return true;
  }
};

struct civil_time {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, millis = 0;
  std::optional<minutes> utc_offset; // absent: naive time
};

constexpr std::array<std::string_view, 12> month_names = {"jan", "feb", "mar", "apr", "may", "jun",
                                                          "jul", "aug", "sep", "oct", "nov", "dec"};

bool read_month_name(text_cursor& cur, int& month) {
  if (cur.pos + 3 > cur.text.size())
    return false;
  for (std::size_t m = 0; m < month_names.size(); ++m) {
    bool same = true;
    for (std::size_t i = 0; i < 3; ++i) {
      char c = cur.text[cur.pos + i];
      if (c >= 'A' && c <= 'Z')
        c = static_cast<char>(c - 'A' + 'a');
      same = same && c == month_names[m][i];
    }
    if (same) {
      month = static_cast<int>(m) + 1;
      cur.pos += 3;
      return true;
    }
  }
  return false;
}

// HH:MM:SS
bool read_clock(text_cursor& cur, civil_time& t) {
  return cur.digits(2, t.hour) && cur.take(':') && cur.digits(2, t.minute) && cur.take(':') &&
         cur.digits(2, t.second);
}

// '.' or ',' followed by 1..9 digits; kept to millisecond precision.
void read_fraction(text_cursor& cur, civil_time& t) {
  if ((cur.peek() != '.' && cur.peek() != ',') || cur.pos + 1 >= cur.text.size() ||
      !text_cursor::is_digit(cur.text[cur.pos + 1]))
    return;
  ++cur.pos;
  int scale = 100;
  while (text_cursor::is_digit(cur.peek())) {
    t.millis += (cur.peek() - '0') * scale;
    scale /= 10;
    ++cur.pos;
  }
}

// "Z", "+02:00", "+0200", "-05"; after a space only the unambiguous "+0200" / "+02:00" forms
// count ("... 10:30:45 -12 degrees" is no zone). Leaves t.utc_offset empty if none.
void read_zone(text_cursor& cur, civil_time& t) {
  std::size_t start = cur.pos;
  bool spaced = cur.take(' ');
  if (!spaced && (cur.take('Z') || cur.take('z'))) {
    t.utc_offset = minutes(0);
    return;
  }
  char sign = cur.peek();
  int hours = 0, mins = 0;
  if ((sign == '+' || sign == '-') && (++cur.pos, cur.digits(2, hours))) {
    bool has_minutes = (cur.take(':') && cur.digits(2, mins)) || cur.digits(2, mins);
    if ((has_minutes || !spaced) && hours <= 23 && mins <= 59) {
      minutes offset = hours * 60min + minutes(mins);
      t.utc_offset = sign == '-' ? -offset : offset;
      return;
    }
  }
  cur.pos = start;
}

// YYYY-MM-DD[T ]HH:MM:SS[.frac][zone] ('/' accepted as the date separator).
bool read_iso8601(text_cursor& cur, civil_time& t) {
  std::size_t start = cur.pos;
  char sep = 0;
  bool ok = cur.digits(4, t.year) && (sep = cur.peek(), sep == '-' || sep == '/') &&
            cur.take(sep) && cur.digits(2, t.month) && cur.take(sep) && cur.digits(2, t.day) &&
            (cur.take('T') || cur.take('t') || cur.take(' ')) && read_clock(cur, t);
  if (!ok) {
    cur.pos = start;
    return false;
  }
  read_fraction(cur, t);
  read_zone(cur, t);
  return true;
}

// Mmm dd HH:MM:SS, day space-padded or not.
bool read_rfc3164(text_cursor& cur, civil_time& t) {
  std::size_t start = cur.pos;
  bool ok = read_month_name(cur, t.month) && cur.take(' ');
  if (ok) {
    cur.take(' ');
    if (!cur.digits(2, t.day)) {
      ok = cur.digits(1, t.day);
    }
  }
  ok = ok && cur.take(' ') && read_clock(cur, t);
  if (!ok) {
    cur.pos = start;
    return false;
  }
  read_fraction(cur, t); // some daemons add milliseconds
  return true;
}

// dd/Mon/yyyy:HH:MM:SS +zzzz  (the part inside '[' ... ']')
bool read_common_log(text_cursor& cur, civil_time& t) {
  std::size_t start = cur.pos;
  bool ok = cur.digits(2, t.day) && cur.take('/') && read_month_name(cur, t.month) &&
            cur.take('/') && cur.digits(4, t.year) && cur.take(':') && read_clock(cur, t);
  if (!ok) {
    cur.pos = start;
    return false;
  }
  read_fraction(cur, t);
  read_zone(cur, t);
  return true;
}

std::optional<sys_seconds> to_sys_seconds(const civil_time& t, naive_time_zone zone) {
  year_month_day date{year(t.year), month(static_cast<unsigned>(t.month)),
                      day(static_cast<unsigned>(t.day))};
  if (!date.ok() || t.hour > 23 || t.minute > 59 || t.second > 60)
    return std::nullopt;
  sys_seconds local = sys_days(date) + hours(t.hour) + minutes(t.minute) + seconds(t.second);
  if (t.utc_offset)
    return local - *t.utc_offset;
  if (zone == naive_time_zone::utc)
    return local;
  // mktime applies the host's zone rules, DST included.
  std::tm tm{};
  tm.tm_year = t.year - 1900;
  tm.tm_mon = t.month - 1;
  tm.tm_mday = t.day;
  tm.tm_hour = t.hour;
  tm.tm_min = t.minute;
  tm.tm_sec = t.second;
  tm.tm_isdst = -1;
  std::time_t seconds_since_epoch = std::mktime(&tm);
  if (seconds_since_epoch == static_cast<std::time_t>(-1))
    return std::nullopt;
  return sys_seconds(seconds(seconds_since_epoch));
}

std::optional<log_time> to_log_time(const civil_time& t, naive_time_zone zone) {
  auto secs = to_sys_seconds(t, zone);
  if (!secs)
    return std::nullopt;
  return log_time(*secs) + milliseconds(t.millis);
}

int year_of(log_time time, naive_time_zone zone) {
  if (zone == naive_time_zone::local) {
    std::time_t tt = system_clock::to_time_t(time_point_cast<system_clock::duration>(time));
    std::tm tm{};
    localtime_r(&tt, &tm);
    return tm.tm_year + 1900;
  }
  return static_cast<int>(year_month_day(floor<days>(time)).year());
}

} // namespace

std::optional<log_time> timestamp_parser::parse(std::string_view line, log_time now) const {
  text_cursor cur{line};
  civil_time t;

  // RFC 5424 "<PRI>VERSION SP" or an RFC 3164 "<PRI>" header.
  if (cur.take('<')) {
    int digits = 0;
    while (text_cursor::is_digit(cur.peek()) && digits < 3) {
      ++cur.pos;
      ++digits;
    }
    if (digits == 0 || !cur.take('>'))
      return std::nullopt;
    std::size_t after_pri = cur.pos;
    int version = 0;
    if (cur.digits(1, version) && cur.take(' ')) {
      if (read_iso8601(cur, t))
        return to_log_time(t, zone_);
      return std::nullopt; // "-" (NILVALUE) or garbage
    }
    cur.pos = after_pri;
  }

  cur.take('['); // "[2024-01-15 10:30:45] ..."
  if (read_iso8601(cur, t))
    return to_log_time(t, zone_);

  if (read_rfc3164(cur, t)) {
    t.year = year_of(now, zone_);
    auto candidate = to_log_time(t, zone_);
    if (candidate && *candidate > now + days(7)) {
      t.year -= 1; // a December line read in January
      candidate = to_log_time(t, zone_);
    }
    return candidate;
  }

  // Common Log Format: the bracketed date follows the client address and identities.
  auto head = line.substr(0, 128);
  for (auto open = head.find('['); open != std::string_view::npos;
       open = head.find('[', open + 1)) {
    text_cursor inner{line, open + 1};
    civil_time clf;
    if (read_common_log(inner, clf))
      return to_log_time(clf, zone_);
  }
  return std::nullopt;
}

std::string format_iso8601_utc(log_time time, timestamp_precision precision) {
  auto day_point = floor<days>(time);
  year_month_day date(day_point);
  hh_mm_ss<milliseconds> clock(time - day_point);
  char buffer[40];
  int year_value = static_cast<int>(date.year());
  unsigned month_value = static_cast<unsigned>(date.month());
  unsigned day_value = static_cast<unsigned>(date.day());
  auto h = static_cast<int>(clock.hours().count());
  auto m = static_cast<int>(clock.minutes().count());
  auto s = static_cast<int>(clock.seconds().count());
  if (precision == timestamp_precision::milliseconds)
    std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", year_value,
                  month_value, day_value, h, m, s, static_cast<int>(clock.subseconds().count()));
  else
    std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02uT%02d:%02d:%02dZ", year_value, month_value,
                  day_value, h, m, s);
  return buffer;
}

} // namespace vigil
