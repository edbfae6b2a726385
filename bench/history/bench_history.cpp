// The telemetry history at scale: one day of 1 s samples for 50 series (5 metrics x 10 label
// sets), written as the actor writes them (one transaction per 10 s of samples), then
// downsampled, pruned, bounded and queried.
//   bench_history [hours=24] [series_per_metric=10] [directory=$TMPDIR]
// (use a directory on the real disk to count the fsyncs of checkpoints)
#include "io/sqlite/history_store.hpp"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <stdlib.h>
#include <string>
#include <vector>

namespace {

using steady = std::chrono::steady_clock;

double ms_since(steady::time_point start) {
  return std::chrono::duration<double, std::milli>(steady::now() - start).count();
}

} // namespace

int main(int argc, char** argv) {
  using namespace vigil;
  const int hours = argc > 1 ? std::atoi(argv[1]) : 24;
  const int per_metric = argc > 2 ? std::atoi(argv[2]) : 10;
  std::filesystem::path base = argc > 3 ? argv[3] : std::filesystem::temp_directory_path();
  std::string pattern = (base / "vigil-bench-history-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  std::filesystem::path dir = pattern;
  const char* metrics[] = {"cpu_percent", "memory_percent", "disk_usage_percent", "net_rx_bytes",
                           "load1"};
  const int series = 5 * per_metric;
  const std::int64_t t0 = 1'600'000'020'000; // minute-aligned
  const std::int64_t seconds = std::int64_t{hours} * 3600;
  const std::int64_t end = t0 + seconds * 1000;
  {
    sqlite_database db(dir / "history.db", {.synchronous = sqlite_sync::normal});
    history_store store(
        db,
        {.raw = std::chrono::hours{24 * 2}, .minute = std::chrono::hours{24 * 30}, .max_bytes = 0});
    // One transaction per 10 s of samples, as with history.flush_interval = 10s.
    std::vector<history_sample> batch;
    std::uint64_t rows = 0;
    auto start = steady::now();
    for (std::int64_t i = 0; i < seconds; ++i) {
      history_sample s{t0 + i * 1000, {}};
      for (int m = 0; m < 5; ++m)
        for (int l = 0; l < per_metric; ++l)
          s.points.push_back(
              {metrics[m], "id=" + std::to_string(l), double((i * 7 + l * 13 + m) % 1000) / 10});
      batch.push_back(std::move(s));
      if (batch.size() == 10 || i + 1 == seconds) {
        rows += store.append_all(batch);
        batch.clear();
      }
    }
    auto ingest_ms = ms_since(start);
    std::printf("ingest: %llu rows (%d series x %lld s) in %.0f ms: %.0f rows/s, %.2f ms per "
                "10 s transaction (%d rows)\n",
                (unsigned long long)rows, series, (long long)seconds, ingest_ms,
                rows / (ingest_ms / 1000), ingest_ms / double(seconds / 10), series * 10);

    start = steady::now();
    auto minute_rows = store.downsample(end);
    std::printf("downsample all %lld minutes at once: %llu rows in %.0f ms\n",
                (long long)(seconds / 60), (unsigned long long)minute_rows, ms_since(start));
    // The steady state: one more minute of samples, then the per-minute maintenance.
    std::vector<history_sample> extra;
    for (int i = 0; i < 60; ++i) {
      history_sample s{end + i * 1000, {}};
      for (int m = 0; m < 5; ++m)
        for (int l = 0; l < per_metric; ++l)
          s.points.push_back({metrics[m], "id=" + std::to_string(l), 1.0});
      extra.push_back(std::move(s));
    }
    store.append_all(extra);
    start = steady::now();
    auto one = store.downsample(end + 60'000);
    auto pruned = store.prune(end + 60'000);
    auto evicted = store.enforce_bound();
    std::printf("tick (downsample 1 minute = %llu rows, prune %llu, evict %llu): %.1f ms\n",
                (unsigned long long)one, (unsigned long long)pruned.raw_rows,
                (unsigned long long)evicted.raw_rows, ms_since(start));

    auto now = end + 60'000;
    auto q = [&](const char* what, history_request r) {
      auto t = steady::now();
      auto result = store.query(r, now);
      std::size_t points = 0;
      for (auto& x : result)
        points += x.points.size();
      std::printf("query %-44s %2zu series %6zu points (%s) %8.1f ms\n", what, result.size(),
                  points, result.empty() ? "-" : result[0].tier.c_str(), ms_since(t));
    };
    q("1 series, last hour, step 10 s:",
      {"cpu_percent", "id=0", end - 3'600'000, end, 10'000, history_aggregate::avg});
    q("1 series, last hour, raw rows:",
      {"cpu_percent", "id=0", end - 3'600'000, end, 0, history_aggregate::avg});
    q("1 metric (all labels), last hour, step 10 s:",
      {"cpu_percent", std::nullopt, end - 3'600'000, end, 10'000, history_aggregate::avg});
    q("1 series, whole range, step 5 min:",
      {"cpu_percent", "id=0", t0, now, 300'000, history_aggregate::avg});
    q("1 metric (all labels), whole range, step 1 min:",
      {"cpu_percent", std::nullopt, t0, now, 60'000, history_aggregate::max});
    q("1 series, whole range, step 1 s (raw):",
      {"cpu_percent", "id=0", t0, now, 1000, history_aggregate::avg});

    start = steady::now();
    auto st = store.stats();
    std::printf("stats (count(*) of every table): %.0f ms\n", ms_since(start));
    std::printf("database: %llu raw rows, %llu minute rows, %.1f MiB in use, %.1f MiB on disk "
                "(%.1f bytes per raw row incl. the minute tier)\n",
                (unsigned long long)st.raw_rows, (unsigned long long)st.minute_rows,
                st.used_bytes / 1048576.0, st.file_bytes / 1048576.0,
                double(st.used_bytes) / double(st.raw_rows));
  }
  std::filesystem::remove_all(dir);
  return 0;
}
