#include "io/proc/counter_delta.hpp"

#include <gtest/gtest.h>

namespace vigil::proc {
namespace {

TEST(counter_delta, increase_is_the_difference) {
  EXPECT_EQ(counter_delta(100, 250), 150u);
  EXPECT_EQ(counter_delta(7, 7), 0u);
  EXPECT_EQ(counter_delta(5'000'000'000, 5'000'000'010), 10u);
}

TEST(counter_delta, a_32_bit_wrap_counts_the_bytes_across_the_wrap) {
  // 4294967000 → 2^32 − 1 is 295, then 0 … 204 is 205 more.
  EXPECT_EQ(counter_delta(4'294'967'000, 204), 500u);
  EXPECT_EQ(counter_delta(0xffffffffu, 0), 1u);
}

TEST(counter_delta, a_reset_has_no_value) {
  // Far from the 32-bit top: the counter restarted, it did not wrap.
  EXPECT_EQ(counter_delta(1'000'000, 10), std::nullopt);
  // Above 32 bits it cannot be a 32-bit wrap.
  EXPECT_EQ(counter_delta(10'000'000'000, 100), std::nullopt);
}

} // namespace
} // namespace vigil::proc
