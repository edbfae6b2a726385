#include "io/http/retry_after.hpp"

#include <gtest/gtest.h>

namespace vigil {
namespace {

using namespace std::chrono;

// 1994-11-06T08:49:37Z, the example date of RFC 9110.
const system_clock::time_point example_date = system_clock::from_time_t(784111777);

TEST(RetryAfter, DelaySeconds) {
  EXPECT_EQ(parse_retry_after("120"), seconds{120});
  EXPECT_EQ(parse_retry_after(" 0 "), seconds{0});
  EXPECT_EQ(parse_retry_after("99999999999999999999999"), seconds{0x7fffffff});
  EXPECT_FALSE(parse_retry_after("12a"));
  EXPECT_FALSE(parse_retry_after("-5"));
  EXPECT_FALSE(parse_retry_after(""));
  EXPECT_FALSE(parse_retry_after("soon"));
}

TEST(RetryAfter, HttpDateInAllThreeForms) {
  auto now = example_date - seconds{30};
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now), seconds{30});
  EXPECT_EQ(parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", now), seconds{30});
  EXPECT_EQ(parse_retry_after("Sun Nov  6 08:49:37 1994", now), seconds{30});
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), example_date);
}

TEST(RetryAfter, PastDateMeansNow) {
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", example_date + hours{1}),
            seconds{0});
}

TEST(RetryAfter, SubSecondRemainderRoundsUp) {
  auto now = example_date - milliseconds{1500};
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now), seconds{2});
}

TEST(RetryAfter, MalformedDates) {
  EXPECT_FALSE(parse_retry_after("Sun, 06 Foo 1994 08:49:37 GMT"));
  EXPECT_FALSE(parse_retry_after("Sun, 06 Nov 1994 08:49 GMT"));
  EXPECT_FALSE(parse_retry_after("Sun, 32 Nov 1994 08:49:37 GMT"));
  EXPECT_FALSE(parse_retry_after("Sun, 06 Nov 1994 08:49:37 UTC"));
}

} // namespace
} // namespace vigil
