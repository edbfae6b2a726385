// Cost of a durable outbox append: µs per event amortised over batches of 1, 64 and 512 events
// (each batch one transaction with its commit), for synchronous=FULL and NORMAL.
//   bench_outbox_append [runs=5] [directory=$TMPDIR] [full|normal]
// (use a directory on the real disk: fsync on tmpfs costs nothing)
#include "io/sqlite/outbox_store.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <stdlib.h>
#include <string>
#include <vector>

namespace {

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  auto n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

} // namespace

int main(int argc, char** argv) {
  using namespace vigil;
  const int runs = argc > 1 ? std::atoi(argv[1]) : 5;
  std::filesystem::path base = argc > 2 ? argv[2] : std::filesystem::temp_directory_path();
  std::string pattern = (base / "vigil-bench-outbox-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  std::filesystem::path dir = pattern;
  const std::string payload(400, 'x'); // a typical JSON log event

  const std::string only = argc > 3 ? argv[3] : "";
  for (auto sync : {sqlite_sync::full, sqlite_sync::normal}) {
    if ((only == "full" && sync != sqlite_sync::full) ||
        (only == "normal" && sync != sqlite_sync::normal))
      continue;
    for (std::size_t batch : {1u, 64u, 512u}) {
      // Enough commits to average out, few enough that batch=1 with FULL stays quick.
      const std::size_t batches = batch == 1 ? 500 : batch == 64 ? 100 : 40;
      std::vector<outbox_message> messages(batch);
      std::vector<double> micros;
      for (int run = 0; run < runs; ++run) {
        auto path = dir / ("run-" + std::to_string(run) + ".db");
        {
          sqlite_database db(path, {.synchronous = sync});
          outbox_store outbox(db, default_outbox_streams());
          std::uint64_t next = 0;
          auto start = std::chrono::steady_clock::now();
          for (std::size_t b = 0; b < batches; ++b) {
            for (auto& m : messages)
              m = {"node-1:logs:" + std::to_string(next++), payload};
            if (!outbox.append("logs", messages).appended()) {
              std::fprintf(stderr, "outbox full\n");
              return 1;
            }
          }
          double elapsed =
              std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
                  .count();
          micros.push_back(elapsed / static_cast<double>(batches * batch));
        }
        std::filesystem::remove(path);
        std::filesystem::remove(path.string() + "-wal");
        std::filesystem::remove(path.string() + "-shm");
      }
      std::printf("bench_outbox_append: synchronous=%s batch=%3zu: median %.2f us/event over %d "
                  "runs (%zu commits each)\n",
                  sync == sqlite_sync::full ? "FULL  " : "NORMAL", batch, median(micros), runs,
                  batches);
    }
  }
  std::filesystem::remove_all(dir);
}
