#pragma once

// Hyperscan compilation, in this process or in a short-lived child process.
//
// The compiler is most of libhs: one compilation makes about 3 MB of its code resident, while
// matching needs a fraction of that. The agent therefore compiles in a child (its own binary,
// `vigil compile-patterns`) and keeps only the serialized database it hands back; its resident
// set stays small however often rules are compiled (start, reload, a restarted source).

#include <iosfwd>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>

struct hs_database;

namespace vigil {

struct hyperscan_pattern {
  std::string expression;
  unsigned flags = 0; // HS_FLAG_*
  unsigned id = 0;    // reported on a match
};

struct hs_database_deleter {
  void operator()(hs_database* database) const noexcept;
};
using hs_database_ptr = std::unique_ptr<hs_database, hs_database_deleter>;

/// A pattern Hyperscan refused: `index()` is its position in the list (-1: the set as a whole).
class pattern_compile_error : public std::invalid_argument {
public:
  pattern_compile_error(int index, const std::string& message)
      : std::invalid_argument(message)
      , index_(index) {}
  int index() const noexcept { return index_; }

private:
  int index_;
};

/// Compiles `patterns` for block mode. Throws pattern_compile_error when Hyperscan refuses
/// them and std::runtime_error when the child compiler cannot be run or fails otherwise.
hs_database_ptr compile_patterns(std::span<const hyperscan_pattern> patterns);

/// From now on compile_patterns() runs `executable compile-patterns` (vigil's own binary) for
/// each set of patterns it has not compiled recently (it keeps the last 16 databases); empty
/// (the default): compiles in this process. Call before any thread compiles.
void compile_patterns_in_child(std::string executable);

/// The child's side: reads the patterns (JSON) from `in` and writes the serialized database to
/// `out` (exit status 0), or a refusal as JSON {"index", "message"} (exit status 3). Returns the
/// exit status.
int run_pattern_compiler(std::istream& in, std::ostream& out);

} // namespace vigil
