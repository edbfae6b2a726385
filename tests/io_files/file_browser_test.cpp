// io/files/file_browser against a real directory tree: what may be listed and read, and
// everything that must be refused (.., symlinks leading out, sibling prefixes, FIFOs).

#include "io/files/file_browser.hpp"
#include "tests/support/temp_directory.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <sys/stat.h>

namespace vigil::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class file_browser_test : public ::testing::Test {
protected:
  temp_directory dir;
  fs::path root = dir / "log";
  fs::path outside = dir / "secret";
  std::vector<std::string> roots{root.string()};

  file_browser_test() {
    fs::create_directories(root / "nginx");
    fs::create_directories(outside);
    rewrite_file(root / "syslog", "0123456789");
    rewrite_file(root / "nginx" / "error.log", "boom\n");
    rewrite_file(outside / "shadow", "root:x:secret\n");
  }

  browse_result get(const std::string& path, int64_t offset = 0, uint64_t max_bytes = 1 << 20) {
    return browse(roots, {path, offset, max_bytes});
  }

  file_chunk read(const std::string& path, int64_t offset = 0, uint64_t max_bytes = 1 << 20) {
    auto result = get(path, offset, max_bytes);
    if (auto* e = std::get_if<browse_error>(&result))
      ADD_FAILURE() << path << ": " << e->detail;
    auto* chunk = std::get_if<file_chunk>(&result);
    return chunk ? *chunk : file_chunk{};
  }

  // The error kind, with a failure when the browse succeeded.
  browse_error refused(const std::string& path) {
    auto result = get(path);
    auto* e = std::get_if<browse_error>(&result);
    EXPECT_TRUE(e) << path << " was answered";
    return e ? *e : browse_error{browse_error_kind::io_error, "answered"};
  }
};

TEST_F(file_browser_test, lists_a_directory_sorted_with_type_size_and_time) {
  fs::create_symlink("syslog", root / "current");
  auto result = get(root.string());
  auto* listing = std::get_if<directory_listing>(&result);
  ASSERT_TRUE(listing);
  EXPECT_EQ(listing->path, fs::canonical(root).string());
  ASSERT_EQ(listing->entries.size(), 3u);
  EXPECT_EQ(listing->total, 3u);
  EXPECT_FALSE(listing->truncated);
  EXPECT_EQ(listing->entries[0].name, "current");
  EXPECT_EQ(listing->entries[0].kind, file_kind::symlink); // the link itself, not followed
  EXPECT_EQ(listing->entries[1].name, "nginx");
  EXPECT_EQ(listing->entries[1].kind, file_kind::directory);
  EXPECT_EQ(listing->entries[2].name, "syslog");
  EXPECT_EQ(listing->entries[2].kind, file_kind::file);
  EXPECT_EQ(listing->entries[2].size, 10u);
  auto age = std::chrono::system_clock::now() - listing->entries[2].modified;
  EXPECT_LT(age, 1min);
  EXPECT_GT(age, -1min);
  EXPECT_STREQ(to_string(file_kind::symlink), "symlink");
}

TEST_F(file_browser_test, a_long_listing_keeps_the_first_names_and_says_it_is_truncated) {
  for (auto name : {"e", "b", "d", "a", "c"})
    rewrite_file(root / "nginx" / name, "");
  auto result = browse(roots, {(root / "nginx").string(), 0, 1024, 3});
  auto* listing = std::get_if<directory_listing>(&result);
  ASSERT_TRUE(listing);
  ASSERT_EQ(listing->entries.size(), 3u);
  EXPECT_EQ(listing->entries[0].name, "a");
  EXPECT_EQ(listing->entries[1].name, "b");
  EXPECT_EQ(listing->entries[2].name, "c");
  EXPECT_EQ(listing->total, 6u); // with error.log
  EXPECT_TRUE(listing->truncated);
}

TEST_F(file_browser_test, reads_a_whole_file) {
  auto chunk = read((root / "syslog").string());
  EXPECT_EQ(chunk.path, fs::canonical(root / "syslog").string());
  EXPECT_EQ(chunk.text, "0123456789");
  EXPECT_EQ(chunk.size, 10u);
  EXPECT_EQ(chunk.offset, 0u);
  EXPECT_EQ(chunk.next_offset, 10u);
  EXPECT_TRUE(chunk.eof);
}

TEST_F(file_browser_test, reads_from_an_offset_up_to_the_cap) {
  auto chunk = read((root / "syslog").string(), 2, 5);
  EXPECT_EQ(chunk.text, "23456");
  EXPECT_EQ(chunk.offset, 2u);
  EXPECT_EQ(chunk.next_offset, 7u);
  EXPECT_FALSE(chunk.eof);
  auto rest = read((root / "syslog").string(), 7, 5);
  EXPECT_EQ(rest.text, "789");
  EXPECT_EQ(rest.next_offset, 10u);
  EXPECT_TRUE(rest.eof);
}

TEST_F(file_browser_test, a_negative_offset_counts_back_from_the_end) {
  auto tail = read((root / "syslog").string(), -4);
  EXPECT_EQ(tail.text, "6789");
  EXPECT_EQ(tail.offset, 6u);
  EXPECT_TRUE(tail.eof);
  auto all = read((root / "syslog").string(), -100);
  EXPECT_EQ(all.text, "0123456789");
  EXPECT_EQ(all.offset, 0u);
  EXPECT_EQ(read((root / "syslog").string(), INT64_MIN).offset, 0u);
}

TEST_F(file_browser_test, an_offset_beyond_the_end_answers_nothing_at_the_end) {
  auto chunk = read((root / "syslog").string(), 50);
  EXPECT_EQ(chunk.text, "");
  EXPECT_EQ(chunk.offset, 10u);
  EXPECT_EQ(chunk.next_offset, 10u);
  EXPECT_TRUE(chunk.eof);
}

TEST_F(file_browser_test, dot_dot_out_of_the_root_is_forbidden) {
  auto e = refused((root / ".." / "secret" / "shadow").string());
  EXPECT_EQ(e.kind, browse_error_kind::forbidden);
  EXPECT_EQ(e.detail.find("secret"), std::string::npos) << e.detail;
  // Inside the root, ".." is fine.
  EXPECT_EQ(read((root / "nginx" / ".." / "syslog").string()).text, "0123456789");
}

TEST_F(file_browser_test, an_absolute_path_outside_is_forbidden_whether_it_exists_or_not) {
  EXPECT_EQ(refused((outside / "shadow").string()).kind, browse_error_kind::forbidden);
  EXPECT_EQ(refused("/etc/passwd").kind, browse_error_kind::forbidden);
  // Not 404: that would tell which paths outside the roots exist.
  EXPECT_EQ(refused((outside / "missing").string()).kind, browse_error_kind::forbidden);
  EXPECT_EQ(refused(dir.path().string()).kind, browse_error_kind::forbidden);
}

TEST_F(file_browser_test, without_roots_everything_is_forbidden) {
  roots.clear();
  auto e = refused((root / "syslog").string());
  EXPECT_EQ(e.kind, browse_error_kind::forbidden);
  EXPECT_NE(e.detail.find("api.file_roots"), std::string::npos) << e.detail;
}

TEST_F(file_browser_test, a_sibling_sharing_the_roots_prefix_is_outside) {
  fs::create_directories(dir / "log2");
  rewrite_file(dir / "log2" / "x", "not yours");
  EXPECT_EQ(refused((dir / "log2" / "x").string()).kind, browse_error_kind::forbidden);
  EXPECT_EQ(refused((dir / "log2").string()).kind, browse_error_kind::forbidden);
}

TEST_F(file_browser_test, a_symlink_leading_out_of_the_root_is_forbidden) {
  fs::create_symlink(outside / "shadow", root / "shadow");
  fs::create_directory_symlink(outside, root / "escape");
  auto e = refused((root / "shadow").string());
  EXPECT_EQ(e.kind, browse_error_kind::forbidden);
  EXPECT_EQ(e.detail.find("secret"), std::string::npos) << e.detail; // the target stays hidden
  EXPECT_EQ(refused((root / "escape").string()).kind, browse_error_kind::forbidden);
  EXPECT_EQ(refused((root / "escape" / "shadow").string()).kind, browse_error_kind::forbidden);
}

TEST_F(file_browser_test, a_symlink_staying_inside_the_root_is_followed) {
  fs::create_symlink("nginx/error.log", root / "current");
  fs::create_directory_symlink(root / "nginx", root / "web");
  auto chunk = read((root / "current").string());
  EXPECT_EQ(chunk.text, "boom\n");
  EXPECT_EQ(chunk.path, fs::canonical(root / "nginx" / "error.log").string());
  auto result = get((root / "web").string());
  ASSERT_TRUE(std::holds_alternative<directory_listing>(result));
  EXPECT_EQ(std::get<directory_listing>(result).entries.at(0).name, "error.log");
}

TEST_F(file_browser_test, a_root_that_is_a_symlink_is_resolved_too) {
  fs::create_directory_symlink(root, dir / "logs-link");
  roots = {(dir / "logs-link").string()};
  EXPECT_EQ(read((dir / "logs-link" / "syslog").string()).text, "0123456789");
  EXPECT_EQ(read((root / "syslog").string()).text, "0123456789");
}

TEST_F(file_browser_test, a_missing_path_inside_a_root_is_not_found) {
  EXPECT_EQ(refused((root / "missing.log").string()).kind, browse_error_kind::not_found);
  EXPECT_EQ(refused((root / "syslog" / "below-a-file").string()).kind,
            browse_error_kind::not_found);
  fs::create_symlink("gone", root / "dangling");
  EXPECT_EQ(refused((root / "dangling").string()).kind, browse_error_kind::not_found);
}

TEST_F(file_browser_test, a_fifo_is_refused_without_blocking) {
  auto fifo = root / "pipe";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  // No writer ever opens it: a blocking open or read would never return.
  auto answer = std::async(std::launch::async, [&] { return get(fifo.string()); });
  ASSERT_EQ(answer.wait_for(10s), std::future_status::ready) << "browsing a FIFO blocked";
  auto result = answer.get();
  auto* e = std::get_if<browse_error>(&result);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->kind, browse_error_kind::not_regular);
  EXPECT_NE(e->detail.find("FIFO"), std::string::npos) << e->detail;
  // Listed, though, as "other".
  auto listing = std::get<directory_listing>(get(root.string()));
  EXPECT_EQ(listing.entries.at(1).name, "pipe");
  EXPECT_EQ(listing.entries.at(1).kind, file_kind::other);
}

TEST_F(file_browser_test, a_device_is_refused) {
  roots = {"/dev"};
  EXPECT_EQ(refused("/dev/null").kind, browse_error_kind::not_regular);
}

TEST_F(file_browser_test, a_relative_path_is_a_bad_request) {
  EXPECT_EQ(refused("var/log/syslog").kind, browse_error_kind::bad_request);
  EXPECT_EQ(refused("../log/syslog").kind, browse_error_kind::bad_request);
  EXPECT_EQ(refused("").kind, browse_error_kind::bad_request);
  EXPECT_EQ(refused(root.string() + std::string{"\0x", 2}).kind, browse_error_kind::bad_request);
}

TEST_F(file_browser_test, invalid_utf8_becomes_the_replacement_character) {
  rewrite_file(root / "binary", "ok \xFF\xC0\xAF end \xED\xA0\x80 \xC3\xA9");
  // 0xFF, an overlong '/' (C0 AF) and a surrogate (ED A0 80): one U+FFFD per byte; é stays.
  EXPECT_EQ(read((root / "binary").string()).text,
            "ok \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD end \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD "
            "\xC3\xA9");
  rewrite_file(root / "bad\xFFname", "");
  auto listing = std::get<directory_listing>(get(root.string()));
  EXPECT_EQ(listing.entries.at(0).name, "bad\xEF\xBF\xBDname");
}

TEST_F(file_browser_test, a_window_does_not_end_inside_a_character) {
  // "aé€" is 61 C3 A9 E2 82 AC: a cap of 2 or 5 would split é or €.
  rewrite_file(root / "utf8", "a\xC3\xA9\xE2\x82\xAC");
  auto first = read((root / "utf8").string(), 0, 2);
  EXPECT_EQ(first.text, "a");
  EXPECT_EQ(first.next_offset, 1u);
  auto second = read((root / "utf8").string(), 1, 4);
  EXPECT_EQ(second.text, "\xC3\xA9");
  EXPECT_EQ(second.next_offset, 3u);
  auto third = read((root / "utf8").string(), 3, 4);
  EXPECT_EQ(third.text, "\xE2\x82\xAC");
  EXPECT_TRUE(third.eof);
  // A window too small for one character still advances.
  auto tiny = read((root / "utf8").string(), 3, 1);
  EXPECT_EQ(tiny.text, "\xEF\xBF\xBD");
  EXPECT_EQ(tiny.next_offset, 4u);
}

TEST_F(file_browser_test, an_unreadable_file_is_forbidden) {
  if (::geteuid() == 0)
    GTEST_SKIP() << "root reads everything";
  fs::permissions(root / "syslog", fs::perms::none);
  EXPECT_EQ(refused((root / "syslog").string()).kind, browse_error_kind::forbidden);
}

TEST(utf8, valid_text_is_unchanged) {
  std::string text = "plain ascii, \xC3\xA9, \xE2\x82\xAC, \xF0\x9F\x98\x80";
  EXPECT_EQ(to_valid_utf8(text), text);
  EXPECT_EQ(to_valid_utf8("\xF4\x90\x80\x80"), // beyond U+10FFFF
            "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
}

} // namespace
} // namespace vigil::test
