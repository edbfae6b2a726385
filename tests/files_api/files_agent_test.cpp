// GET /api/files through the real agent binary on 127.0.0.1, with api.file_roots set to a
// temporary directory in the config file.

#include "tests/pipeline/pipeline_fixture.hpp"
#include "tests/support/http_get.hpp"

namespace vigil::test {
namespace {

using nlohmann::json;

class files_agent_test : public pipeline_fixture {
protected:
  std::string root = dir / "browsable";
  std::unique_ptr<child_process> agent;
  uint16_t port = 0;

  void SetUp() override {
    std::filesystem::create_directories(root + "/app");
    rewrite_file(root + "/app/app.log", "first line\nsecond line\n");
    write_config(json{{"api", {{"file_roots", {root}}, {"file_max_bytes", 1024}}},
                      {"sources", {{"journal", {{"enabled", false}}}}}}
                     .dump());
    agent = start_agent();
    port = announced_control_port(*agent);
    ASSERT_NE(port, 0) << agent->output();
  }

  // GET /api/files with `query` appended, and the JSON body.
  std::pair<int, json> get(const std::string& query) {
    auto reply = http_call(port, "GET", "/api/files" + query);
    return {reply.status, json::parse(reply.body, nullptr, false)};
  }
};

TEST_F(files_agent_test, lists_a_directory_below_a_root) {
  auto [status, body] = get("?path=" + root);
  ASSERT_EQ(status, 200) << body;
  EXPECT_EQ(body["type"], "directory");
  EXPECT_EQ(body["path"], std::filesystem::canonical(root).string());
  ASSERT_EQ(body["entries"].size(), 1u) << body;
  EXPECT_EQ(body["entries"][0]["name"], "app");
  EXPECT_EQ(body["entries"][0]["type"], "directory");
  EXPECT_EQ(body["truncated"], false);
}

TEST_F(files_agent_test, reads_a_file_and_tails_it) {
  auto [status, body] = get("?path=" + root + "/app/app.log");
  ASSERT_EQ(status, 200) << body;
  EXPECT_EQ(body["content"], "first line\nsecond line\n");
  EXPECT_EQ(body["size"], 23);
  EXPECT_EQ(body["next_offset"], 23);
  EXPECT_EQ(body["eof"], true);
  auto [tail_status, tail] = get("?path=" + root + "/app/app.log&offset=-12&max_bytes=7");
  ASSERT_EQ(tail_status, 200) << tail;
  EXPECT_EQ(tail["content"], "second ");
  EXPECT_EQ(tail["offset"], 11);
  EXPECT_EQ(tail["next_offset"], 18);
  EXPECT_EQ(tail["eof"], false);
}

TEST_F(files_agent_test, reads_at_most_api_file_max_bytes) {
  rewrite_file(root + "/big.log", std::string(5000, 'x'));
  auto [status, body] = get("?path=" + root + "/big.log&max_bytes=4000");
  ASSERT_EQ(status, 200) << body;
  EXPECT_EQ(body["content"].get<std::string>().size(), 1024u);
  EXPECT_EQ(body["next_offset"], 1024);
}

TEST_F(files_agent_test, refuses_what_is_outside_the_roots_or_missing) {
  auto [outside, outside_body] = get("?path=/etc/passwd");
  EXPECT_EQ(outside, 403) << outside_body;
  EXPECT_EQ(outside_body["error"], "forbidden");
  EXPECT_EQ(outside_body.dump().find("root:"), std::string::npos); // no content leaked
  auto [escape, escape_body] = get("?path=" + root + "/../vigil.json");
  EXPECT_EQ(escape, 403) << escape_body;
  auto [missing, missing_body] = get("?path=" + root + "/app/missing.log");
  EXPECT_EQ(missing, 404) << missing_body;
  EXPECT_EQ(missing_body["error"], "not found");
}

TEST_F(files_agent_test, a_request_without_path_is_a_400_and_a_post_a_405) {
  auto [status, body] = get("");
  EXPECT_EQ(status, 400) << body;
  EXPECT_EQ(body["detail"].get<std::string>().rfind("path: ", 0), 0u) << body;
  auto [bad_offset, bad_offset_body] = get("?path=" + root + "&offset=soon");
  EXPECT_EQ(bad_offset, 400) << bad_offset_body;
  auto post = http_call(port, "POST", "/api/files?path=" + root);
  EXPECT_EQ(post.status, 405) << post.body;
}

} // namespace
} // namespace vigil::test
