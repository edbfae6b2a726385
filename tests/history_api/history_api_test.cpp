// GET /api/history: parameter parsing, and the endpoint over real HTTP on 127.0.0.1 against a
// real history store (SQLite) holding known values.
#include "actors/history_api.hpp"
#include "tests/history_api/history_fixture.hpp"

#include <nlohmann/json.hpp>

namespace vigil {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using test::http_call;

constexpr int64_t t0 = 1'700'000'000'000; // 2023-11-14T22:13:20Z
constexpr int64_t s = 1000;

TEST(history_params, times_are_unix_seconds_or_iso_8601) {
  EXPECT_EQ(parse_history_time("1700000000"), t0);
  EXPECT_EQ(parse_history_time("1700000000.25"), t0 + 250);
  EXPECT_EQ(parse_history_time("2023-11-14T22:13:20Z"), t0);
  EXPECT_EQ(parse_history_time("2023-11-14T22:13:20.5Z"), t0 + 500);
  EXPECT_EQ(parse_history_time("2023-11-14T23:13:20+01:00"), t0);
  EXPECT_EQ(parse_history_time("2023-11-14T17:13:20-0500"), t0);
  EXPECT_EQ(parse_history_time("2023-11-14 22:13:20"), t0); // no zone: UTC
  EXPECT_EQ(parse_history_time("2023-11-14T22:13Z"), t0 - 20 * s);
  EXPECT_EQ(parse_history_time("2023-11-14"), t0 - (22 * 3600 + 13 * 60 + 20) * s);
  for (auto bad : {"", "yesterday", "2023-11-14T25:00:00Z", "2023-02-30T00:00:00Z", "17e8",
                   "1700000000.", "2023-11-14T22:13:20Zjunk", "-5"})
    EXPECT_FALSE(parse_history_time(bad)) << bad;
}

TEST(history_params, steps_have_a_unit) {
  EXPECT_EQ(parse_history_step("10s"), 10 * s);
  EXPECT_EQ(parse_history_step("1m"), 60 * s);
  EXPECT_EQ(parse_history_step("1h"), 3600 * s);
  EXPECT_EQ(parse_history_step("1d"), 86400 * s);
  EXPECT_EQ(parse_history_step("30"), 30 * s);
  for (auto bad : {"", "0s", "s", "10x", "1.5m", "-1m", "10 s"})
    EXPECT_FALSE(parse_history_step(bad)) << bad;
  EXPECT_EQ(format_history_step(10 * s), "10s");
  EXPECT_EQ(format_history_step(60 * s), "1m");
  EXPECT_EQ(format_history_step(90 * 60 * s), "90m");
  EXPECT_EQ(format_history_step(86400 * s), "1d");
}

TEST(history_params, defaults_and_errors_name_the_parameter) {
  auto ok = parse_history_request({{"metric", "cpu.usage_percent"}}, t0);
  ASSERT_TRUE(std::holds_alternative<history_api_request>(ok));
  auto r = std::get<history_api_request>(ok);
  EXPECT_EQ(r.to_ms, t0);
  EXPECT_EQ(r.from_ms, t0 - 3600 * s);
  EXPECT_EQ(r.step_ms, 10 * s); // 360 buckets over the default hour

  auto week = std::get<history_api_request>(
      parse_history_request({{"metric", "x"}, {"from", "1699395200"}, {"to", "1700000000"}}, t0));
  EXPECT_EQ(week.step_ms, 900 * s); // the smallest step with at most 1000 buckets

  auto error_of = [&](std::map<std::string, std::string> q) {
    auto x = parse_history_request(q, t0);
    EXPECT_TRUE(std::holds_alternative<history_api_error>(x));
    return std::holds_alternative<history_api_error>(x) ? std::get<history_api_error>(x)
                                                        : history_api_error{};
  };
  EXPECT_EQ(error_of({{"from", "soon"}}).parameter, "from");
  EXPECT_EQ(error_of({{"to", "later"}}).parameter, "to");
  EXPECT_EQ(error_of({{"step", "10parsecs"}}).parameter, "step");
  EXPECT_EQ(error_of({{"from", "1700000000"}, {"to", "1699999999"}}).parameter, "from");
  EXPECT_EQ(error_of({{"from", "0"}, {"to", "1700000000"}, {"step", "1s"}}).parameter, "step");
  EXPECT_EQ(error_of({{"metric", ""}}).parameter, "metric");
}

struct history_api_test : ::testing::Test {
  test::temp_directory dir;
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  test::registry_guard names{sys};
  std::string token = "history-read-token";
  settings_ptr current = [this] {
    settings st;
    st.node_id = "history-api-test";
    st.state_dir = dir.path().string();
    st.history.flush_interval = 100ms;
    st.api.tokens.push_back({token, {"read"}});
    return std::make_shared<const settings>(st);
  }();
  // The history's clock: an hour after the samples, so they are within raw retention.
  history_actor h =
      test::register_as(sys, "history",
                        sys.spawn<caf::detached>(history_with_clock, current,
                                                 history_clock{[] { return t0 + 3600 * s; }}));
  test::control_api_harness api{sys, current};

  void SetUp() override {
    ASSERT_NE(api.port(), 0) << "the control API did not start";
    // cpu.usage_percent = i at t0 + 5 s * i: two values per 10 s bucket.
    caf::scoped_actor self{sys};
    for (int i = 0; i < 12; ++i)
      self->send(
          h, atom::ingest_v,
          metric_sample{t0 + 5 * s * i,
                        {{"cpu.usage_percent", "", double(i)}, {"memory.used_percent", "", 50.0}}});
  }

  void TearDown() override { test::stop_actor(sys, h); }

  test::http_reply get(const std::string& path) {
    return http_call(api.port(), "GET", path, "", token);
  }
};

TEST_F(history_api_test, points_are_avg_min_max_per_step_from_the_raw_tier) {
  auto r = get("/api/history?metric=cpu.usage_percent&from=1700000000&to=1700000060&step=10s");
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = json::parse(r.body);
  EXPECT_EQ(j["metric"], "cpu.usage_percent");
  EXPECT_EQ(j["step"], "10s");
  EXPECT_EQ(j["step_seconds"], 10);
  EXPECT_EQ(j["tier"], "raw");
  EXPECT_EQ(j["from"], "2023-11-14T22:13:20Z");
  ASSERT_EQ(j["points"].size(), 6u);
  EXPECT_EQ(j["points"][0], json::parse("[1700000000, 0.5, 0.0, 1.0]"));
  EXPECT_EQ(j["points"][5], json::parse("[1700000050, 10.5, 10.0, 11.0]"));

  // The same range in ISO 8601 with an offset; the end is exclusive.
  auto iso = get("/api/history?metric=cpu.usage_percent&from=2023-11-14T23:13:20%2B01:00"
                 "&to=2023-11-14T22:13:40Z&step=10s");
  ASSERT_EQ(iso.status, 200) << iso.body;
  EXPECT_EQ(json::parse(iso.body)["points"],
            json::parse("[[1700000000, 0.5, 0.0, 1.0], [1700000010, 2.5, 2.0, 3.0]]"));
}

TEST_F(history_api_test, a_minute_step_reads_the_downsampled_tier) {
  auto r = get("/api/history?metric=cpu.usage_percent&from=1700000000&to=1700000060&step=1m");
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = json::parse(r.body);
  EXPECT_EQ(j["step"], "1m");
  EXPECT_EQ(j["tier"], "1m");
  ASSERT_EQ(j["points"].size(), 1u);
  EXPECT_EQ(j["points"][0], json::parse("[1700000000, 5.5, 0.0, 11.0]"));
}

TEST_F(history_api_test, without_a_metric_it_lists_the_metric_names) {
  test::http_reply r;
  ASSERT_TRUE(test::eventually([&] {
    r = get("/api/history");
    return r.status == 200 && json::parse(r.body)["count"] == 2;
  })) << r.status
      << " " << r.body;
  EXPECT_EQ(json::parse(r.body)["metrics"],
            json::parse(R"(["cpu.usage_percent", "memory.used_percent"])"));
}

TEST_F(history_api_test, bad_parameters_are_400_naming_the_parameter) {
  struct bad_case {
    std::string query, parameter;
  };
  for (auto& [query, parameter] :
       std::vector<bad_case>{{"metric=cpu.usage_percent&from=yesterday", "from"},
                             {"metric=cpu.usage_percent&to=2023-13-01T00:00:00Z", "to"},
                             {"metric=cpu.usage_percent&step=fast", "step"},
                             {"metric=cpu.usage_percent&from=1700000060&to=1700000000", "from"},
                             {"metric=&from=1700000000", "metric"}}) {
    auto r = get("/api/history?" + query);
    EXPECT_EQ(r.status, 400) << query << ": " << r.body;
    auto j = json::parse(r.body, nullptr, false);
    ASSERT_TRUE(j.is_object()) << r.body;
    EXPECT_EQ(j["error"], "bad request");
    EXPECT_EQ(j["detail"].get<std::string>().rfind(parameter + ":", 0), 0u) << j["detail"];
  }
  auto unknown = get("/api/history?metric=no.such.metric&from=1700000000&to=1700000060");
  EXPECT_EQ(unknown.status, 404) << unknown.body;
  EXPECT_EQ(json::parse(unknown.body)["detail"].get<std::string>().rfind("metric:", 0), 0u);
}

TEST_F(history_api_test, needs_a_read_token) {
  EXPECT_EQ(http_call(api.port(), "GET", "/api/history").status, 401);
  EXPECT_EQ(http_call(api.port(), "GET", "/api/history", "", "wrong").status, 401);
  // A read token on a control action: authenticated, not allowed.
  EXPECT_EQ(http_call(api.port(), "POST", "/api/history", "", token).status, 403);
}

} // namespace
} // namespace vigil
