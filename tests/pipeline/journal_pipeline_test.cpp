// The journal source end to end: the real binary reads journal files written by
// systemd-journal-remote and stores the error entries.

#include "tests/pipeline/pipeline_fixture.hpp"
#include "tests/support/journal_files.hpp"

using namespace vigil::test;

namespace {

class journal_pipeline_test : public pipeline_fixture {
protected:
  journal_dir journal;

  journal_pipeline_test() { configure(""); }

  void configure(const std::string& journal_keys) {
    write_config(R"({"sources": {"journal": {"directory": ")" + journal.path().string() + "\"" +
                 journal_keys + "}}}");
  }

  static test_entry with(test_entry e, int priority, std::string identifier = {}, int64_t pid = 0,
                         std::string unit = {}) {
    e.priority = priority;
    e.identifier = std::move(identifier);
    e.pid = pid;
    e.unit = std::move(unit);
    return e;
  }

  // Entries "E<n> ..." at priority 3 for every `error_every`th n, else harmless at 6.
  static std::vector<test_entry> numbered_entries(int first, int count, int error_every) {
    std::vector<test_entry> xs;
    for (int n = first; n < first + count; ++n)
      xs.push_back(n % error_every == 0 ? with(entry(n, "E" + std::to_string(n) + " disk gone"), 3)
                                        : with(entry(n, "I" + std::to_string(n) + " served"), 6));
    return xs;
  }
};

TEST_F(journal_pipeline_test, urgent_and_keyword_entries_become_syslog_style_events) {
  journal.write("system.journal",
                {with(entry(0, "started"), 6, "sshd", 7),
                 with(entry(1, "disk full"), 3, "nginx", 42, "nginx.service"),
                 with(entry(2, "ERROR: connection refused"), 6, "shop", 9, "shop.service"),
                 with(entry(3, "Kernel panic"), 2, "kernel"),
                 with(entry(4, "low on memory"), 4, "kernel")});
  auto agent = start_agent();
  auto got = wait_for_events(3);
  ASSERT_EQ(got.size(), 3u) << agent->output();
  std::map<std::string, std::string> by_line;
  for (auto& e : got) {
    by_line[e.log_line] = e.severity;
    EXPECT_EQ(e.log_path, "journal");
    EXPECT_EQ(e.application, "system");
  }
  EXPECT_EQ(by_line["nginx[42]: disk full"], "error");
  EXPECT_EQ(by_line["shop[9]: ERROR: connection refused"], "error");
  EXPECT_EQ(by_line["kernel: Kernel panic"], "critical");
  // Entries written while the agent runs arrive too.
  journal.write("system.journal", {with(entry(5, "segfault"), 1, "app", 5)});
  got = wait_for_events(4);
  ASSERT_EQ(got.size(), 4u);
  EXPECT_TRUE(std::any_of(got.begin(), got.end(),
                          [](auto& e) { return e.log_line == "app[5]: segfault"; }));
  agent->signal(SIGTERM);
  EXPECT_EQ(agent->wait_for_exit(10s), 0);
}

TEST_F(journal_pipeline_test, unit_and_priority_filters_without_keywords) {
  configure(R"(, "units": ["nginx"], "keywords": false, "max_priority": 4)");
  journal.write("system.journal", {with(entry(0, "error in shop"), 3, "shop", 1, "shop.service"),
                                   with(entry(1, "error but info"), 6, "nginx", 2, "nginx.service"),
                                   with(entry(2, "slow upstream"), 4, "nginx", 2, "nginx.service"),
                                   with(entry(3, "crit"), 2, "nginx", 2, "nginx.service")});
  auto agent = start_agent();
  auto got = wait_for_events(2);
  ASSERT_EQ(got.size(), 2u);
  std::set<std::string> lines;
  for (auto& e : got)
    lines.insert(e.log_line + " " + e.severity);
  EXPECT_EQ(lines,
            (std::set<std::string>{"nginx[2]: slow upstream warn", "nginx[2]: crit critical"}));
  agent->signal(SIGTERM);
  EXPECT_EQ(agent->wait_for_exit(10s), 0);
}

TEST_F(journal_pipeline_test, history_is_skipped_by_default_and_new_entries_are_read) {
  from_beginning = false;
  journal.write("system.journal", numbered_entries(0, 50, 5));
  auto agent = start_agent();
  std::this_thread::sleep_for(1s); // the reader opens at the end of what is there
  journal.write("system.journal", numbered_entries(50, 50, 5));
  auto got = wait_for_stored(10);
  EXPECT_EQ(distinct(got), expected_errors(50, 50, 5)) << missing(expected_errors(50, 50, 5), got);
  agent->signal(SIGTERM);
  EXPECT_EQ(agent->wait_for_exit(10s), 0);
}

TEST_F(journal_pipeline_test, kill_9_and_restart_resume_at_the_saved_cursor) {
  // Without the saved cursor a restart would start at the end and miss what was
  // written while the agent was down.
  from_beginning = false;
  auto agent = start_agent();
  std::this_thread::sleep_for(1s);
  journal.write("system.journal", numbered_entries(0, 3000, 3));
  wait_for_stored(300, 30s); // part of the way
  agent->signal(SIGKILL);
  agent->wait_for_exit(10s);
  journal.write("system.journal", numbered_entries(3000, 600, 3));
  agent = start_agent();
  auto got = wait_for_stored(1200);
  EXPECT_EQ(distinct(got), expected_errors(0, 3600, 3))
      << missing(expected_errors(0, 3600, 3), got);
  EXPECT_EQ(got.size(), 1200u);
  // A restart with nothing new reads nothing again.
  agent->signal(SIGTERM);
  EXPECT_EQ(agent->wait_for_exit(10s), 0);
  agent = start_agent();
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(stored_errors().size(), 1200u);
  agent->signal(SIGTERM);
  EXPECT_EQ(agent->wait_for_exit(10s), 0);
}

} // namespace
