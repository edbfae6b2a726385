#pragma once

#include "io/sqlite/sqlite_database.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace vigil {

// One error event as kept in the local history (the same fields the broker receives).
struct stored_event {
  std::string id{}; // stable message id; inserting the same id twice keeps the first
  std::chrono::system_clock::time_point timestamp{};
  std::string node_id{};
  std::string hostname{};
  std::string system_ip{};
  std::string log_path{};
  std::string application{};
  std::string severity{};
  std::string log_line{};
  std::uint64_t line_number = 0;
  std::uint64_t offset = 0;

  bool operator==(const stored_event&) const = default;
};

struct event_query {
  std::optional<std::chrono::system_clock::time_point> since{}; // inclusive
  std::optional<std::chrono::system_clock::time_point> until{}; // exclusive
  std::optional<std::string> severity{};                        // exact, case-insensitive
  std::optional<std::string> path_contains{}; // substring of log_path, case-sensitive
  std::optional<std::string> text_contains{}; // substring of log_line, ASCII case-insensitive
  std::size_t limit = 100;
};

struct event_retention {
  std::chrono::seconds max_age{std::chrono::hours{24 * 7}};
  std::uint64_t max_rows = 1'000'000;
};

class event_store {
public:
  explicit event_store(sqlite_database& db, event_retention retention = {});

  // All or nothing; duplicates (same id) are skipped. Returns how many were new.
  std::size_t insert(std::span<const stored_event> events);
  // Newest first (timestamp, then insertion order).
  std::vector<stored_event> query(const event_query& filter);
  // Deletes events older than max_age, then the oldest beyond max_rows. Returns how many.
  std::size_t prune(std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

  std::uint64_t count();
  std::map<std::string, std::uint64_t>
  count_by_severity(std::optional<std::chrono::system_clock::time_point> since = std::nullopt);

private:
  sqlite_database& db_;
  event_retention retention_;
};

} // namespace vigil
