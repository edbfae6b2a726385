#pragma once

// Journal files for tests, written by systemd-journal-remote from the Journal Export
// Format: the same file format and code (journal-file.c) journald uses, with chosen
// timestamps and fields. There is no journald on a build machine, and tests must not
// depend on the host's journal.

#include "tests/support/child_process.hpp"
#include "tests/support/temp_directory.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace vigil::test {

namespace fs = std::filesystem;

constexpr const char* boot_id = "0123456789abcdef0123456789abcdef";
constexpr std::int64_t base_realtime_us = 1'700'000'000'000'000;

struct test_entry {
  int n = 0; // orders entries: the timestamps derive from it
  std::string message;
  std::optional<int> priority = 6;
  std::string unit;
  std::string identifier;
  std::string comm;
  std::int64_t pid = 0;
};

inline std::int64_t realtime_of(int n) {
  return base_realtime_us + n * 1000;
}

inline test_entry entry(int n, std::string message) {
  test_entry e;
  e.n = n;
  e.message = std::move(message);
  return e;
}

inline std::vector<test_entry> numbered(int from, int to) {
  std::vector<test_entry> entries;
  for (int n = from; n < to; ++n)
    entries.push_back(entry(n, "entry " + std::to_string(n)));
  return entries;
}

// MESSAGE always in the binary form (name, newline, 64-bit little-endian size, bytes, newline)
// so that any bytes survive; the other fields as text lines. A blank line ends an entry.
inline std::string export_format(const std::vector<test_entry>& entries) {
  std::string text;
  for (const auto& e : entries) {
    text += "__REALTIME_TIMESTAMP=" + std::to_string(realtime_of(e.n)) + "\n";
    text += "__MONOTONIC_TIMESTAMP=" + std::to_string(1'000'000 + e.n * 1000) + "\n";
    text += std::string("_BOOT_ID=") + boot_id + "\n";
    text += "MESSAGE\n";
    std::uint64_t size = e.message.size();
    for (int i = 0; i < 8; ++i)
      text += static_cast<char>((size >> (8 * i)) & 0xff);
    text += e.message + "\n";
    if (e.priority)
      text += "PRIORITY=" + std::to_string(*e.priority) + "\n";
    if (!e.unit.empty())
      text += "_SYSTEMD_UNIT=" + e.unit + "\n";
    if (!e.identifier.empty())
      text += "SYSLOG_IDENTIFIER=" + e.identifier + "\n";
    if (!e.comm.empty())
      text += "_COMM=" + e.comm + "\n";
    if (e.pid != 0)
      text += "_PID=" + std::to_string(e.pid) + "\n";
    text += "\n";
  }
  return text;
}

inline std::optional<fs::path> journal_remote_binary() {
  for (const char* p :
       {"/lib/systemd/systemd-journal-remote", "/usr/lib/systemd/systemd-journal-remote"})
    if (fs::exists(p))
      return fs::path(p);
  return std::nullopt;
}

// A journal directory filled by systemd-journal-remote runs. Writing to an existing file
// appends to it (journal-remote reopens it and continues its sequence numbers).
class journal_dir {
public:
  journal_dir() { fs::create_directory(dir_); }

  const fs::path& path() const { return dir_; }
  fs::path operator/(const std::string& name) const { return dir_ / name; }

  // systemd-journal-remote --output=DIR/FILE INPUT (FILE must end in ".journal").
  void write(const std::string& file, const std::vector<test_entry>& entries) {
    auto binary = journal_remote_binary();
    if (!binary)
      throw std::runtime_error("systemd-journal-remote is not installed");
    auto input = tmp_ / ("input-" + std::to_string(++inputs_) + ".export");
    rewrite_file(input, export_format(entries));
    auto log = (tmp_ / ("journal-remote-" + std::to_string(inputs_) + ".log")).string();
    child_process remote({binary->string(), "--output=" + (dir_ / file).string(), input.string()},
                         log);
    if (!remote.started())
      throw std::runtime_error("cannot start " + binary->string());
    auto code = remote.wait_for_exit(std::chrono::seconds{60});
    if (code != 0)
      throw std::runtime_error("systemd-journal-remote failed (exit " +
                               (code ? std::to_string(*code) : std::string("timeout")) +
                               "): " + remote.output());
  }

private:
  temp_directory tmp_;
  fs::path dir_ = tmp_ / "journal";
  int inputs_ = 0;
};

} // namespace vigil::test
