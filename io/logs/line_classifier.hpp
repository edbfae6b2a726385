#pragma once

#include "io/logs/log_line.hpp"
#include "io/logs/pattern_compiler.hpp"
#include "io/logs/severity.hpp"

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

struct hs_database;
struct hs_scratch;

namespace vigil {

struct severity_word {
  std::string pattern;
  severity level = severity::info;
};

// Keywords and severity words are regular expressions (Hyperscan/PCRE syntax, usually plain
// words) matched case-insensitively and word-bounded: "error" matches "error:" and "ERROR",
// not "errorless" or "terror". A pattern must not match across a newline.
struct classifier_rules {
  std::vector<std::string> error_keywords;
  std::vector<severity_word> severity_words;

  // The seed's keywords and the default severity vocabulary.
  static classifier_rules defaults();
};

struct line_class {
  bool is_error = false; // an error keyword matched
  severity level = severity::info;
  friend bool operator==(const line_class&, const line_class&) = default;
};

// The engine behind classification, swappable (Hyperscan today). An instance is used by one
// thread at a time; clone() gives another thread its own.
class line_matcher {
public:
  virtual ~line_matcher() = default;

  // Classifies every line of `lines` (spans into `text`): out[i] describes lines[i].
  // Only bytes inside a line's span count, so truncated-away bytes never match.
  virtual void classify(std::string_view text, std::span<const log_line> lines,
                        std::span<line_class> out) = 0;
  virtual line_class classify(std::string_view line) = 0;
  virtual std::unique_ptr<line_matcher> clone() const = 0;

  // Convenience for a whole batch; `out` is resized to the batch's line count.
  void classify(const line_batch& batch, std::vector<line_class>& out);
};

// Compiled rules: immutable, shared by every matcher built from it.
class hyperscan_rule_set {
public:
  // Throws std::invalid_argument naming the offending keyword or severity word.
  static std::shared_ptr<const hyperscan_rule_set> compile(const classifier_rules& rules);

  hyperscan_rule_set(const hyperscan_rule_set&) = delete;
  hyperscan_rule_set& operator=(const hyperscan_rule_set&) = delete;

  hs_database* database() const noexcept { return database_.get(); }
  std::size_t keyword_count() const noexcept { return keyword_count_; }
  // Severity of pattern id `id` (ids >= keyword_count() are severity words).
  severity level_of(unsigned id) const noexcept { return levels_[id - keyword_count_]; }

private:
  hyperscan_rule_set() = default;
  hs_database_ptr database_;
  std::size_t keyword_count_ = 0;
  std::vector<severity> levels_;
};

// One hs_scan per chunk of lines, match end offsets mapped back to lines.
class hyperscan_line_matcher final : public line_matcher {
public:
  explicit hyperscan_line_matcher(std::shared_ptr<const hyperscan_rule_set> rules);
  ~hyperscan_line_matcher() override;
  hyperscan_line_matcher(const hyperscan_line_matcher& other);
  hyperscan_line_matcher& operator=(const hyperscan_line_matcher&) = delete;

  using line_matcher::classify;
  void classify(std::string_view text, std::span<const log_line> lines,
                std::span<line_class> out) override;
  line_class classify(std::string_view line) override;
  std::unique_ptr<line_matcher> clone() const override;

private:
  std::shared_ptr<const hyperscan_rule_set> rules_;
  hs_scratch* scratch_ = nullptr;
};

// Compiles `rules` and returns a Hyperscan matcher; throws std::invalid_argument.
std::unique_ptr<line_matcher> make_line_matcher(const classifier_rules& rules);

} // namespace vigil
