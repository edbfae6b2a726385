#include "tests/pipeline/pipeline_fixture.hpp"
#include "tests/support/http_get.hpp"
#include "tests/support/private_broker.hpp"

#include <random>
#include <thread>

using namespace vigil::test;

namespace {

using log_pipeline_test = pipeline_fixture;

TEST_F(log_pipeline_test, error_lines_reach_the_store_exactly_once_across_rotations) {
  append("app.log", lines(0, 100, 10));
  auto agent = start_agent();
  auto got = wait_for_stored(10);
  ASSERT_EQ(distinct(got), expected_errors(0, 100, 10))
      << missing(expected_errors(0, 100, 10), got);
  // logrotate's default: rename, create; lines left unread in the old file are drained.
  append("app.log", lines(100, 100, 10));
  std::filesystem::rename(logs + "/app.log", logs + "/app.log.1"); // *.log no longer matches it
  append("app.log.1", lines(200, 50, 10));                         // writer still on the old fd
  append("app.log", lines(250, 100, 10));
  got = wait_for_stored(35);
  EXPECT_EQ(distinct(got), expected_errors(0, 350, 10))
      << missing(expected_errors(0, 350, 10), got);
  // copytruncate: once the agent has read everything, the file is copied and truncated.
  std::filesystem::copy_file(logs + "/app.log", logs + "/app.log.2");
  std::filesystem::resize_file(logs + "/app.log", 0);
  append("app.log", lines(350, 100, 10));
  got = wait_for_stored(45);
  EXPECT_EQ(distinct(got), expected_errors(0, 450, 10))
      << missing(expected_errors(0, 450, 10), got);
  // delete and recreate
  std::filesystem::remove(logs + "/app.log");
  std::this_thread::sleep_for(1500ms); // the tailer drains and stops; the rescan sees the new file
  append("app.log", lines(450, 100, 10));
  got = wait_for_stored(55);
  EXPECT_EQ(distinct(got), expected_errors(0, 550, 10))
      << missing(expected_errors(0, 550, 10), got);
  EXPECT_EQ(got.size(), 55u) << "duplicates in the event store";
  // a second file appearing later is read from its first byte
  append("other.log", lines(1000, 20, 10));
  got = wait_for_stored(57);
  EXPECT_TRUE(got.contains(1000) && got.contains(1010));
  agent->signal(SIGTERM);
  EXPECT_EQ(agent->wait_for_exit(10s), 0);
}

TEST_F(log_pipeline_test, api_logs_answers_from_the_local_store_with_filters) {
  append("app.log", "2024-05-01T10:00:00Z error: disk sda failed\n"
                    "2024-05-01T11:00:00Z warning: fatal error in job 7\n"
                    "2024-05-01T12:00:00Z error: plain\n");
  append("other.log", "2024-05-01T12:30:00Z error: other file\n");
  auto agent = start_agent();
  ASSERT_EQ(wait_for_events(4).size(), 4u);
  auto port = announced_control_port(*agent);
  auto get = [&](const std::string& target) {
    auto r = http_call(port, "GET", target);
    return std::pair{r.status, nlohmann::json::parse(r.body, nullptr, false)};
  };
  auto [status, all] = get("/api/logs");
  ASSERT_EQ(status, 200);
  ASSERT_EQ(all["count"], 4);
  EXPECT_EQ(all["events"][0]["log_line"], "2024-05-01T12:30:00Z error: other file"); // newest
  EXPECT_EQ(all["events"][0]["timestamp"], "2024-05-01T12:30:00Z");
  EXPECT_EQ(get("/api/logs?severity=critical").second["count"], 1);
  EXPECT_EQ(get("/api/logs?severity=failure").second["events"][0]["log_line"],
            "2024-05-01T10:00:00Z error: disk sda failed");
  EXPECT_EQ(get("/api/logs?since=2024-05-01T11:00:00Z&until=2024-05-01T12:00:00Z").second["count"],
            1);
  EXPECT_EQ(get("/api/logs?since=1714564800000").second["count"], 2); // 12:00Z in ms
  EXPECT_EQ(get("/api/logs?path=other").second["count"], 1);
  EXPECT_EQ(get("/api/logs?q=JOB%207").second["count"], 1);
  EXPECT_EQ(get("/api/logs?limit=2").second["count"], 2);
  for (auto bad : {"/api/logs?since=yesterday", "/api/logs?severity=bad", "/api/logs?limit=0"}) {
    auto [code, body] = get(bad);
    EXPECT_EQ(code, 400) << bad;
    EXPECT_EQ(body["error"], "bad request") << bad;
    EXPECT_FALSE(body["detail"].get<std::string>().empty());
  }
  EXPECT_EQ(http_call(port, "POST", "/api/logs").status, 405);
  agent->signal(SIGTERM);
  EXPECT_EQ(agent->wait_for_exit(10s), 0);
}

TEST_F(log_pipeline_test, files_present_at_start_begin_at_their_end_by_default) {
  append("old.log", lines(0, 50, 10)); // history: not shipped
  std::vector<std::string> argv{std::string{VIGIL_BINARY_DIR} + "/runtime/vigil",
                                "run",
                                "--secrets-file",
                                dir / "none",
                                "--config",
                                config,
                                "--state-dir",
                                state,
                                "--control-port",
                                "0",
                                "--log-file",
                                logs + "/*.log"};
  child_process agent{argv, dir / "agent.log"};
  ASSERT_TRUE(agent.wait_for_output("tailing", 30s)) << agent.output();
  std::this_thread::sleep_for(500ms);
  append("old.log", lines(50, 50, 10));
  auto got = wait_for_stored(5);
  std::this_thread::sleep_for(500ms);
  got = stored_errors();
  EXPECT_EQ(distinct(got), expected_errors(50, 50, 10))
      << missing(expected_errors(50, 50, 10), got);
}

TEST_F(log_pipeline_test, kill_9_at_random_moments_loses_nothing) {
  constexpr int total = 30'000, every = 10;
  auto agent = start_agent();
  std::atomic<bool> done{false};
  std::thread writer{[&] {
    for (int i = 0; i < total; i += 500) {
      append("busy.log", lines(i, 500, every));
      std::this_thread::sleep_for(10ms);
    }
    done = true;
  }};
  std::mt19937 rng{42};
  for (int k = 0; k < 5; ++k) {
    std::this_thread::sleep_for(std::chrono::milliseconds{50 + rng() % 200});
    agent->signal(SIGKILL);
    agent->wait_for_exit(10s);
    agent = start_agent();
  }
  writer.join();
  auto got = wait_for_stored(total / every, 120s);
  auto want = expected_errors(0, total, every);
  std::vector<int> missing;
  std::set_difference(want.begin(), want.end(), got.begin(), got.end(),
                      std::back_inserter(missing));
  EXPECT_TRUE(missing.empty()) << missing.size() << " lost, first " << missing.front();
  // The event store keeps one row per id: replays after a kill are not stored twice.
  EXPECT_EQ(got.size(), want.size());
  agent->signal(SIGTERM);
  EXPECT_EQ(agent->wait_for_exit(10s), 0);
}

// RabbitMQ side: what consumers of the seed's queue receive.
struct broker_pipeline_test : pipeline_fixture {
  std::string queue = "vigil-pipeline-" + std::to_string(::getpid()) + "-" +
                      ::testing::UnitTest::GetInstance()->current_test_info()->name();

  size_t wait_for_outbox_empty() {
    auto until = std::chrono::steady_clock::now() + 30s;
    auto n = outbox_rows();
    while (n > 0 && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(100ms);
      n = outbox_rows();
    }
    return n;
  }

  // Consumes the queue until `want` distinct errors arrived; the queue may not exist yet
  // (the agent declares it), so a failed basic.get just tries again on a new connection.
  std::map<int, int> drain(const std::string& url, const std::set<int>& want,
                           std::chrono::seconds deadline = 90s) {
    auto all_seen = [&](const std::map<int, int>& seen) {
      for (int n : want)
        if (!seen.contains(n))
          return false;
      return true;
    };
    std::map<int, int> seen; // error number -> times received
    size_t received = 0;
    auto until = std::chrono::steady_clock::now() + deadline;
    std::unique_ptr<amqp_queue_reader> reader;
    while (!all_seen(seen) && std::chrono::steady_clock::now() < until) {
      std::optional<amqp_queue_reader::message> m;
      try {
        if (!reader)
          reader = std::make_unique<amqp_queue_reader>(url);
        m = reader->get(queue);
      } catch (const std::exception&) {
        reader.reset();
      }
      if (!m) {
        std::this_thread::sleep_for(50ms);
        continue;
      }
      ++received;
      auto body = nlohmann::json::parse(m->body);
      EXPECT_EQ(m->message_id, body["id"]);
      EXPECT_EQ(m->content_type, "application/json");
      EXPECT_EQ(m->delivery_mode, 2);
      ++seen[number_of(body["log_line"])];
    }
    return seen;
  }
};

TEST_F(broker_pipeline_test, events_arrive_in_the_queue_with_the_seed_fields) {
  auto url = shared_broker_url();
  write_config(R"({"rabbitmq": {"queue": ")" + queue + R"("}})");
  auto agent = start_agent({"--rabbitmq-url", url});
  append("app.log", lines(0, 5000, 10));
  auto seen = drain(url, expected_errors(0, 5000, 10));
  EXPECT_EQ(seen.size(), 500u);
  for (auto& [n, times] : seen)
    EXPECT_EQ(times, 1) << "E" << n << " delivered " << times << " times";
  EXPECT_EQ(wait_for_outbox_empty(), 0u);
  amqp_queue_reader{url}.delete_queue(queue);
  agent->signal(SIGTERM);
  EXPECT_EQ(agent->wait_for_exit(10s), 0);
}

TEST_F(broker_pipeline_test, broker_down_for_a_while_loses_nothing) {
  private_broker broker;
  write_config(R"({"rabbitmq": {"queue": ")" + queue + R"("}})");
  auto agent = start_agent({"--rabbitmq-url", broker.url()});
  append("app.log", lines(0, 1000, 10));
  ASSERT_EQ(drain(broker.url(), expected_errors(0, 1000, 10)).size(), 100u);
  broker.stop();
  append("app.log", lines(1000, 20000, 10)); // 2,000 errors while the broker is down
  ASSERT_TRUE(wait_for_stored(2100, 60s).size() == 2100) << agent->output();
  EXPECT_GT(outbox_rows(), 0u); // queued durably, not dropped
  broker.start();
  auto want = expected_errors(1000, 20000, 10);
  auto seen = drain(broker.url(), want);
  std::vector<int> missing;
  for (int n : want)
    if (!seen.contains(n))
      missing.push_back(n);
  EXPECT_TRUE(missing.empty()) << missing.size() << " lost, e.g. E" << missing.front() << "\n"
                               << agent->output();
  EXPECT_TRUE(agent->running());
}

TEST_F(broker_pipeline_test, agent_killed_mid_stream_loses_nothing) {
  auto url = shared_broker_url();
  write_config(R"({"rabbitmq": {"queue": ")" + queue + R"("}})");
  auto agent = start_agent({"--rabbitmq-url", url});
  std::thread writer{[&] {
    for (int i = 0; i < 20'000; i += 500) {
      append("app.log", lines(i, 500, 10));
      std::this_thread::sleep_for(10ms);
    }
  }};
  for (int k = 0; k < 3; ++k) {
    std::this_thread::sleep_for(150ms);
    agent->signal(SIGKILL);
    agent->wait_for_exit(10s);
    agent = start_agent({"--rabbitmq-url", url});
  }
  writer.join();
  auto want = expected_errors(0, 20'000, 10);
  auto seen = drain(url, want);
  size_t duplicates = 0;
  for (auto& [n, times] : seen)
    duplicates += static_cast<size_t>(times - 1);
  EXPECT_EQ(seen.size(), want.size()) << missing(want, seen);
  std::cout << "[          ] duplicates after 3 kill -9: " << duplicates << "\n";
  amqp_queue_reader{url}.delete_queue(queue);
}

TEST_F(broker_pipeline_test, full_outbox_pauses_reading_and_memory_stays_flat) {
  private_broker broker; // its port, not yet listening
  broker.stop();
  // Reconnect attempts at most 2 s apart, so the recovery is seen soon after the broker.
  write_config(R"({"rabbitmq": {"queue": ")" + queue + R"(", "reconnect_max": "2s"},
                   "outbox": {"logs_max_bytes": 262144}})");
  auto agent = start_agent({"--rabbitmq-url", broker.url()});
  // Fill the outbox: 5,000 errors are 20x its bound. Once it is full the sources pause.
  append("app.log", lines(0, 50'000, 10));
  std::this_thread::sleep_for(3s);
  auto stored_full = stored_errors().size();
  auto rss_full = rss_kib(agent->pid());
  EXPECT_LT(stored_full, 5'000u) << "the sources did not pause";
  // Three times as much again while paused: neither what is stored nor memory grows; the
  // log file is the buffer.
  for (int i = 50'000; i < 200'000; i += 50'000) {
    append("app.log", lines(i, 50'000, 10));
    std::this_thread::sleep_for(1s);
  }
  EXPECT_EQ(stored_errors().size(), stored_full);
  auto rss_paused = rss_kib(agent->pid());
  EXPECT_LT(rss_paused, rss_full + 8 * 1024)
      << "RSS grew from " << rss_full << " to " << rss_paused << " KiB while paused";
  broker.start();
  auto want = expected_errors(0, 200'000, 10);
  auto seen = drain(broker.url(), want, 240s);
  EXPECT_EQ(seen.size(), want.size()) << missing(want, seen);
}

TEST_F(broker_pipeline_test, a_stalled_consumer_keeps_memory_flat_while_1_gib_is_appended) {
  // Nothing listens on port 1: every connection is refused, the outbox fills and stays full.
  write_config(R"({"outbox": {"logs_max_bytes": 262144}})");
  auto agent = start_agent({"--rabbitmq-url", "amqp://guest:guest@127.0.0.1:1/"});
  append("app.log", lines(0, 50'000, 10));
  std::this_thread::sleep_for(3s);
  auto stored = stored_errors().size();
  ASSERT_GT(stored, 0u);
  ASSERT_LT(stored, 5'000u) << "the sources did not pause";
  auto rss_before = rss_kib(agent->pid());
  // 1 GiB more, in 64 MiB writes of 128-byte lines (10% errors), sampling memory as it grows.
  std::string chunk;
  for (int i = 0; chunk.size() < (64u << 20); ++i) {
    auto line = (i % 10 == 0 ? "E" : "I") + std::to_string(i) +
                (i % 10 == 0 ? " error: request failed " : " info: request served ");
    line.resize(127, '.');
    chunk += line + "\n";
  }
  uint64_t rss_max = rss_before;
  {
    std::ofstream out{logs + "/app.log", std::ios::app | std::ios::binary};
    for (uint64_t written = 0; written < (1ull << 30); written += chunk.size()) {
      out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
      out.flush();
      rss_max = std::max(rss_max, rss_kib(agent->pid()));
    }
  }
  std::this_thread::sleep_for(2s); // inotify and the stat sweep have seen the growth
  rss_max = std::max(rss_max, rss_kib(agent->pid()));
  EXPECT_EQ(stored_errors().size(), stored) << "read past a full outbox";
  // Flat against 1 GiB written: 32 MiB of slack for timers and, under AddressSanitizer,
  // its quarantine of freed blocks (it grew by ~8 MiB there, ~0 in a release build).
  EXPECT_LT(rss_max, rss_before + 32 * 1024)
      << "RSS grew from " << rss_before << " to " << rss_max << " KiB";
  EXPECT_GE(std::filesystem::file_size(logs + "/app.log"), 1ull << 30);
  agent->signal(SIGTERM);
  EXPECT_EQ(agent->wait_for_exit(10s), 0);
}

} // namespace
