#include "io/logs/timestamp_parser.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>

namespace vigil {
namespace {

using namespace std::chrono;

log_time utc(int y, unsigned mo, unsigned d, int h, int mi, int s, int ms = 0) {
  return log_time(sys_days(year(y) / month(mo) / day(d))) + hours(h) + minutes(mi) + seconds(s) +
         milliseconds(ms);
}

const log_time march_2024 = utc(2024, 3, 1, 12, 0, 0);

class timestamp_parser_test : public ::testing::Test {
protected:
  timestamp_parser parser;
  std::optional<log_time> parse(std::string_view line, log_time now = march_2024) {
    return parser.parse(line, now);
  }
};

TEST_F(timestamp_parser_test, rfc3339_in_utc) {
  EXPECT_EQ(parse("2024-01-15T10:30:45Z app started"), utc(2024, 1, 15, 10, 30, 45));
  EXPECT_EQ(parse("2024-01-15t10:30:45z"), utc(2024, 1, 15, 10, 30, 45));
}

TEST_F(timestamp_parser_test, fractional_seconds_with_dot_or_comma) {
  EXPECT_EQ(parse("2024-01-15T10:30:45.123Z x"), utc(2024, 1, 15, 10, 30, 45, 123));
  EXPECT_EQ(parse("2024-01-15 10:30:45,123 INFO x"), utc(2024, 1, 15, 10, 30, 45, 123));
  EXPECT_EQ(parse("2024-01-15T10:30:45.5Z"), utc(2024, 1, 15, 10, 30, 45, 500));
  EXPECT_EQ(parse("2024-01-15T10:30:45.123456789Z"), utc(2024, 1, 15, 10, 30, 45, 123));
}

TEST_F(timestamp_parser_test, zone_offsets_are_applied) {
  EXPECT_EQ(parse("2024-01-15T10:30:45+02:00 x"), utc(2024, 1, 15, 8, 30, 45));
  EXPECT_EQ(parse("2024-01-15T10:30:45-05:30 x"), utc(2024, 1, 15, 16, 0, 45));
  EXPECT_EQ(parse("2024-01-15T10:30:45+0200"), utc(2024, 1, 15, 8, 30, 45));
  EXPECT_EQ(parse("2024-01-15T10:30:45.250+01"), utc(2024, 1, 15, 9, 30, 45, 250));
  EXPECT_EQ(parse("2024-01-15 10:30:45 +0100 x"), utc(2024, 1, 15, 9, 30, 45));
  // Across midnight and a year boundary.
  EXPECT_EQ(parse("2024-01-01T01:00:00+02:00"), utc(2023, 12, 31, 23, 0, 0));
  // A bare "-12" after a space is text, not a zone.
  EXPECT_EQ(parse("2024-01-15 10:30:45 -12 degrees"), utc(2024, 1, 15, 10, 30, 45));
}

TEST_F(timestamp_parser_test, rfc5424_header) {
  EXPECT_EQ(parse("<34>1 2024-01-15T10:30:45.123Z host app 1234 ID47 - msg"),
            utc(2024, 1, 15, 10, 30, 45, 123));
  EXPECT_EQ(parse("<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc"),
            utc(2003, 8, 24, 12, 14, 15));
  EXPECT_EQ(parse("<34>1 - host app - - - no time"), std::nullopt);
}

TEST_F(timestamp_parser_test, rfc3164_takes_the_year_from_now) {
  EXPECT_EQ(parse("Jan  5 10:30:45 host sshd[1]: x"), utc(2024, 1, 5, 10, 30, 45));
  EXPECT_EQ(parse("Jan 15 10:30:45 host x"), utc(2024, 1, 15, 10, 30, 45));
  EXPECT_EQ(parse("Jan 5 10:30:45 host x"), utc(2024, 1, 5, 10, 30, 45));
  EXPECT_EQ(parse("<34>Oct 11 22:14:15 mymachine su: x", utc(2024, 10, 12, 0, 0, 0)),
            utc(2024, 10, 11, 22, 14, 15));
  EXPECT_EQ(parse("Feb 29 00:00:01 leap"), utc(2024, 2, 29, 0, 0, 1));
}

TEST_F(timestamp_parser_test, rfc3164_december_lines_read_in_january_are_last_year) {
  auto new_year = utc(2025, 1, 2, 0, 5, 0);
  EXPECT_EQ(parse("Dec 31 23:59:59 host x", new_year), utc(2024, 12, 31, 23, 59, 59));
  EXPECT_EQ(parse("Jan  1 23:59:59 host x", new_year), utc(2025, 1, 1, 23, 59, 59));
  // A few days of clock skew ahead of now is still this year.
  EXPECT_EQ(parse("Dec 30 10:00:00 x", utc(2024, 12, 28, 0, 0, 0)), utc(2024, 12, 30, 10, 0, 0));
}

TEST_F(timestamp_parser_test, common_log_format_inside_the_line_start) {
  EXPECT_EQ(parse(R"(127.0.0.1 - frank [15/Jan/2024:10:30:45 +0100] "GET / HTTP/1.1" 200)"),
            utc(2024, 1, 15, 9, 30, 45));
  EXPECT_EQ(parse(R"([15/Jan/2024:10:30:45 -0000] x)"), utc(2024, 1, 15, 10, 30, 45));
}

TEST_F(timestamp_parser_test, other_common_layouts) {
  EXPECT_EQ(parse("2024/01/15 10:30:45 [error] 123#0: x"), utc(2024, 1, 15, 10, 30, 45));
  EXPECT_EQ(parse("[2024-01-15 10:30:45] local.ERROR: x"), utc(2024, 1, 15, 10, 30, 45));
}

TEST_F(timestamp_parser_test, garbage_is_nullopt) {
  for (const char* line :
       {"", "hello world", "2024-13-45T10:00:00Z", "2024-02-30T10:00:00Z", "2024-01-15T25:00:00Z",
        "2024-01-15", "Foo 12 10:30:45 x", "Jan 32 10:30:45 x", "Jan  5 10:30 x", "<34", "<>x",
        "<1234>1 2024-01-15T10:30:45Z", "[15/Jan/2024 no", "12:30:45 only a clock",
        "20240115T103045Z"})
    EXPECT_EQ(parse(line), std::nullopt) << line;
}

TEST_F(timestamp_parser_test, naive_times_can_be_local) {
  const char* saved = std::getenv("TZ");
  std::string saved_tz = saved ? saved : "";
  ::setenv("TZ", "XYZ-2", 1); // POSIX: two hours east of UTC, no DST
  ::tzset();
  timestamp_parser local(naive_time_zone::local);
  EXPECT_EQ(local.parse("2024-01-15 10:30:45 x", march_2024), utc(2024, 1, 15, 8, 30, 45));
  EXPECT_EQ(local.parse("Jan 15 10:30:45 x", march_2024), utc(2024, 1, 15, 8, 30, 45));
  // An explicit zone still wins.
  EXPECT_EQ(local.parse("2024-01-15T10:30:45Z", march_2024), utc(2024, 1, 15, 10, 30, 45));
  if (saved)
    ::setenv("TZ", saved_tz.c_str(), 1);
  else
    ::unsetenv("TZ");
  ::tzset();
}

TEST(timestamp_format_test, iso8601_utc) {
  auto t = utc(2024, 1, 15, 10, 30, 45, 123);
  EXPECT_EQ(format_iso8601_utc(t), "2024-01-15T10:30:45Z");
  EXPECT_EQ(format_iso8601_utc(t, timestamp_precision::milliseconds), "2024-01-15T10:30:45.123Z");
  EXPECT_EQ(format_iso8601_utc(utc(1999, 12, 31, 23, 59, 59)), "1999-12-31T23:59:59Z");
  timestamp_parser parser;
  EXPECT_EQ(parser.parse(format_iso8601_utc(t, timestamp_precision::milliseconds), t), t);
}

} // namespace
} // namespace vigil
