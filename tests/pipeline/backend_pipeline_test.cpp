// The backend poster end to end: the real binary posts to a real HTTP server on
// loopback (tests/support/test_backend.hpp) through its durable outbox streams.

#include "tests/pipeline/pipeline_fixture.hpp"
#include "tests/support/http_get.hpp"
#include "tests/support/test_backend.hpp"

#include <sys/stat.h>

using namespace vigil;
using namespace vigil::test;
using nlohmann::json;

namespace {

std::string base64url(const std::string& in) {
  static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char c : in) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(alphabet[(buffer >> bits) & 63]);
    }
  }
  if (bits > 0)
    out.push_back(alphabet[(buffer << (6 - bits)) & 63]);
  return out;
}

// An unsigned JWT whose exp is `valid_for` from now; `tag` makes tokens distinguishable.
std::string make_jwt(std::chrono::seconds valid_for, const std::string& tag) {
  auto exp = std::chrono::duration_cast<std::chrono::seconds>(
                 (std::chrono::system_clock::now() + valid_for).time_since_epoch())
                 .count();
  return base64url(R"({"alg":"HS256","typ":"JWT"})") + "." +
         base64url(json{{"sub", tag}, {"exp", exp}}.dump()) + "." + base64url("sig-" + tag);
}

http_response answer(int status, std::string body = "{}") {
  http_response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

class backend_pipeline_test : public pipeline_fixture {
protected:
  test_backend backend;

  backend_pipeline_test() {
    log_file_flags.clear();
    secrets = dir / "secrets.json";
  }

  void configure(const std::string& extra = "") {
    write_config(R"({"sources": {"files": [], "journal": {"enabled": false}},
      "backend": {"url": ")" +
                 backend.url() +
                 R"(", "heartbeat_interval": "1s", "retry_initial": "100ms",
                  "retry_max": "1s")" +
                 extra + "}}");
  }

  void write_token(const std::string& token) {
    rewrite_file(secrets, json{{"backend", {{"token", token}}}}.dump());
    ::chmod(secrets.c_str(), 0600);
  }

  std::string saved_token() {
    std::ifstream in{secrets};
    auto doc = json::parse(in, nullptr, false);
    return doc.is_object() ? doc["backend"]["token"].get<std::string>() : "";
  }

  json status(child_process& agent) {
    auto port = announced_control_port(agent);
    auto reply = http_call(port, "GET", "/status");
    return json::parse(reply.body, nullptr, false);
  }

  static std::string bearer(const http_request& r) {
    return std::string{r.header("authorization")};
  }
};

TEST_F(backend_pipeline_test, heartbeats_and_the_system_profile_reach_the_backend) {
  auto token = make_jwt(std::chrono::hours{24}, "a");
  write_token(token);
  configure();
  auto agent = start_agent();
  auto heartbeats = backend.wait_for("/api/heartbeat", 2);
  ASSERT_GE(heartbeats.size(), 2u) << agent->output();
  auto hb = json::parse(heartbeats[0].body);
  EXPECT_EQ(hb["status"], "online");
  EXPECT_FALSE(hb["node_id"].get<std::string>().empty());
  EXPECT_EQ(hb["timestamp"].get<std::string>().back(), 'Z');
  EXPECT_EQ(bearer(heartbeats[0]), "Bearer " + token);
  EXPECT_EQ(heartbeats[0].header("content-type"), "application/json");
  EXPECT_NE(heartbeats[0].header("idempotency-key"), heartbeats[1].header("idempotency-key"));
  auto profiles = backend.wait_for("/api/system_info", 1);
  ASSERT_EQ(profiles.size(), 1u);
  auto profile = json::parse(profiles[0].body);
  EXPECT_EQ(profile["node_id"], hb["node_id"]);
  EXPECT_GT(profile["cpu"]["logical_cores"].get<int>(), 0);
  EXPECT_GT(profile["memory_total_bytes"].get<uint64_t>(), 0u);
  EXPECT_FALSE(profile["kernel"].get<std::string>().empty());
  agent->signal(SIGTERM);
  EXPECT_EQ(agent->wait_for_exit(10s), 0);
  // The same machine restarted: heartbeats go on, the unchanged profile is not sent again.
  auto before = backend.requests("/api/heartbeat").size();
  agent = start_agent();
  backend.wait_for("/api/heartbeat", before + 2);
  EXPECT_EQ(backend.requests("/api/system_info").size(), 1u);
  agent->signal(SIGTERM);
  EXPECT_EQ(agent->wait_for_exit(10s), 0);
}

TEST_F(backend_pipeline_test, telemetry_snapshots_are_posted_on_their_interval) {
  write_token(make_jwt(std::chrono::hours{24}, "a"));
  configure(R"(, "telemetry_interval": "1s")");
  auto agent = start_agent();
  auto snapshots = backend.wait_for("/api/telemetry/snapshot", 3);
  ASSERT_GE(snapshots.size(), 3u) << agent->output();
  auto last = json::parse(snapshots.back().body);
  EXPECT_FALSE(last["node_id"].get<std::string>().empty());
  EXPECT_TRUE(last.contains("cpu_usage_percent"));
  EXPECT_TRUE(last["memory_usage_percent"].is_number()) << last.dump();
  EXPECT_NE(snapshots[0].header("idempotency-key"), snapshots[1].header("idempotency-key"));
  agent->signal(SIGTERM);
  EXPECT_EQ(agent->wait_for_exit(10s), 0);
}

TEST_F(backend_pipeline_test, failures_are_retried_in_order_and_retry_after_is_honoured) {
  write_token(make_jwt(std::chrono::hours{24}, "a"));
  int calls = 0;
  backend.set_script([&](const http_request& r) {
    if (r.path != "/api/heartbeat")
      return answer(200);
    ++calls;
    if (calls <= 3)
      return answer(500);
    if (calls == 4) {
      auto r429 = answer(429);
      r429.headers.push_back({"Retry-After", "2"});
      return r429;
    }
    return answer(200);
  });
  configure();
  auto agent = start_agent();
  auto got = backend.wait_for("/api/heartbeat", 8);
  ASSERT_GE(got.size(), 8u);
  // The 429'd record came back no sooner than its Retry-After.
  EXPECT_EQ(got[4].header("idempotency-key"), got[3].header("idempotency-key"));
  auto at = backend.arrivals("/api/heartbeat");
  EXPECT_GE(at[4] - at[3], 1900ms);
  // Accepted records arrive oldest first, none twice.
  std::vector<int64_t> accepted;
  for (size_t i = 4; i < got.size(); ++i) {
    auto key = std::string{got[i].header("idempotency-key")};
    accepted.push_back(std::stoll(key.substr(key.rfind(':') + 1)));
  }
  EXPECT_TRUE(std::is_sorted(accepted.begin(), accepted.end()));
  // The first five attempts all carried the first heartbeat.
  for (size_t i = 1; i < 5; ++i)
    EXPECT_EQ(got[i].header("idempotency-key"), got[0].header("idempotency-key"));
  auto s = status(*agent);
  EXPECT_GE(s["backend"]["streams"]["heartbeat"]["failures"].get<int>(), 4) << s.dump();
  EXPECT_GE(s["backend"]["streams"]["heartbeat"]["sent"].get<int>(), 1);
  agent->signal(SIGTERM);
  EXPECT_EQ(agent->wait_for_exit(10s), 0);
}

TEST_F(backend_pipeline_test, a_token_near_expiry_is_refreshed_and_saved) {
  auto old_token = make_jwt(std::chrono::seconds{60}, "old"); // inside the 5 min margin
  auto new_token = make_jwt(std::chrono::hours{1}, "new");
  write_token(old_token);
  backend.set_script([&](const http_request& r) {
    if (r.path == "/api/auth/refresh")
      return bearer(r) == "Bearer " + old_token ? answer(200, json{{"token", new_token}}.dump())
                                                : answer(401);
    return answer(200);
  });
  configure();
  auto agent = start_agent();
  auto heartbeats = backend.wait_for("/api/heartbeat", 2);
  ASSERT_GE(heartbeats.size(), 2u);
  EXPECT_EQ(backend.requests("/api/auth/refresh").size(), 1u);
  for (auto& h : heartbeats)
    EXPECT_EQ(bearer(h), "Bearer " + new_token);
  EXPECT_EQ(saved_token(), new_token);
  struct stat st {};
  ASSERT_EQ(::stat(secrets.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  agent->signal(SIGTERM);
  EXPECT_EQ(agent->wait_for_exit(10s), 0);
}

TEST_F(backend_pipeline_test, unauthorized_triggers_a_refresh_and_the_same_record_again) {
  auto revoked = make_jwt(std::chrono::hours{24}, "revoked");
  auto fresh = make_jwt(std::chrono::hours{24}, "fresh");
  write_token(revoked);
  backend.set_script([&](const http_request& r) {
    if (r.path == "/api/auth/refresh")
      return answer(200, json{{"token", fresh}}.dump());
    return bearer(r) == "Bearer " + fresh ? answer(200) : answer(401);
  });
  configure();
  auto agent = start_agent();
  auto heartbeats = backend.wait_for("/api/heartbeat", 3);
  ASSERT_GE(heartbeats.size(), 3u);
  EXPECT_EQ(bearer(heartbeats[0]), "Bearer " + revoked);
  EXPECT_EQ(bearer(heartbeats[1]), "Bearer " + fresh);
  EXPECT_EQ(heartbeats[1].header("idempotency-key"), heartbeats[0].header("idempotency-key"));
  agent->signal(SIGTERM);
  EXPECT_EQ(agent->wait_for_exit(10s), 0);
}

TEST_F(backend_pipeline_test, a_failing_refresh_keeps_records_until_a_new_token_and_sighup) {
  auto stale = make_jwt(std::chrono::hours{24}, "stale");
  auto replacement = make_jwt(std::chrono::hours{24}, "replacement");
  write_token(stale);
  backend.set_script([&](const http_request& r) {
    if (r.path == "/api/auth/refresh")
      return answer(503);
    return bearer(r) == "Bearer " + replacement ? answer(200) : answer(401);
  });
  configure();
  auto agent = start_agent();
  backend.wait_for("/api/auth/refresh", 1);
  std::this_thread::sleep_for(3s); // heartbeats pile up in the outbox meanwhile
  auto s = status(*agent);
  EXPECT_EQ(s["backend"]["token_state"], "refresh_failed") << s.dump();
  auto queued = s["outbox"]["streams"]["heartbeat"]["records"].get<int>();
  EXPECT_GE(queued, 2) << s.dump();
  write_token(replacement);
  agent->signal(SIGHUP);
  auto accepted = [&] {
    size_t n = 0;
    for (auto& r : backend.requests("/api/heartbeat"))
      n += bearer(r) == "Bearer " + replacement;
    return n;
  };
  auto until = std::chrono::steady_clock::now() + 30s;
  while (accepted() < static_cast<size_t>(queued) && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(100ms);
  EXPECT_GE(accepted(), static_cast<size_t>(queued));
  agent->signal(SIGTERM);
  EXPECT_EQ(agent->wait_for_exit(10s), 0);
}

TEST_F(backend_pipeline_test, a_refused_record_becomes_a_visible_dead_letter) {
  write_token(make_jwt(std::chrono::hours{24}, "a"));
  backend.set_script([](const http_request& r) {
    return r.path == "/api/system_info" ? answer(400, R"({"error":"schema mismatch"})")
                                        : answer(200);
  });
  configure();
  auto agent = start_agent();
  backend.wait_for("/api/system_info", 1);
  backend.wait_for("/api/heartbeat", 2); // the other streams keep flowing
  auto s = status(*agent);
  EXPECT_EQ(s["outbox"]["streams"]["system_info"]["dead_letters"], 1) << s.dump();
  EXPECT_EQ(s["outbox"]["streams"]["system_info"]["records"], 0);
  EXPECT_EQ(s["backend"]["streams"]["system_info"]["dead_lettered"], 1);
  EXPECT_NE(s["backend"]["streams"]["system_info"]["last_error"].get<std::string>().find(
                "schema mismatch"),
            std::string::npos);
  EXPECT_NE(agent->output().find("kept as a dead letter"), std::string::npos);
  agent->signal(SIGTERM);
  EXPECT_EQ(agent->wait_for_exit(10s), 0);
}

} // namespace
