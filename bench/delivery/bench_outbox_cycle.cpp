// The outbox's whole life cycle per event, as the 10 %-error pipeline drives it: ingest
// transactions (outbox append + local event row + checkpoint, synchronous=FULL) interleaved
// with deletes of confirmed records, each confirm deleted as it arrives in its own commit.
// Compares that commit with fsync (synchronous=FULL) and without (NORMAL, what the outbox
// actor does: a lost delete only resends a record). Prints wall and CPU µs per event, medians.
//   bench_outbox_cycle [runs=5] [directory=$TMPDIR] [events=50000]
// (use a directory on the real disk: fsync on tmpfs costs nothing)
#include "io/sqlite/checkpoint_store.hpp"
#include "io/sqlite/event_store.hpp"
#include "io/sqlite/outbox_store.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <stdlib.h>
#include <string>
#include <vector>

namespace {

using namespace vigil;

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  auto n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

enum class removal { full, relaxed };

struct cost {
  double wall_us;
  double cpu_us;
};

// 256 KiB of 120-byte lines at 10 % errors is ~218 events per batch; the publisher's confirms
// arrive ~64 at a time, one window (1024) behind ingest.
constexpr std::size_t batch_events = 218;
constexpr std::size_t confirm_chunk = 64;
constexpr std::size_t window = 1024;

cost run_cycle(const std::filesystem::path& path, removal mode, std::size_t events) {
  sqlite_database db(path);
  outbox_store outbox(db, default_outbox_streams());
  event_store store(db, {});
  checkpoint_store checkpoints(db);
  const std::string payload(430, 'x');
  const std::string line(120, 'e');
  std::vector<outbox_message> messages;
  std::vector<stored_event> rows;
  std::int64_t next_confirm = 1;
  std::uint64_t next = 0;

  auto confirm_up_to = [&](std::int64_t last_seq) {
    while (next_confirm + static_cast<std::int64_t>(confirm_chunk) <= last_seq) {
      std::vector<std::int64_t> chunk;
      for (std::size_t i = 0; i < confirm_chunk; ++i)
        chunk.push_back(next_confirm++);
      if (mode == removal::relaxed)
        db.set_synchronous(sqlite_sync::normal);
      outbox.remove("logs", chunk); // its own transaction and commit
      db.set_synchronous(sqlite_sync::full);
    }
  };

  auto wall0 = std::chrono::steady_clock::now();
  auto cpu0 = cpu_seconds();
  std::int64_t last_seq = 0;
  for (std::size_t done = 0; done < events; done += batch_events) {
    messages.clear();
    rows.clear();
    for (std::size_t i = 0; i < batch_events; ++i) {
      auto id = "node-1:0123456789abcdef:" + std::to_string(next++);
      messages.push_back({id, payload});
      stored_event e;
      e.id = id;
      e.timestamp = std::chrono::system_clock::now();
      e.node_id = "node-1";
      e.hostname = "host";
      e.system_ip = "192.0.2.1";
      e.log_path = "/var/log/app.log";
      e.application = "app";
      e.severity = "error";
      e.log_line = line;
      rows.push_back(std::move(e));
    }
    sqlite_transaction tx(db);
    last_seq = outbox.append("logs", messages).last_seq;
    store.insert(rows);
    checkpoints.save({"/var/log/app.log", 1, 2, 3, 1024, next * 120, next,
                      std::chrono::system_clock::now(), next, ""});
    tx.commit();
    confirm_up_to(last_seq - static_cast<std::int64_t>(window));
  }
  confirm_up_to(last_seq + static_cast<std::int64_t>(confirm_chunk)); // the tail
  auto n = static_cast<double>(next);
  return {
      std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - wall0).count() /
          n,
      (cpu_seconds() - cpu0) * 1e6 / n};
}

} // namespace

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::atoi(argv[1]) : 5;
  std::filesystem::path base = argc > 2 ? argv[2] : std::filesystem::temp_directory_path();
  const std::size_t events = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 50'000;
  std::string pattern = (base / "vigil-bench-cycle-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  std::filesystem::path dir = pattern;
  for (auto mode : {removal::full, removal::relaxed}) {
    std::vector<double> wall, cpu;
    for (int run = 0; run < runs; ++run) {
      auto path = dir / ("run-" + std::to_string(run) + ".db");
      auto c = run_cycle(path, mode, events);
      wall.push_back(c.wall_us);
      cpu.push_back(c.cpu_us);
      for (auto suffix : {"", "-wal", "-shm"})
        std::filesystem::remove(path.string() + suffix);
    }
    std::printf("bench_outbox_cycle: deletes synchronous=%-6s %zu events: median %.2f us/event "
                "wall, %.2f us/event CPU over %d runs\n",
                mode == removal::full ? "FULL" : "NORMAL", events, median(wall), median(cpu), runs);
  }
  std::filesystem::remove_all(dir);
}
