// Per-source classification and multiline joining, end to end through the real binary.

#include "tests/pipeline/pipeline_fixture.hpp"

using namespace vigil::test;

namespace {

class multiline_pipeline_test : public pipeline_fixture {
protected:
  multiline_pipeline_test() { log_file_flags.clear(); }

  // One source per kind of file under logs/.
  void configure(const std::string& extra_source_keys, const std::string& timeout = "60s") {
    write_config(R"({"sources": {"files": [
      {"path": ")" +
                 logs + R"(/java.log", "application": "shop", "multiline": "stack_trace",
       "multiline_timeout": ")" +
                 timeout + R"("},
      {"path": ")" +
                 logs + R"(/app.log", "application": "app", "multiline": "start_pattern",
       "multiline_start": "^\\d{4}-\\d\\d-\\d\\d ", "multiline_timeout": ")" +
                 timeout + R"("},
      {"path": ")" +
                 logs + R"(/plain.log", "application": "plain")" + extra_source_keys + R"(}]}})");
  }
};

const std::string java_trace = "2024-05-01 10:00:00 ERROR Request failed\n"
                               "java.lang.IllegalStateException: boom\n"
                               "\tat shop.Cart.add(Cart.java:42)\n"
                               "\tat shop.Api.post(Api.java:7)\n"
                               "Caused by: java.io.IOException: disk\n"
                               "\t... 3 more\n";

TEST_F(multiline_pipeline_test, a_stack_trace_becomes_one_event_with_all_its_lines) {
  configure("");
  auto agent = start_agent();
  append("java.log", "2024-05-01 09:59:59 INFO started\n" + java_trace +
                         "2024-05-01 10:00:01 INFO next request\n"
                         "2024-05-01 10:00:02 ERROR second failure\n");
  // The last event completes by the timeout only (60 s): one event arrives now.
  auto got = wait_for_events(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].log_line, java_trace.substr(0, java_trace.size() - 1));
  EXPECT_EQ(got[0].line_number, 2u);
  EXPECT_EQ(got[0].offset, 33u);
  EXPECT_EQ(got[0].severity, "failure"); // "failed" outranks "ERROR"
  EXPECT_EQ(got[0].application, "shop");
  // A later start line completes the pending one.
  append("java.log", "2024-05-01 10:00:03 INFO ok\n");
  got = wait_for_events(2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1].log_line, "2024-05-01 10:00:02 ERROR second failure");
  agent->signal(SIGTERM);
  EXPECT_EQ(agent->wait_for_exit(10s), 0);
}

TEST_F(multiline_pipeline_test, a_pending_event_is_emitted_when_its_timeout_passes) {
  configure("", "300ms");
  auto agent = start_agent();
  append("app.log", "2024-05-01 10:00:00 request failed\n  detail one\n  detail two\n");
  auto got = wait_for_events(1, 20s);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].log_line, "2024-05-01 10:00:00 request failed\n  detail one\n  detail two");
  EXPECT_EQ(got[0].severity, "failure");
  agent->signal(SIGTERM);
  EXPECT_EQ(agent->wait_for_exit(10s), 0);
}

TEST_F(multiline_pipeline_test, kill_9_while_joining_keeps_the_first_lines_of_the_event) {
  configure("");
  auto agent = start_agent();
  // E1 completes when the next start line arrives; the trace after it stays pending.
  append("java.log", "E1 error first\n"
                     "E2 error fatal crash\n"
                     "\tat a.B.c(B.java:1)\n");
  auto got = wait_for_events(1);
  ASSERT_EQ(got.size(), 1u);
  agent->signal(SIGKILL);
  agent->wait_for_exit(10s);
  // The rest of the trace is written while the agent is down.
  append("java.log", "\tat a.B.d(B.java:2)\n"
                     "E3 error third\n");
  agent = start_agent();
  got = wait_for_events(2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1].log_line, "E2 error fatal crash\n\tat a.B.c(B.java:1)\n\tat a.B.d(B.java:2)");
  EXPECT_EQ(got[1].severity, "critical");
  agent->signal(SIGTERM);
  EXPECT_EQ(agent->wait_for_exit(10s), 0);
}

TEST_F(multiline_pipeline_test, per_source_keywords_and_severity_words_replace_the_defaults) {
  configure(R"(, "keywords": ["oops", "denied"],
      "severity_words": [{"pattern": "denied", "severity": "critical"}])");
  auto agent = start_agent();
  append("plain.log", "an error that is not a keyword here\n"
                      "oops something\n"
                      "access denied for bob\n");
  auto got = wait_for_events(2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].log_line, "oops something");
  EXPECT_EQ(got[0].severity, "error"); // an error line is at least "error"
  EXPECT_EQ(got[1].log_line, "access denied for bob");
  EXPECT_EQ(got[1].severity, "critical");
  EXPECT_EQ(got[1].application, "plain");
  agent->signal(SIGTERM);
  EXPECT_EQ(agent->wait_for_exit(10s), 0);
}

TEST_F(multiline_pipeline_test, a_fixed_severity_applies_to_every_event_of_its_source) {
  configure(R"(, "severity": "critical")");
  auto agent = start_agent();
  append("plain.log", "warning: disk error\nerror: plain\n");
  auto got = wait_for_events(2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].severity, "critical");
  EXPECT_EQ(got[1].severity, "critical");
  agent->signal(SIGTERM);
  EXPECT_EQ(agent->wait_for_exit(10s), 0);
}

} // namespace
