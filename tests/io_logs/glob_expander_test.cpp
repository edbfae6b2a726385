#include "io/logs/glob_expander.hpp"
#include "tests/support/temp_directory.hpp"

#include <gtest/gtest.h>

namespace vigil {
namespace {

namespace fs = std::filesystem;

class glob_expander_test : public ::testing::Test {
protected:
  void SetUp() override {
    for (const char* file : {"a.log", "b.log", "c.txt", ".hidden.log", "app/x.log", "app/y.txt",
                             "app/deep/er/z.log", "app/.git/h.log", "other/o.log"}) {
      fs::create_directories((dir / file).parent_path());
      test::append_file(dir / file, "x\n");
    }
    fs::create_directories(dir / "dir.log");                     // a directory, not a file
    fs::create_directory_symlink(dir / "app", dir / "app/loop"); // "**" must not loop
  }
  std::string pattern(const std::string& tail) const { return (dir.path() / tail).string(); }
  std::vector<fs::path> under(std::initializer_list<const char*> names) const {
    std::vector<fs::path> out;
    for (auto* name : names)
      out.push_back(dir / name);
    return out;
  }
  test::temp_directory dir;
};

TEST_F(glob_expander_test, star_matches_files_in_one_directory_in_sorted_order) {
  glob_expander glob({pattern("*.log")});
  EXPECT_EQ(glob.expand(), under({"a.log", "b.log"}));
}

TEST_F(glob_expander_test, double_star_matches_any_depth_including_zero) {
  glob_expander glob({pattern("app/**/*.log")});
  EXPECT_EQ(glob.expand(), under({"app/deep/er/z.log", "app/x.log"}));
  glob_expander everything({pattern("**/*.log")});
  EXPECT_EQ(everything.expand(),
            under({"a.log", "app/deep/er/z.log", "app/x.log", "b.log", "other/o.log"}));
}

TEST_F(glob_expander_test, several_patterns_are_merged_without_duplicates) {
  glob_expander glob({pattern("a.log"), pattern("*.log"), pattern("*/o.log"), pattern("nope/*")});
  EXPECT_EQ(glob.expand(), under({"a.log", "b.log", "other/o.log"}));
}

TEST_F(glob_expander_test, question_mark_and_brackets) {
  glob_expander glob({pattern("[ab].lo?")});
  EXPECT_EQ(glob.expand(), under({"a.log", "b.log"}));
}

TEST_F(glob_expander_test, matches_checks_names_only) {
  glob_expander glob({pattern("app/**/*.log"), pattern("*.txt")});
  EXPECT_TRUE(glob.matches(dir / "app/new.log"));
  EXPECT_TRUE(glob.matches(dir / "app/a/b/c/new.log"));
  EXPECT_TRUE(glob.matches(dir / "later.txt"));
  EXPECT_FALSE(glob.matches(dir / "app/new.txt"));
  EXPECT_FALSE(glob.matches(dir / "app/.git/h.log"));
  EXPECT_FALSE(glob.matches(dir / "other/o.log"));
}

TEST_F(glob_expander_test, watch_directories_cover_where_matches_can_appear) {
  glob_expander glob({pattern("app/**/*.log"), pattern("*.txt")});
  std::vector<fs::path> expected = {dir.path()};
  for (auto& sub : under({"app", "app/deep", "app/deep/er"}))
    expected.push_back(sub);
  EXPECT_EQ(glob.watch_directories(), expected);
}

TEST_F(glob_expander_test, empty_pattern_is_rejected) {
  EXPECT_THROW(glob_expander({""}), std::invalid_argument);
}

} // namespace
} // namespace vigil
