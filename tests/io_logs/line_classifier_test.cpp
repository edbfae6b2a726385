#include "io/logs/file_follower.hpp"
#include "io/logs/line_classifier.hpp"
#include "tests/support/temp_directory.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace vigil {
namespace {

// Builds a batch the way file_follower lays it out: lines separated by "\n".
line_batch make_batch(const std::vector<std::string>& lines) {
  line_batch batch;
  std::uint64_t number = 1;
  for (const auto& text : lines) {
    log_line line;
    line.begin = static_cast<std::uint32_t>(batch.text.size());
    line.length = static_cast<std::uint32_t>(text.size());
    line.offset = line.begin;
    line.number = number++;
    batch.text += text;
    batch.text += '\n';
    batch.lines.push_back(line);
  }
  return batch;
}

class line_classifier_test : public ::testing::Test {
protected:
  std::unique_ptr<line_matcher> matcher = make_line_matcher(classifier_rules::defaults());
};

TEST_F(line_classifier_test, every_default_keyword_marks_an_error_in_any_case) {
  for (std::string keyword : {"emerg", "alert", "critical", "error", "fail", "panic", "fatal"}) {
    std::string upper = keyword;
    for (auto& c : upper)
      c = static_cast<char>(std::toupper(c));
    EXPECT_TRUE(matcher->classify("app: " + keyword + " in module").is_error) << keyword;
    EXPECT_TRUE(matcher->classify("[" + upper + "] something").is_error) << upper;
    EXPECT_TRUE(matcher->classify(keyword).is_error) << keyword << " alone";
  }
  EXPECT_TRUE(matcher->classify("ErRoR mixed case").is_error);
}

TEST_F(line_classifier_test, keywords_are_word_bounded) {
  for (const char* line : {"errorless run", "a terror movie", "failing slowly", "panicky",
                           "fatalistic", "alerted", "emergency", "noerror", "error_code=0"})
    EXPECT_FALSE(matcher->classify(line).is_error) << line;
  for (const char* line : {"error: disk", "x=error,", "(fatal)", "panic!", "-fail-", "ERROR"})
    EXPECT_TRUE(matcher->classify(line).is_error) << line;
}

TEST_F(line_classifier_test, highest_severity_wins) {
  EXPECT_EQ(matcher->classify("just some info").level, severity::info);
  EXPECT_EQ(matcher->classify("warning: low disk").level, severity::warn);
  EXPECT_EQ(matcher->classify("WARN then error").level, severity::error);
  EXPECT_EQ(matcher->classify("error because job failed").level, severity::failure);
  EXPECT_EQ(matcher->classify("failure, error, warning, crit").level, severity::critical);
  EXPECT_EQ(matcher->classify("kernel panic").level, severity::critical);
  EXPECT_EQ(matcher->classify("err: x").level, severity::error);
  auto failed = matcher->classify("connection failed"); // severity word, not an error keyword
  EXPECT_FALSE(failed.is_error);
  EXPECT_EQ(failed.level, severity::failure);
}

TEST_F(line_classifier_test, custom_keywords_replace_the_defaults) {
  classifier_rules rules;
  rules.error_keywords = {"oops", "disk\\s+full"};
  rules.severity_words = {{"notice", severity::warn}};
  auto custom = make_line_matcher(rules);
  EXPECT_TRUE(custom->classify("Oops, it broke").is_error);
  EXPECT_TRUE(custom->classify("disk   full on /var").is_error);
  EXPECT_FALSE(custom->classify("error everywhere").is_error);
  // An error event with no severity word counts as an error.
  EXPECT_EQ(custom->classify("oops").level, severity::error);
  EXPECT_EQ(custom->classify("notice: x").level, severity::warn);
}

TEST_F(line_classifier_test, an_invalid_keyword_is_named_in_the_error) {
  classifier_rules rules = classifier_rules::defaults();
  rules.error_keywords.push_back("bad(keyword");
  try {
    make_line_matcher(rules);
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("bad(keyword"), std::string::npos) << e.what();
  }
  rules.error_keywords = {""};
  EXPECT_THROW(make_line_matcher(rules), std::invalid_argument);
  rules.error_keywords = {"a\nb"};
  EXPECT_THROW(make_line_matcher(rules), std::invalid_argument);
}

TEST_F(line_classifier_test, chunk_classification_maps_matches_to_their_lines) {
  std::vector<std::string> lines = {"error at the very start",
                                    "",
                                    "nothing here",
                                    "",
                                    "warning in the middle",
                                    "ends with fatal",
                                    "terror",
                                    "error\r", // CRLF leftover never hides a keyword
                                    "",
                                    "last line error"};
  auto batch = make_batch(lines);
  std::vector<line_class> out;
  matcher->classify(batch, out);
  ASSERT_EQ(out.size(), lines.size());
  std::vector<bool> expected_error = {true, false, false, false, false,
                                      true, false, true,  false, true};
  for (std::size_t i = 0; i < lines.size(); ++i) {
    EXPECT_EQ(out[i].is_error, expected_error[i]) << "line " << i << ": " << lines[i];
    EXPECT_EQ(out[i], matcher->classify(lines[i])) << "line " << i;
  }
  EXPECT_EQ(out[4].level, severity::warn);
  EXPECT_EQ(out[1].level, severity::info);
}

TEST_F(line_classifier_test, keywords_touching_line_boundaries_do_not_leak_into_neighbours) {
  // "error" ends exactly where the next line starts; the next line must stay clean.
  auto batch = make_batch({"error", "x", "error", "error", "y"});
  std::vector<line_class> out;
  matcher->classify(batch, out);
  EXPECT_TRUE(out[0].is_error);
  EXPECT_FALSE(out[1].is_error);
  EXPECT_TRUE(out[2].is_error);
  EXPECT_TRUE(out[3].is_error);
  EXPECT_FALSE(out[4].is_error);
}

TEST_F(line_classifier_test, file_batches_at_any_chunk_size_give_the_same_counts) {
  test::temp_directory dir;
  auto path = dir / "app.log";
  std::string content;
  std::size_t expected = 0;
  for (int i = 0; i < 500; ++i) {
    bool error = i % 7 == 0;
    expected += error ? 1 : 0;
    content += "2024-01-15T10:30:45Z host app[" + std::to_string(i) +
               "]: " + (error ? "ERROR request failed" : "request served terror-free") + "\r\n";
  }
  test::append_file(path, content);
  for (std::size_t chunk : {1u, 57u, 100u, 4096u, 1u << 20}) {
    file_follower follower(path, start_position::beginning);
    line_batch batch;
    std::vector<line_class> out;
    std::size_t errors = 0, lines = 0;
    do {
      follower.read(batch, chunk);
      matcher->classify(batch, out);
      for (const auto& c : out)
        errors += c.is_error ? 1 : 0;
      lines += batch.lines.size();
    } while (!batch.empty());
    EXPECT_EQ(lines, 500u) << "chunk " << chunk;
    EXPECT_EQ(errors, expected) << "chunk " << chunk;
  }
}

TEST_F(line_classifier_test, truncated_away_bytes_never_match) {
  test::temp_directory dir;
  auto path = dir / "long.log";
  test::append_file(path, std::string(300, 'x') + " error here\nok\n");
  follower_options options;
  options.max_line_bytes = 100;
  file_follower follower(path, start_position::beginning, options);
  line_batch batch;
  follower.read(batch, 1 << 16);
  ASSERT_EQ(batch.lines.size(), 2u);
  ASSERT_GT(batch.lines[0].dropped_bytes, 0u);
  std::vector<line_class> out;
  matcher->classify(batch, out);
  EXPECT_FALSE(out[0].is_error);
}

TEST_F(line_classifier_test, matchers_share_a_rule_set_and_clone_their_scratch) {
  auto rules = hyperscan_rule_set::compile(classifier_rules::defaults());
  hyperscan_line_matcher first(rules);
  hyperscan_line_matcher second(rules);
  auto third = first.clone();
  EXPECT_TRUE(first.classify("error").is_error);
  EXPECT_TRUE(second.classify("fatal").is_error);
  EXPECT_TRUE(third->classify("panic").is_error);
  EXPECT_FALSE(third->classify("fine").is_error);
}

TEST_F(line_classifier_test, an_empty_batch_is_fine) {
  line_batch batch;
  std::vector<line_class> out(3);
  matcher->classify(batch, out);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(matcher->classify(std::string_view()), line_class{});
}

} // namespace
} // namespace vigil
