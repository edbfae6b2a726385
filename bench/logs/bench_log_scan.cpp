// Throughput of the log hot path: file_follower (pread + line split) feeding the Hyperscan
// classifier, one core, warm page cache; GNU grep -Eic over the same file as the yardstick.
//
//   bench_log_scan [--lines N] [--runs R] [--read-bytes B] [--dir D]

#include "bench/bench_log_input.hpp"
#include "io/logs/file_follower.hpp"
#include "io/logs/line_classifier.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using seconds_d = std::chrono::duration<double>;

struct run_result {
  double seconds;
  std::uint64_t lines;
  std::uint64_t errors;
};

run_result scan_with_vigil(const fs::path& path, vigil::line_matcher& matcher,
                           std::size_t read_bytes) {
  auto start = std::chrono::steady_clock::now();
  vigil::file_follower follower(path, vigil::start_position::beginning);
  vigil::line_batch batch;
  std::vector<vigil::line_class> classes;
  std::uint64_t lines = 0, errors = 0;
  for (;;) {
    follower.read(batch, read_bytes);
    if (batch.empty() && follower.at_eof())
      break;
    matcher.classify(batch, classes);
    lines += batch.lines.size();
    for (const auto& c : classes)
      errors += c.is_error;
  }
  return {seconds_d(std::chrono::steady_clock::now() - start).count(), lines, errors};
}

// `locale_prefix` empty: grep runs in the caller's locale (UTF-8 makes -i much slower);
// "LC_ALL=C ": byte semantics, grep's fastest.
run_result scan_with_grep(const fs::path& path, const std::string& locale_prefix) {
  std::string command = locale_prefix +
                        "grep -Eic '\\b(emerg|alert|critical|error|fail|panic|fatal)\\b' '" +
                        path.string() + "'";
  auto start = std::chrono::steady_clock::now();
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe)
    throw std::runtime_error("cannot run grep");
  unsigned long long count = 0;
  if (std::fscanf(pipe, "%llu", &count) != 1)
    count = 0;
  ::pclose(pipe);
  return {seconds_d(std::chrono::steady_clock::now() - start).count(), 0, count};
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  auto n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

std::size_t arg_value(int argc, char** argv, const std::string& name, std::size_t fallback) {
  for (int i = 1; i + 1 < argc; ++i)
    if (argv[i] == name)
      return std::stoull(argv[i + 1]);
  return fallback;
}

} // namespace

int main(int argc, char** argv) {
  std::size_t lines = arg_value(argc, argv, "--lines", 2'000'000);
  std::size_t runs = arg_value(argc, argv, "--runs", 5);
  std::size_t read_bytes = arg_value(argc, argv, "--read-bytes", 64 * 1024);
  fs::path dir = fs::temp_directory_path();
  for (int i = 1; i + 1 < argc; ++i)
    if (std::string(argv[i]) == "--dir")
      dir = argv[i + 1];

  auto matcher = vigil::make_line_matcher(vigil::classifier_rules::defaults());
  std::printf("bench_log_scan: %zu lines x %zu bytes, %zu runs, reads of %zu bytes\n", lines,
              vigil::bench::log_line_bytes, runs, read_bytes);
  for (double ratio : {0.10, 0.01, 0.001}) {
    fs::path path = dir / ("vigil-bench-" + std::to_string(::getpid()) + ".log");
    std::uint64_t expected = vigil::bench::write_log_file(path, lines, ratio);
    double mb = static_cast<double>(lines * vigil::bench::log_line_bytes) / 1e6;
    scan_with_vigil(path, *matcher, read_bytes); // warm the page cache
    std::vector<double> ours;
    for (std::size_t run = 0; run < runs; ++run) {
      auto r = scan_with_vigil(path, *matcher, read_bytes);
      if (r.lines != lines || r.errors != expected) {
        std::fprintf(stderr, "wrong result: %llu lines, %llu errors (want %zu, %llu)\n",
                     static_cast<unsigned long long>(r.lines),
                     static_cast<unsigned long long>(r.errors), lines,
                     static_cast<unsigned long long>(expected));
        return 1;
      }
      ours.push_back(r.seconds);
      std::printf("  errors %5.1f%%  run %zu  vigil %10.0f lines/s %8.1f MB/s\n", ratio * 100,
                  run + 1, lines / r.seconds, mb / r.seconds);
    }
    auto grep_median = [&](const std::string& locale_prefix) {
      std::vector<double> seconds;
      for (std::size_t run = 0; run < runs; ++run) {
        auto g = scan_with_grep(path, locale_prefix);
        if (g.errors != expected)
          std::fprintf(stderr, "  note: grep counted %llu, vigil %llu\n",
                       static_cast<unsigned long long>(g.errors),
                       static_cast<unsigned long long>(expected));
        seconds.push_back(g.seconds);
      }
      return median(seconds);
    };
    double ours_median = median(ours);
    double grep_locale = grep_median("");
    double grep_c = grep_median("LC_ALL=C ");
    std::printf("errors %5.1f%%: median vigil %10.0f lines/s %7.1f MB/s\n", ratio * 100,
                lines / ours_median, mb / ours_median);
    std::printf(
        "               grep -Eic (locale %s) %10.0f lines/s %7.1f MB/s | vigil/grep %.2fx\n",
        std::getenv("LANG") ? std::getenv("LANG") : "unset", lines / grep_locale, mb / grep_locale,
        grep_locale / ours_median);
    std::printf(
        "               grep -Eic (LC_ALL=C)  %10.0f lines/s %7.1f MB/s | vigil/grep %.2fx\n",
        lines / grep_c, mb / grep_c, grep_c / ours_median);
    fs::remove(path);
  }
  return 0;
}
