#include "io/logs/multiline_joiner.hpp"

#include "io/logs/pattern_compiler.hpp"

#include <hs/hs.h>

#include <stdexcept>

namespace vigil {

// Compiled start_pattern; a single-line scan per pushed line (multiline is opt-in, per file).
struct multiline_joiner::pattern {
  hs_database_ptr database;
  hs_scratch_t* scratch = nullptr;
  ~pattern() { hs_free_scratch(scratch); }
};

multiline_joiner::multiline_joiner(multiline_options options)
    : options_(std::move(options)) {
  if (options_.max_lines == 0)
    throw std::invalid_argument("multiline max_lines must be at least 1");
  if (options_.max_bytes == 0)
    throw std::invalid_argument("multiline max_bytes must be at least 1");
  if (options_.mode != multiline_mode::start_pattern)
    return;
  if (options_.start_pattern.empty())
    throw std::invalid_argument("multiline start_pattern is empty");
  start_ = std::make_unique<pattern>();
  try {
    hyperscan_pattern start{options_.start_pattern, HS_FLAG_SINGLEMATCH | HS_FLAG_ALLOWEMPTY, 0};
    start_->database = compile_patterns({&start, 1});
  } catch (const pattern_compile_error& e) {
    throw std::invalid_argument("invalid multiline start_pattern '" + options_.start_pattern +
                                "': " + e.what());
  }
  if (hs_alloc_scratch(start_->database.get(), &start_->scratch) != HS_SUCCESS)
    throw std::runtime_error("hs_alloc_scratch failed");
}

multiline_joiner::~multiline_joiner() = default;
multiline_joiner::multiline_joiner(multiline_joiner&&) noexcept = default;
multiline_joiner& multiline_joiner::operator=(multiline_joiner&&) noexcept = default;

namespace {

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool is_blank(char c) {
  return c == ' ' || c == '\t';
}

std::string_view trim_left(std::string_view s) {
  while (!s.empty() && is_blank(s.front()))
    s.remove_prefix(1);
  return s;
}

bool is_word_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '$';
}

// "java.lang.IllegalStateException: boom", "com.acme.Oops$InnerError" (a dotted name whose
// last part ends in Exception/Error/Throwable, then ':' or the end of the line).
bool is_java_exception_header(std::string_view line) {
  std::size_t end = 0;
  bool dotted = false;
  while (end < line.size() && (is_word_char(line[end]) || line[end] == '.')) {
    dotted = dotted || line[end] == '.';
    ++end;
  }
  if (!dotted || (end < line.size() && line[end] != ':'))
    return false;
  auto name = line.substr(0, end);
  for (std::string_view suffix : {"Exception", "Error", "Throwable"})
    if (name.size() > suffix.size() && name.substr(name.size() - suffix.size()) == suffix)
      return true;
  return false;
}

// "goroutine 1 [running]:"
bool is_goroutine_header(std::string_view line) {
  if (!starts_with(line, "goroutine "))
    return false;
  auto rest = line.substr(10);
  std::size_t digits = 0;
  while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9')
    ++digits;
  rest.remove_prefix(digits);
  return digits > 0 && starts_with(rest, " [") && rest.size() >= 4 &&
         rest.substr(rest.size() - 2) == "]:";
}

// "main.main()", "net/http.(*conn).serve(0xc000112000, {0x7a3e48, 0xc0000a6000})"
bool is_go_function_line(std::string_view line) {
  return !line.empty() && !is_blank(line.front()) && line.back() == ')' &&
         line.find('(') != std::string_view::npos && line.find(' ') > line.find('(');
}

constexpr std::string_view python_traceback = "Traceback (most recent call last):";

} // namespace

bool multiline_joiner::starts_event(std::string_view line) const {
  bool matched = false;
  auto on_match = [](unsigned, unsigned long long, unsigned long long, unsigned, void* ctx) {
    *static_cast<bool*>(ctx) = true;
    return 1; // stop at the first match
  };
  hs_error_t rc = hs_scan(start_->database.get(), line.data(), static_cast<unsigned>(line.size()),
                          0, start_->scratch, on_match, &matched);
  if (rc != HS_SUCCESS && rc != HS_SCAN_TERMINATED)
    throw std::runtime_error("hs_scan failed on the multiline start_pattern");
  return matched;
}

bool multiline_joiner::is_continuation(std::string_view line) {
  if (options_.mode == multiline_mode::start_pattern)
    return !starts_event(line);

  // Python: frames are indented; the first unindented line is the exception and ends it.
  if (state_ == trace_state::python_frames) {
    if (line.empty() || is_blank(line.front()))
      return true;
    state_ = trace_state::python_done;
    return true;
  }
  if (starts_with(line, python_traceback)) {
    state_ = trace_state::python_frames;
    return true; // joins the "ERROR ..." line logged just before it, if any
  }
  if (state_ == trace_state::python_done) {
    // Chained exceptions: blank line, explanation, blank line, next traceback.
    if (line.empty() || starts_with(line, "During handling of the above exception") ||
        starts_with(line, "The above exception was the direct cause"))
      return true;
    state_ = trace_state::none;
  }

  // Go: "panic: ..." then goroutine blocks of function lines and indented file lines.
  if (is_goroutine_header(line) || (state_ == trace_state::none && starts_with(line, "panic: "))) {
    bool joins = state_ == trace_state::go;
    state_ = trace_state::go;
    return joins;
  }
  if (state_ == trace_state::go) {
    if (line.empty() || is_blank(line.front()) || is_go_function_line(line) ||
        starts_with(line, "created by ") || starts_with(line, "[signal ") ||
        starts_with(line, "exit status "))
      return true;
    state_ = trace_state::none;
  }

  // Java (and generic): indented lines, cause chains, exception headers.
  if (!line.empty() && is_blank(line.front()))
    return true;
  auto trimmed = trim_left(line);
  return starts_with(trimmed, "Caused by:") || starts_with(trimmed, "Suppressed:") ||
         is_java_exception_header(line);
}

void multiline_joiner::begin(std::string_view line, std::uint64_t offset, std::uint64_t end_offset,
                             std::uint64_t line_number) {
  pending_.emplace();
  pending_->first_offset = offset;
  pending_->first_line = line_number;
  append(line, offset, end_offset);
}

void multiline_joiner::append(std::string_view line, std::uint64_t offset,
                              std::uint64_t end_offset) {
  auto& event = *pending_;
  std::size_t separator = event.line_count > 0 ? 1 : 0;
  std::size_t room =
      options_.max_bytes > event.text.size() ? options_.max_bytes - event.text.size() : 0;
  if (separator + line.size() > room) {
    event.truncated = true;
    if (room > separator) {
      if (separator)
        event.text.push_back('\n');
      event.text.append(line.substr(0, room - separator));
    }
  } else {
    if (separator)
      event.text.push_back('\n');
    event.text.append(line);
  }
  event.last_offset = offset;
  event.end_offset = end_offset;
  ++event.line_count;
}

void multiline_joiner::push(std::string_view line, std::uint64_t offset, std::uint64_t end_offset,
                            std::uint64_t line_number, clock::time_point now,
                            std::vector<joined_event>& out) {
  last_push_ = now;
  bool continues = is_continuation(line) && pending_.has_value();
  // A full event is emitted and this line opens the next one: splitting keeps every byte.
  if (continues && (pending_->line_count >= options_.max_lines ||
                    pending_->text.size() + 1 + line.size() > options_.max_bytes))
    continues = false;
  if (continues) {
    append(line, offset, end_offset);
    return;
  }
  if (pending_) {
    out.push_back(std::move(*pending_));
    pending_.reset();
  }
  begin(line, offset, end_offset, line_number);
}

void multiline_joiner::flush_expired(clock::time_point now, std::vector<joined_event>& out) {
  if (pending_ && now - last_push_ >= options_.timeout)
    flush(out);
}

void multiline_joiner::flush(std::vector<joined_event>& out) {
  if (pending_) {
    out.push_back(std::move(*pending_));
    pending_.reset();
  }
  state_ = trace_state::none;
}

std::optional<multiline_joiner::clock::time_point>
multiline_joiner::pending_deadline() const noexcept {
  if (!pending_)
    return std::nullopt;
  return last_push_ + options_.timeout;
}

} // namespace vigil
