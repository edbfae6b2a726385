#include "io/http/rate_limiter.hpp"

#include <gtest/gtest.h>

#include <string>

namespace vigil {
namespace {

using namespace std::chrono_literals;
using clock_type = rate_limiter::clock;

boost::asio::ip::address ip(const std::string& text) {
  return boost::asio::ip::make_address(text);
}

// A rate_limiter on a clock that only moves when the test says so.
struct manual_clock_limiter {
  explicit manual_clock_limiter(std::uint32_t per_minute,
                                std::size_t max_addresses = rate_limiter::default_max_addresses)
      : limiter(per_minute, max_addresses, [this] { return now; }) {}

  // Admits `count` requests from `client`; returns how many were admitted.
  int admitted_of(int count, const std::string& client) {
    int admitted = 0;
    for (int i = 0; i < count; ++i)
      admitted += limiter.admit(ip(client)).admitted ? 1 : 0;
    return admitted;
  }

  clock_type::time_point now{1h};
  rate_limiter limiter;
};

TEST(RateLimiter, FullBucketAdmitsPerMinuteThenRefusesWithRetryAfter) {
  manual_clock_limiter t{5};
  EXPECT_EQ(t.admitted_of(5, "10.0.0.1"), 5);
  auto refused = t.limiter.admit(ip("10.0.0.1"));
  EXPECT_FALSE(refused.admitted);
  EXPECT_EQ(refused.retry_after, 12s); // 5 a minute: one token every 12 s
  t.now += 5s;
  EXPECT_EQ(t.limiter.admit(ip("10.0.0.1")).retry_after, 7s);
  t.now += 6500ms;
  EXPECT_EQ(t.limiter.admit(ip("10.0.0.1")).retry_after, 1s); // 0.5 s rounds up to whole seconds
  t.now += 500ms;
  EXPECT_TRUE(t.limiter.admit(ip("10.0.0.1")).admitted);
  EXPECT_FALSE(t.limiter.admit(ip("10.0.0.1")).admitted);
}

TEST(RateLimiter, BucketRefillsContinuouslyUpToItsCapacity) {
  manual_clock_limiter t{60}; // one token a second
  EXPECT_EQ(t.admitted_of(60, "10.0.0.1"), 60);
  t.now += 10s;
  EXPECT_EQ(t.admitted_of(20, "10.0.0.1"), 10);
  t.now += 1h; // refills to the capacity, not beyond
  EXPECT_EQ(t.admitted_of(100, "10.0.0.1"), 60);
}

TEST(RateLimiter, RetryAfterIsAtLeastOneSecond) {
  manual_clock_limiter t{6000}; // a token every 10 ms
  EXPECT_EQ(t.admitted_of(6000, "10.0.0.1"), 6000);
  auto refused = t.limiter.admit(ip("10.0.0.1"));
  EXPECT_FALSE(refused.admitted);
  EXPECT_EQ(refused.retry_after, 1s);
}

TEST(RateLimiter, AddressesHaveTheirOwnBuckets) {
  manual_clock_limiter t{3};
  EXPECT_EQ(t.admitted_of(4, "10.0.0.1"), 3);
  EXPECT_EQ(t.admitted_of(4, "10.0.0.2"), 3);
  EXPECT_EQ(t.admitted_of(4, "2001:db8::1"), 3);
  // The same IPv4 client seen through a dual-stack socket shares its bucket.
  EXPECT_EQ(t.admitted_of(1, "::ffff:10.0.0.1"), 0);
  EXPECT_EQ(t.limiter.tracked_addresses(), 3u);
}

TEST(RateLimiter, ZeroPerMinuteAdmitsEverythingAndTracksNothing) {
  manual_clock_limiter t{0};
  EXPECT_EQ(t.admitted_of(10'000, "10.0.0.1"), 10'000);
  EXPECT_EQ(t.limiter.tracked_addresses(), 0u);
}

TEST(RateLimiter, ManyAddressesKeepMemoryBoundedEvictingTheIdlest) {
  manual_clock_limiter t{2, 100};
  // Exhausts one client, then 10,000 other addresses pass while it keeps coming back.
  EXPECT_EQ(t.admitted_of(3, "10.0.0.1"), 2);
  for (int i = 0; i < 10'000; ++i) {
    auto client = "2001:db8::" + std::to_string(i % 9000 + 1);
    t.limiter.admit(ip(client));
    if (i % 50 == 0) { // seen recently enough never to be the idlest
      EXPECT_FALSE(t.limiter.admit(ip("10.0.0.1")).admitted) << i;
    }
  }
  EXPECT_EQ(t.limiter.tracked_addresses(), 100u);
  // An evicted address comes back with a full bucket: forgetting it costs nothing worse.
  EXPECT_EQ(t.admitted_of(3, "2001:db8::1"), 2);
}

} // namespace
} // namespace vigil
