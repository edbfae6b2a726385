#include "io/logs/multiline_joiner.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace vigil {
namespace {

using namespace std::chrono_literals;
using clock_type = multiline_joiner::clock;

// Feeds lines as if read from a file with "\n" endings; returns the emitted events.
struct feeder {
  multiline_joiner joiner;
  std::uint64_t offset = 0;
  std::uint64_t number = 1;
  clock_type::time_point now{};
  std::vector<joined_event> events;

  explicit feeder(multiline_options options)
      : joiner(std::move(options)) {}
  void push(const std::string& line) {
    joiner.push(line, offset, offset + line.size() + 1, number++, now, events);
    offset += line.size() + 1;
  }
  void push_all(const std::vector<std::string>& lines) {
    for (const auto& line : lines)
      push(line);
  }
  std::vector<std::string> texts() const {
    std::vector<std::string> out;
    for (const auto& e : events)
      out.push_back(e.text);
    return out;
  }
};

multiline_options stack_traces() {
  return {};
}

multiline_options starting_with(std::string pattern) {
  multiline_options options;
  options.mode = multiline_mode::start_pattern;
  options.start_pattern = std::move(pattern);
  return options;
}

TEST(multiline_joiner_test, start_pattern_groups_lines_and_keeps_offsets) {
  feeder f(starting_with("^\\d{4}-\\d\\d-\\d\\d "));
  f.push_all({"2024-01-15 first", "  more", "still first", "2024-01-15 second", "2024-01-15 third",
              "tail"});
  ASSERT_EQ(f.events.size(), 2u);
  EXPECT_EQ(f.events[0].text, "2024-01-15 first\n  more\nstill first");
  EXPECT_EQ(f.events[0].first_offset, 0u);
  EXPECT_EQ(f.events[0].last_offset, 24u); // "2024-01-15 first\n" + "  more\n"
  EXPECT_EQ(f.events[0].end_offset, 36u);
  EXPECT_EQ(f.events[0].first_line, 1u);
  EXPECT_EQ(f.events[0].line_count, 3u);
  EXPECT_EQ(f.events[1].text, "2024-01-15 second");
  EXPECT_EQ(f.events[1].first_offset, 36u);
  EXPECT_EQ(f.events[1].first_line, 4u);
  ASSERT_NE(f.joiner.pending(), nullptr);
  EXPECT_EQ(f.joiner.pending()->first_offset, 54u);
  f.joiner.flush(f.events);
  ASSERT_EQ(f.events.size(), 3u);
  EXPECT_EQ(f.events[2].text, "2024-01-15 third\ntail");
  EXPECT_EQ(f.events[2].last_offset, 71u);
  EXPECT_FALSE(f.joiner.has_pending());
}

TEST(multiline_joiner_test, an_invalid_start_pattern_is_named) {
  try {
    multiline_joiner joiner(starting_with("^(unclosed"));
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("^(unclosed"), std::string::npos) << e.what();
  }
  EXPECT_THROW(multiline_joiner(starting_with("")), std::invalid_argument);
}

TEST(multiline_joiner_test, java_stack_trace) {
  feeder f(stack_traces());
  f.push_all({"2024-01-15 10:30:45 ERROR request failed", "java.lang.IllegalStateException: boom",
              "\tat com.acme.Service.run(Service.java:42)",
              "\tat java.base/java.lang.Thread.run(Thread.java:833)",
              "Caused by: java.io.IOException: disk", "\tat com.acme.Disk.write(Disk.java:7)",
              "\t... 5 more", "2024-01-15 10:30:46 INFO next request",
              "2024-01-15 10:30:47 INFO another"});
  ASSERT_EQ(f.events.size(), 2u);
  EXPECT_EQ(f.events[0].line_count, 7u);
  EXPECT_EQ(f.events[0].text.substr(0, 41), "2024-01-15 10:30:45 ERROR request failed\n");
  EXPECT_NE(f.events[0].text.find("\t... 5 more"), std::string::npos);
  EXPECT_EQ(f.events[1].text, "2024-01-15 10:30:46 INFO next request");
}

TEST(multiline_joiner_test, python_traceback_with_chained_exception) {
  feeder f(stack_traces());
  f.push_all({"ERROR:root:job failed", "Traceback (most recent call last):",
              "  File \"/app/job.py\", line 3, in <module>", "    run()", "KeyError: 'x'", "",
              "During handling of the above exception, another exception occurred:", "",
              "Traceback (most recent call last):", "  File \"/app/job.py\", line 5, in <module>",
              "ValueError: bad value", "INFO:root:next", "INFO:root:after"});
  ASSERT_EQ(f.events.size(), 2u);
  EXPECT_EQ(f.events[0].line_count, 11u);
  EXPECT_EQ(f.events[0].text.substr(f.events[0].text.size() - 21), "ValueError: bad value");
  EXPECT_EQ(f.events[1].text, "INFO:root:next");
}

TEST(multiline_joiner_test, go_panic_with_goroutines) {
  feeder f(stack_traces());
  f.push_all({"panic: runtime error: index out of range [5] with length 3", "",
              "goroutine 1 [running]:", "main.main()", "\t/tmp/sandbox/prog.go:8 +0x1d", "",
              "goroutine 6 [chan receive]:",
              "net/http.(*conn).serve(0xc000112000, {0x7a3e48, 0xc0000a6000})",
              "\t/usr/local/go/src/net/http/server.go:1995 +0x612",
              "created by net/http.(*Server).Serve in goroutine 1", "exit status 2",
              "2024/01/15 10:30:45 restarted", "2024/01/15 10:30:46 serving"});
  ASSERT_EQ(f.events.size(), 2u);
  EXPECT_EQ(f.events[0].line_count, 11u);
  EXPECT_EQ(f.events[1].text, "2024/01/15 10:30:45 restarted");
}

TEST(multiline_joiner_test, plain_lines_stay_separate) {
  feeder f(stack_traces());
  f.push_all({"one", "two", "three"});
  f.joiner.flush(f.events);
  EXPECT_EQ(f.texts(), (std::vector<std::string>{"one", "two", "three"}));
}

TEST(multiline_joiner_test, max_lines_splits_without_losing_lines) {
  auto options = stack_traces();
  options.max_lines = 3;
  feeder f(options);
  f.push_all({"head", "\tat a", "\tat b", "\tat c", "\tat d", "next"});
  f.joiner.flush(f.events);
  EXPECT_EQ(f.texts(),
            (std::vector<std::string>{"head\n\tat a\n\tat b", "\tat c\n\tat d", "next"}));
  EXPECT_EQ(f.events[1].first_line, 4u);
}

TEST(multiline_joiner_test, max_bytes_splits_and_cuts_a_single_huge_line) {
  auto options = stack_traces();
  options.max_bytes = 12;
  feeder f(options);
  f.push_all({"head", "\tat a", "\tat b", std::string(30, 'x')});
  f.joiner.flush(f.events);
  ASSERT_EQ(f.events.size(), 3u);
  EXPECT_EQ(f.events[0].text, "head\n\tat a");
  EXPECT_EQ(f.events[1].text, "\tat b");
  EXPECT_EQ(f.events[2].text, std::string(12, 'x'));
  EXPECT_TRUE(f.events[2].truncated);
  EXPECT_FALSE(f.events[0].truncated);
}

TEST(multiline_joiner_test, a_quiet_pending_event_is_flushed_after_the_timeout) {
  auto options = stack_traces();
  options.timeout = 500ms;
  feeder f(options);
  f.push_all({"head", "\tat a"});
  EXPECT_TRUE(f.events.empty());
  EXPECT_EQ(f.joiner.pending_deadline(), f.now + 500ms);
  f.joiner.flush_expired(f.now + 499ms, f.events);
  EXPECT_TRUE(f.events.empty());
  f.now += 300ms;
  f.push("\tat b"); // activity moves the deadline
  f.joiner.flush_expired(f.now + 499ms, f.events);
  EXPECT_TRUE(f.events.empty());
  f.joiner.flush_expired(f.now + 500ms, f.events);
  ASSERT_EQ(f.events.size(), 1u);
  EXPECT_EQ(f.events[0].text, "head\n\tat a\n\tat b");
  EXPECT_EQ(f.events[0].end_offset, f.offset);
  EXPECT_FALSE(f.joiner.has_pending());
  EXPECT_EQ(f.joiner.pending(), nullptr);
}

} // namespace
} // namespace vigil
