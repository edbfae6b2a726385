// GET /api/files without actors: parameter parsing and the JSON of answers and errors.

#include "actors/files_api.hpp"
#include "tests/support/temp_directory.hpp"

#include <gtest/gtest.h>

namespace vigil::test {
namespace {

using nlohmann::json;
using query = std::map<std::string, std::string>;

json body(const http_response& response) {
  return json::parse(response.body);
}

// The 400 answering `q`, or a failure when it parsed.
json rejected(const query& q) {
  auto parsed = parse_files_request(q, 1024);
  auto* response = std::get_if<http_response>(&parsed);
  if (!response) {
    ADD_FAILURE() << "accepted";
    return json::object();
  }
  EXPECT_EQ(response->status, 400);
  return body(*response);
}

TEST(files_api_request, defaults_to_the_start_and_the_configured_cap) {
  query q{{"path", "/var/log/syslog"}};
  auto parsed = parse_files_request(q, 4096);
  ASSERT_TRUE(std::holds_alternative<browse_request>(parsed));
  auto& request = std::get<browse_request>(parsed);
  EXPECT_EQ(request.path, "/var/log/syslog");
  EXPECT_EQ(request.offset, 0);
  EXPECT_EQ(request.max_bytes, 4096u);
}

TEST(files_api_request, takes_offset_and_max_bytes_but_never_above_the_cap) {
  query q{{"path", "/var/log/syslog"}, {"offset", "-300"}, {"max_bytes", "100"}};
  auto request = std::get<browse_request>(parse_files_request(q, 4096));
  EXPECT_EQ(request.offset, -300);
  EXPECT_EQ(request.max_bytes, 100u);
  q["max_bytes"] = "99999999999";
  EXPECT_EQ(std::get<browse_request>(parse_files_request(q, 4096)).max_bytes, 4096u);
}

TEST(files_api_request, a_bad_parameter_is_a_400_naming_it) {
  EXPECT_EQ(rejected({})["error"], "bad request");
  EXPECT_EQ(rejected({}).at("detail").get<std::string>().rfind("path: ", 0), 0u);
  EXPECT_EQ(rejected({{"path", ""}}).at("detail").get<std::string>().rfind("path: ", 0), 0u);
  for (auto offset : {"x", "12abc", "", "1.5", "99999999999999999999"})
    EXPECT_EQ(rejected({{"path", "/var/log"}, {"offset", offset}})
                  .at("detail")
                  .get<std::string>()
                  .rfind("offset: ", 0),
              0u)
        << offset;
  for (auto max_bytes : {"-1", "ten", ""})
    EXPECT_EQ(rejected({{"path", "/var/log"}, {"max_bytes", max_bytes}})
                  .at("detail")
                  .get<std::string>()
                  .rfind("max_bytes: ", 0),
              0u)
        << max_bytes;
}

TEST(files_api_json, a_listing_has_its_entries_with_iso_times) {
  directory_listing listing;
  listing.path = "/var/log";
  listing.total = 5;
  listing.truncated = true;
  listing.entries.push_back(
      {"syslog", file_kind::file, 42,
       std::chrono::system_clock::time_point{std::chrono::seconds{1700000000}}});
  listing.entries.push_back({"nginx", file_kind::directory, 4096, {}});
  auto j = directory_listing_json(listing);
  EXPECT_EQ(j["path"], "/var/log");
  EXPECT_EQ(j["type"], "directory");
  EXPECT_EQ(j["count"], 2);
  EXPECT_EQ(j["total"], 5);
  EXPECT_EQ(j["truncated"], true);
  EXPECT_EQ(j["entries"][0], (json{{"name", "syslog"},
                                   {"type", "file"},
                                   {"size", 42},
                                   {"modified", "2023-11-14T22:13:20Z"}}));
  EXPECT_EQ(j["entries"][1]["type"], "directory");
}

TEST(files_api_json, a_chunk_has_its_window_and_content) {
  file_chunk chunk;
  chunk.path = "/var/log/syslog";
  chunk.size = 100;
  chunk.offset = 90;
  chunk.next_offset = 100;
  chunk.eof = true;
  chunk.text = "last line\n";
  auto j = file_chunk_json(chunk);
  EXPECT_EQ(j["type"], "file");
  EXPECT_EQ(j["size"], 100);
  EXPECT_EQ(j["offset"], 90);
  EXPECT_EQ(j["next_offset"], 100);
  EXPECT_EQ(j["eof"], true);
  EXPECT_EQ(j["content"], "last line\n");
  EXPECT_EQ(j["modified"], "1970-01-01T00:00:00Z");
}

TEST(files_api_json, errors_map_to_statuses) {
  auto status = [](browse_error_kind kind) {
    return files_response(browse_error{kind, "path: why"}).status;
  };
  EXPECT_EQ(status(browse_error_kind::bad_request), 400);
  EXPECT_EQ(status(browse_error_kind::forbidden), 403);
  EXPECT_EQ(status(browse_error_kind::not_found), 404);
  EXPECT_EQ(status(browse_error_kind::not_regular), 403);
  EXPECT_EQ(status(browse_error_kind::io_error), 500);
  auto not_regular = files_response(browse_error{browse_error_kind::not_regular, "path: a FIFO"});
  EXPECT_EQ(body(not_regular), (json{{"error", "not a regular file"}, {"detail", "path: a FIFO"}}));
}

TEST(files_api_json, a_file_of_invalid_utf8_answers_valid_json) {
  temp_directory dir;
  rewrite_file(dir / "bad\xFE.log", "\xFF\xFE binary \xC0\x80");
  std::vector<std::string> roots{dir.path().string()};
  // The dump of the plain nlohmann default (strict) would throw on invalid UTF-8.
  auto file = files_response(browse(roots, {(dir / "bad\xFE.log").string()}));
  ASSERT_EQ(file.status, 200) << file.body;
  EXPECT_EQ(body(file)["content"], "\xEF\xBF\xBD\xEF\xBF\xBD binary \xEF\xBF\xBD\xEF\xBF\xBD");
  auto listing = files_response(browse(roots, {dir.path().string()}));
  ASSERT_EQ(listing.status, 200) << listing.body;
  EXPECT_EQ(body(listing)["entries"][0]["name"], "bad\xEF\xBF\xBD.log");
}

} // namespace
} // namespace vigil::test
