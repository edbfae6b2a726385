#include "io/http/url.hpp"

#include <gtest/gtest.h>

namespace vigil {
namespace {

TEST(Url, PercentDecode) {
  EXPECT_EQ(percent_decode("a%20b%2Fc", false), "a b/c");
  EXPECT_EQ(percent_decode("a+b", false), "a+b");
  EXPECT_EQ(percent_decode("a+b", true), "a b");
  EXPECT_EQ(percent_decode("bad%2", false), "bad%2");
  EXPECT_EQ(percent_decode("bad%zz", false), "bad%zz");
}

TEST(Url, QueryString) {
  auto query = parse_query_string("a=1&b=x%20y&flag&&c=a%3Db&a=2");
  EXPECT_EQ(query.at("a"), "2");
  EXPECT_EQ(query.at("b"), "x y");
  EXPECT_EQ(query.at("flag"), "");
  EXPECT_EQ(query.at("c"), "a=b");
  EXPECT_EQ(query.size(), 4u);
}

TEST(Url, ParseAbsoluteUrls) {
  auto url = parse_url("https://backend.example:8443/api/heartbeat?x=1#frag");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->scheme, "https");
  EXPECT_EQ(url->host, "backend.example");
  EXPECT_EQ(url->port, 8443);
  EXPECT_EQ(url->target, "/api/heartbeat?x=1");

  url = parse_url("HTTP://127.0.0.1");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->scheme, "http");
  EXPECT_EQ(url->port, 80);
  EXPECT_EQ(url->target, "/");

  url = parse_url("http://[::1]:9000?q");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->host, "::1");
  EXPECT_EQ(url->port, 9000);
  EXPECT_EQ(url->target, "/?q");

  EXPECT_FALSE(parse_url("ftp://x/"));
  EXPECT_FALSE(parse_url("http://"));
  EXPECT_FALSE(parse_url("http://host:99999/"));
  EXPECT_FALSE(parse_url("http://host:abc/"));
  EXPECT_FALSE(parse_url("http://user:pw@host/"));
  EXPECT_FALSE(parse_url("/relative"));
}

} // namespace
} // namespace vigil
