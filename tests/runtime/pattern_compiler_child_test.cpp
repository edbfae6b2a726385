// Pattern compilation in a child process: the real vigil binary as `compile-patterns`, the way
// `vigil run` compiles classifier rules and multiline start patterns.

#include "io/logs/line_classifier.hpp"
#include "io/logs/multiline_joiner.hpp"
#include "io/logs/pattern_compiler.hpp"
#include "tests/support/temp_directory.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace vigil {
namespace {

class pattern_compiler_child_test : public ::testing::Test {
protected:
  void SetUp() override { compile_patterns_in_child(VIGIL_BINARY_DIR "/runtime/vigil"); }
  void TearDown() override { compile_patterns_in_child(""); }
};

TEST_F(pattern_compiler_child_test, classifier_rules_compiled_by_the_binary_classify_lines) {
  auto rules = hyperscan_rule_set::compile(classifier_rules::defaults());
  hyperscan_line_matcher matcher{rules};
  auto error = matcher.classify("kernel: ERROR reading sector 7");
  EXPECT_TRUE(error.is_error);
  EXPECT_EQ(error.level, severity::error);
  EXPECT_FALSE(matcher.classify("all quiet").is_error);
}

TEST_F(pattern_compiler_child_test, the_childs_refusal_names_the_keyword) {
  classifier_rules rules;
  rules.error_keywords = {"timeout", "oops("};
  try {
    hyperscan_rule_set::compile(rules);
    FAIL() << "a bad keyword compiled";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string{e.what()}.find("error keyword 'oops('"), std::string::npos) << e.what();
  }
  multiline_options options;
  options.mode = multiline_mode::start_pattern;
  options.start_pattern = "^[0-9";
  try {
    multiline_joiner joiner{options};
    FAIL() << "a bad start_pattern compiled";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string{e.what()}.find("start_pattern '^[0-9'"), std::string::npos) << e.what();
  }
}

// Start compiles the same rules three times (config check, log sources, journal): only the
// first runs a child. A wrapper script counts the children it runs.
TEST_F(pattern_compiler_child_test, a_set_compiled_before_runs_no_second_child) {
  test::temp_directory dir;
  auto runs = dir / "runs";
  auto wrapper = dir / "compiler";
  std::ofstream{wrapper} << "#!/bin/sh\necho run >> " << runs.string() << "\nexec "
                         << VIGIL_BINARY_DIR "/runtime/vigil \"$@\"\n";
  std::filesystem::permissions(wrapper, std::filesystem::perms::owner_all);
  compile_patterns_in_child(wrapper);
  auto count_runs = [&] {
    std::ifstream in{runs};
    std::string line;
    int n = 0;
    while (std::getline(in, line))
      ++n;
    return n;
  };
  auto rules = classifier_rules::defaults();
  hyperscan_line_matcher first{hyperscan_rule_set::compile(rules)};
  hyperscan_line_matcher second{hyperscan_rule_set::compile(rules)};
  EXPECT_EQ(count_runs(), 1);
  EXPECT_TRUE(second.classify("kernel: ERROR reading sector 7").is_error);
  rules.error_keywords = {"timeout"};
  hyperscan_line_matcher other{hyperscan_rule_set::compile(rules)};
  EXPECT_EQ(count_runs(), 2);
  EXPECT_TRUE(other.classify("upstream timeout").is_error);
  EXPECT_FALSE(other.classify("kernel: ERROR reading sector 7").is_error);
}

TEST_F(pattern_compiler_child_test, a_child_that_fails_is_an_error_not_an_empty_database) {
  compile_patterns_in_child("/bin/false");
  EXPECT_THROW(hyperscan_rule_set::compile(classifier_rules::defaults()), std::runtime_error);
  compile_patterns_in_child("/nonexistent/vigil");
  EXPECT_THROW(hyperscan_rule_set::compile(classifier_rules::defaults()), std::runtime_error);
}

} // namespace
} // namespace vigil
