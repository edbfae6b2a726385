#include "io/system/secrets_file.hpp"
#include "tests/support/temp_directory.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <sys/stat.h>

namespace vigil {
namespace {

nlohmann::json read_json(const std::string& path) {
  std::ifstream in{path};
  return nlohmann::json::parse(in, nullptr, false, true);
}

unsigned mode_of(const std::string& path) {
  struct stat st {};
  ::stat(path.c_str(), &st);
  return st.st_mode & 0777;
}

TEST(write_secret, replaces_one_key_keeps_the_others_and_stays_private) {
  test::temp_directory dir;
  std::string path = dir / "secrets.json";
  test::rewrite_file(path, R"({
    // comments are accepted on reading
    "rabbitmq": {"url": "amqp://u:p@127.0.0.1/"},
    "backend": {"token": "old"}
  })");
  ::chmod(path.c_str(), 0600);
  write_secret(path, {"backend", "token"}, "new");
  auto doc = read_json(path);
  EXPECT_EQ(doc["backend"]["token"], "new");
  EXPECT_EQ(doc["rabbitmq"]["url"], "amqp://u:p@127.0.0.1/");
  EXPECT_EQ(mode_of(path), 0600u);
  // No temporary file is left behind.
  size_t files = 0;
  for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator(dir.path()))
    ++files;
  EXPECT_EQ(files, 1u);
}

TEST(write_secret, creates_a_missing_file_with_mode_0600) {
  test::temp_directory dir;
  std::string path = dir / "secrets.json";
  write_secret(path, {"backend", "token"}, "t1");
  EXPECT_EQ(read_json(path)["backend"]["token"], "t1");
  EXPECT_EQ(mode_of(path), 0600u);
}

TEST(write_secret, refuses_a_file_that_is_not_a_json_object_and_names_it) {
  test::temp_directory dir;
  std::string path = dir / "secrets.json";
  test::rewrite_file(path, "[1, 2]");
  try {
    write_secret(path, {"backend", "token"}, "t");
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string{e.what()}.find(path), std::string::npos) << e.what();
  }
  EXPECT_EQ(read_json(path), nlohmann::json::parse("[1, 2]")); // untouched
}

} // namespace
} // namespace vigil
