#include "io/logs/line_classifier.hpp"

#include <hs/hs.h>

#include <algorithm>
#include <stdexcept>

namespace vigil {

classifier_rules classifier_rules::defaults() {
  classifier_rules rules;
  rules.error_keywords = {"emerg", "alert", "critical", "error", "fail", "panic", "fatal"};
  auto add = [&](std::initializer_list<const char*> words, severity level) {
    for (auto* word : words)
      rules.severity_words.push_back({word, level});
  };
  add({"emerg", "emergency", "alert", "crit", "critical", "panic", "fatal"}, severity::critical);
  add({"fail", "failed", "failure"}, severity::failure);
  add({"error", "err"}, severity::error);
  add({"warn", "warning"}, severity::warn);
  return rules;
}

void line_matcher::classify(const line_batch& batch, std::vector<line_class>& out) {
  out.assign(batch.lines.size(), line_class{});
  classify(batch.text, batch.lines, out);
}

namespace {

void check_pattern(const std::string& pattern, const char* what) {
  if (pattern.empty())
    throw std::invalid_argument(std::string("empty ") + what);
  if (pattern.find_first_of("\r\n") != std::string::npos)
    throw std::invalid_argument(std::string(what) + " '" + pattern + "' contains a line break");
}

} // namespace

std::shared_ptr<const hyperscan_rule_set>
hyperscan_rule_set::compile(const classifier_rules& rules) {
  std::vector<std::string> expressions;
  std::vector<std::string> names; // for error messages
  for (const auto& keyword : rules.error_keywords) {
    check_pattern(keyword, "error keyword");
    expressions.push_back("\\b(?:" + keyword + ")\\b");
    names.push_back("error keyword '" + keyword + "'");
  }
  std::shared_ptr<hyperscan_rule_set> set(new hyperscan_rule_set());
  set->keyword_count_ = rules.error_keywords.size();
  for (const auto& word : rules.severity_words) {
    check_pattern(word.pattern, "severity word");
    expressions.push_back("\\b(?:" + word.pattern + ")\\b");
    names.push_back("severity word '" + word.pattern + "'");
    set->levels_.push_back(word.level);
  }
  if (expressions.empty())
    throw std::invalid_argument("classifier rules hold no error keyword and no severity word");

  std::vector<hyperscan_pattern> patterns;
  patterns.reserve(expressions.size());
  for (std::size_t i = 0; i < expressions.size(); ++i)
    patterns.push_back({std::move(expressions[i]), HS_FLAG_CASELESS, static_cast<unsigned>(i)});
  try {
    set->database_ = compile_patterns(patterns);
  } catch (const pattern_compile_error& e) {
    auto index = e.index();
    if (index >= 0 && static_cast<std::size_t>(index) < names.size())
      throw std::invalid_argument("invalid " + names[index] + ": " + e.what());
    throw std::invalid_argument(std::string{"cannot compile classifier rules: "} + e.what());
  }
  return set;
}

hyperscan_line_matcher::hyperscan_line_matcher(std::shared_ptr<const hyperscan_rule_set> rules)
    : rules_(std::move(rules)) {
  if (!rules_)
    throw std::invalid_argument("hyperscan_line_matcher needs a rule set");
  if (hs_alloc_scratch(rules_->database(), &scratch_) != HS_SUCCESS)
    throw std::runtime_error("hs_alloc_scratch failed");
}

hyperscan_line_matcher::hyperscan_line_matcher(const hyperscan_line_matcher& other)
    : line_matcher(other)
    , rules_(other.rules_) {
  if (hs_clone_scratch(other.scratch_, &scratch_) != HS_SUCCESS)
    throw std::runtime_error("hs_clone_scratch failed");
}

hyperscan_line_matcher::~hyperscan_line_matcher() {
  hs_free_scratch(scratch_);
}

std::unique_ptr<line_matcher> hyperscan_line_matcher::clone() const {
  return std::make_unique<hyperscan_line_matcher>(*this);
}

namespace {

struct scan_state {
  const hyperscan_rule_set* rules;
  std::span<const log_line> lines;
  std::span<line_class> out;
  std::size_t cursor = 0; // line of the previous match: matches mostly come in offset order
};

int on_match(unsigned id, unsigned long long /*from*/, unsigned long long to, unsigned /*flags*/,
             void* context) {
  auto& state = *static_cast<scan_state*>(context);
  auto last_byte = to - 1; // `to` is one past the match; a match is never empty
  auto& lines = state.lines;
  std::size_t i = state.cursor;
  if (last_byte < lines[i].begin) {
    // Out of order: find the last line starting at or before last_byte.
    auto it =
        std::upper_bound(lines.begin(), lines.end(), last_byte,
                         [](auto offset, const log_line& line) { return offset < line.begin; });
    if (it == lines.begin())
      return 0;
    i = static_cast<std::size_t>(it - lines.begin()) - 1;
  } else {
    while (i + 1 < lines.size() && lines[i + 1].begin <= last_byte)
      ++i;
  }
  state.cursor = i;
  if (to > static_cast<unsigned long long>(lines[i].begin) + lines[i].length)
    return 0; // between lines or in a truncated line's cut-away bytes
  auto& result = state.out[i];
  if (id < state.rules->keyword_count())
    result.is_error = true;
  else
    result.level = std::max(result.level, state.rules->level_of(id));
  return 0;
}

} // namespace

void hyperscan_line_matcher::classify(std::string_view text, std::span<const log_line> lines,
                                      std::span<line_class> out) {
  if (out.size() < lines.size())
    throw std::invalid_argument("classify: output span shorter than the line list");
  for (std::size_t i = 0; i < lines.size(); ++i)
    out[i] = line_class{};
  if (lines.empty())
    return;
  // One scan from the buffer start (offsets then equal span indices) to the end of the last line;
  // bytes outside every span, like a truncated line's cut-away part, are ignored by on_match.
  std::size_t end = static_cast<std::size_t>(lines.back().begin) + lines.back().length;
  if (end > text.size())
    throw std::invalid_argument("classify: line spans exceed the text");
  scan_state state{rules_.get(), lines, out};
  if (end > 0 && hs_scan(rules_->database(), text.data(), static_cast<unsigned>(end), 0, scratch_,
                         on_match, &state) != HS_SUCCESS)
    throw std::runtime_error("hs_scan failed");
  // An error event without a severity word is at least an error.
  for (std::size_t i = 0; i < lines.size(); ++i)
    if (out[i].is_error && out[i].level < severity::error)
      out[i].level = severity::error;
}

line_class hyperscan_line_matcher::classify(std::string_view line) {
  log_line span{0, static_cast<std::uint32_t>(line.size()), 0, 0, 0};
  line_class result;
  classify(line, std::span<const log_line>(&span, 1), std::span<line_class>(&result, 1));
  return result;
}

std::unique_ptr<line_matcher> make_line_matcher(const classifier_rules& rules) {
  return std::make_unique<hyperscan_line_matcher>(hyperscan_rule_set::compile(rules));
}

} // namespace vigil
