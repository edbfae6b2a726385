#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vigil {

enum class multiline_mode {
  // A line matching start_pattern begins an event; any other line continues the pending one.
  start_pattern,
  // Built-in continuation rules for Java, Python and Go stack traces: indented lines,
  // "Caused by:", "... N more", an exception header, "Traceback (most recent call last):" with
  // its frames and final exception line, "panic:" / "goroutine N [...]:" blocks.
  stack_trace,
};

struct multiline_options {
  multiline_mode mode = multiline_mode::stack_trace;
  std::string start_pattern; // start_pattern mode: Hyperscan/PCRE syntax, e.g. "^\\d{4}-\\d\\d-"
  std::size_t max_lines = 500;
  std::size_t max_bytes = 256 * 1024;
  // A pending event with no new line for this long is emitted by flush_expired().
  std::chrono::milliseconds timeout{2000};
};

struct joined_event {
  std::string text;               // the lines joined with '\n'
  std::uint64_t first_offset = 0; // file offset of the first line
  std::uint64_t last_offset = 0;  // file offset of the last line
  std::uint64_t end_offset = 0;   // offset after the last line: where a checkpoint may go
  std::uint64_t first_line = 0;   // line number of the first line
  std::size_t line_count = 0;
  bool truncated = false; // bytes beyond max_bytes were cut
};

// Joins consecutive lines of one file into events. Not thread-safe; one per file.
class multiline_joiner {
public:
  using clock = std::chrono::steady_clock;

  // Throws std::invalid_argument naming start_pattern when it does not compile.
  explicit multiline_joiner(multiline_options options);
  ~multiline_joiner();
  multiline_joiner(multiline_joiner&&) noexcept;
  multiline_joiner& operator=(multiline_joiner&&) noexcept;

  // Adds one line (end_offset: offset after its newline); completed events go to `out`.
  void push(std::string_view line, std::uint64_t offset, std::uint64_t end_offset,
            std::uint64_t line_number, clock::time_point now, std::vector<joined_event>& out);
  // Emits the pending event if its last line arrived more than `timeout` before now.
  void flush_expired(clock::time_point now, std::vector<joined_event>& out);
  // Emits the pending event unconditionally (end of a rotated-away file, shutdown).
  void flush(std::vector<joined_event>& out);

  bool has_pending() const noexcept { return pending_.has_value(); }
  // The event being joined, if any: a checkpoint must not pass its first_offset.
  const joined_event* pending() const noexcept { return pending_ ? &*pending_ : nullptr; }
  // When flush_expired() would emit the pending event.
  std::optional<clock::time_point> pending_deadline() const noexcept;

private:
  enum class trace_state { none, python_frames, python_done, go };

  bool is_continuation(std::string_view line);
  bool starts_event(std::string_view line) const; // start_pattern mode
  void append(std::string_view line, std::uint64_t offset, std::uint64_t end_offset);
  void begin(std::string_view line, std::uint64_t offset, std::uint64_t end_offset,
             std::uint64_t line_number);

  struct pattern;
  multiline_options options_;
  std::unique_ptr<pattern> start_;
  std::optional<joined_event> pending_;
  clock::time_point last_push_{};
  trace_state state_ = trace_state::none;
};

} // namespace vigil
