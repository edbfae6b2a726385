#include "io/http/jwt.hpp"

#include <gtest/gtest.h>

namespace vigil {
namespace {

// Payloads {"sub":"a","exp":1700000000} and {"sub":"a"}, base64url without padding.
constexpr const char* header = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";

TEST(jwt_expiry, reads_the_exp_claim) {
  auto token = std::string{header} + ".eyJzdWIiOiJhIiwiZXhwIjoxNzAwMDAwMDAwfQ.c2ln";
  auto exp = jwt_expiry(token);
  ASSERT_TRUE(exp);
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::seconds>(exp->time_since_epoch()).count(),
            1700000000);
}

TEST(jwt_expiry, handles_urlsafe_characters_and_padding) {
  // {"exp":1700000000,"x":"??>"} encodes with '-' / '_' in the base64url alphabet.
  auto token = std::string{header} + ".eyJleHAiOjE3MDAwMDAwMDAsIngiOiI_Pz4ifQ==.c2ln";
  auto exp = jwt_expiry(token);
  ASSERT_TRUE(exp);
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::seconds>(exp->time_since_epoch()).count(),
            1700000000);
}

TEST(jwt_expiry, is_empty_for_tokens_without_a_usable_exp) {
  EXPECT_FALSE(jwt_expiry(""));
  EXPECT_FALSE(jwt_expiry("opaque-api-key"));
  EXPECT_FALSE(jwt_expiry(std::string{header} + ".eyJzdWIiOiJhIn0.c2ln")); // no exp
  EXPECT_FALSE(jwt_expiry(std::string{header} + ".not*base64.c2ln"));
  EXPECT_FALSE(jwt_expiry(std::string{header} + ".bm90IGpzb24.c2ln")); // "not json"
}

} // namespace
} // namespace vigil
