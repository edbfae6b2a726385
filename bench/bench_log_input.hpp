#pragma once

// The benchmarks' log input: lines of exactly 120 bytes; a share of them carries an error
// keyword, the others only look close ("errorless", "terror", "failing") so word
// boundaries are exercised. Same seed everywhere, so every benchmark reads the same file.

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <stdexcept>
#include <string>

namespace vigil::bench {

constexpr std::size_t log_line_bytes = 120; // including '\n'

inline std::string make_log_line(std::uint64_t i, bool error) {
  static const char* keywords[] = {"error", "fail", "critical", "fatal", "panic", "alert", "emerg"};
  static const char* near_misses[] = {"errorless", "terror", "failing", "info", "debug", "warning"};
  std::string line = "2024-01-15T10:30:45.123Z web-01 nginx[" + std::to_string(10000 + i % 90000) +
                     "]: " + (error ? keywords[i % 7] : near_misses[i % 6]) +
                     " upstream request id=" + std::to_string(i) + " path=/api/v1/items";
  line.resize(log_line_bytes - 1, '.');
  line += '\n';
  return line;
}

/// Writes `lines` lines with `ratio` of them errors; returns how many are errors.
inline std::uint64_t write_log_file(const std::filesystem::path& path, std::uint64_t lines,
                                    double ratio) {
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> coin(0, 1);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  std::uint64_t errors = 0;
  std::string buffer;
  for (std::uint64_t i = 0; i < lines; ++i) {
    bool error = coin(rng) < ratio;
    errors += error ? 1 : 0;
    buffer += make_log_line(i, error);
    if (buffer.size() > (1 << 20)) {
      out << buffer;
      buffer.clear();
    }
  }
  out << buffer;
  if (!out)
    throw std::runtime_error("cannot write " + path.string());
  return errors;
}

} // namespace vigil::bench
