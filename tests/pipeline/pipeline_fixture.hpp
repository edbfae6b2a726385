#pragma once

// Runs the real vigil binary against real files (and, where a test wants it, a real
// RabbitMQ) and looks at what it stored: the local event store, the outbox, the queue.

#include "io/sqlite/event_store.hpp"
#include "io/sqlite/sqlite_database.hpp"
#include "tests/support/amqp_queue_reader.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/temp_directory.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <set>
#include <thread>
#include <tuple>

namespace vigil::test {

using namespace std::chrono_literals;

class pipeline_fixture : public ::testing::Test {
protected:
  temp_directory dir;
  std::string logs = dir / "logs";
  std::string state = dir / "state";
  std::string config = dir / "vigil.json";
  // Cleared by tests that configure sources.files in the config file instead.
  std::vector<std::string> log_file_flags{"--log-file", logs + "/*.log"};
  bool from_beginning = true;
  std::string secrets = dir / "none";
  int starts = 0;

  pipeline_fixture() {
    std::filesystem::create_directories(logs);
    write_config("{}");
  }

  void write_config(const std::string& text) { std::ofstream{config} << text; }

  // Resident memory of a process, from /proc.
  static uint64_t rss_kib(pid_t pid) {
    std::ifstream in{"/proc/" + std::to_string(pid) + "/status"};
    for (std::string key; in >> key;) {
      if (key == "VmRSS:") {
        uint64_t v = 0;
        in >> v;
        return v;
      }
      in.ignore(4096, '\n');
    }
    return 0;
  }

  uint64_t outbox_rows() {
    try {
      sqlite_database db{state + "/state.db"};
      auto q = db.cached("SELECT count(*) FROM outbox");
      return q->step() ? static_cast<uint64_t>(q->column_int64(0)) : 0;
    } catch (const sqlite_error&) {
      return 0;
    }
  }

  std::unique_ptr<child_process> start_agent(std::vector<std::string> extra = {}) {
    std::vector<std::string> argv{std::string{VIGIL_BINARY_DIR} + "/runtime/vigil",
                                  "run",
                                  "--config",
                                  config,
                                  "--secrets-file",
                                  secrets,
                                  "--state-dir",
                                  state,
                                  "--control-port",
                                  "0"};
    if (from_beginning)
      argv.push_back("--from-beginning");
    argv.insert(argv.end(), log_file_flags.begin(), log_file_flags.end());
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto p =
        std::make_unique<child_process>(argv, dir / ("agent-" + std::to_string(++starts) + ".log"));
    EXPECT_TRUE(p->wait_for_output("control API listening", 30s)) << p->output();
    return p;
  }

  void append(const std::string& file, const std::string& text) {
    std::ofstream out{logs + "/" + file, std::ios::app};
    out << text;
  }

  // Error lines are "E<n> error ..." so every one is recognisable in what arrives.
  static std::string lines(int first, int count, int error_every) {
    std::string s;
    for (int i = first; i < first + count; ++i)
      s += (i % error_every == 0 ? "E" + std::to_string(i) + " error: request failed\n"
                                 : "I" + std::to_string(i) + " info: request served\n");
    return s;
  }

  static std::set<int> expected_errors(int first, int count, int error_every) {
    std::set<int> xs;
    for (int i = first; i < first + count; ++i)
      if (i % error_every == 0)
        xs.insert(i);
    return xs;
  }

  static int number_of(const std::string& log_line) {
    return log_line.size() > 1 && log_line[0] == 'E' ? std::stoi(log_line.substr(1)) : -1;
  }

  // Every event in the local store, by file and line.
  std::vector<stored_event> stored_events() {
    if (!std::filesystem::exists(state + "/state.db"))
      return {};
    try {
      sqlite_database db{state + "/state.db"};
      event_store events{db};
      event_query q;
      q.limit = 10'000'000;
      auto xs = events.query(q);
      std::sort(xs.begin(), xs.end(), [](auto& a, auto& b) {
        return std::tie(a.log_path, a.line_number) < std::tie(b.log_path, b.line_number);
      });
      return xs;
    } catch (const sqlite_error&) {
      return {}; // schema not created yet
    }
  }

  std::vector<stored_event> wait_for_events(size_t n, std::chrono::seconds deadline = 60s) {
    auto until = std::chrono::steady_clock::now() + deadline;
    auto got = stored_events();
    while (got.size() < n && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(100ms);
      got = stored_events();
    }
    return got;
  }

  // Every event in the local store: the number of each error line, with repeats.
  std::multiset<int> stored_errors() {
    std::multiset<int> out;
    if (!std::filesystem::exists(state + "/state.db"))
      return out;
    try {
      sqlite_database db{state + "/state.db"};
      event_store events{db};
      event_query q;
      q.limit = 10'000'000;
      for (auto& e : events.query(q))
        out.insert(number_of(e.log_line));
    } catch (const sqlite_error&) {
      // schema not created yet
    }
    return out;
  }

  // Waits until the store holds `n` events (or the deadline passes).
  std::multiset<int> wait_for_stored(size_t n, std::chrono::seconds deadline = 60s) {
    auto until = std::chrono::steady_clock::now() + deadline;
    auto got = stored_errors();
    while (got.size() < n && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(100ms);
      got = stored_errors();
    }
    return got;
  }

  static std::set<int> distinct(const std::multiset<int>& xs) { return {xs.begin(), xs.end()}; }

  // "E3, E17 (2 of 100 missing)" — readable failure messages for large sets.
  template <class Got>
  static std::string missing(const std::set<int>& want, const Got& got) {
    std::string out;
    size_t n = 0;
    for (int x : want)
      if (!got.contains(x) && n++ < 20)
        out += "E" + std::to_string(x) + " ";
    return out + "(" + std::to_string(n) + " of " + std::to_string(want.size()) + " missing)";
  }
};

} // namespace vigil::test
