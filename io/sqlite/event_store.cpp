#include "io/sqlite/event_store.hpp"

#include "io/sqlite/state_schema.hpp"

#include <bit>
#include <limits>

namespace vigil {

namespace {

using clock = std::chrono::system_clock;

} // namespace

event_store::event_store(sqlite_database& db, event_retention retention)
    : db_(db)
    , retention_(retention) {
  ensure_state_schema(db_);
}

std::size_t event_store::insert(std::span<const stored_event> events) {
  if (events.empty())
    return 0;
  sqlite_transaction tx(db_);
  std::size_t inserted = 0;
  {
    auto stmt = db_.cached("INSERT OR IGNORE INTO events(id, timestamp, node_id, hostname, "
                           "system_ip, log_path, application, severity, log_line, line_number, "
                           "offset) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)");
    for (const auto& e : events) {
      stmt->bind(1, e.id)
          .bind(2, to_millis(e.timestamp))
          .bind(3, e.node_id)
          .bind(4, e.hostname)
          .bind(5, e.system_ip)
          .bind(6, e.log_path)
          .bind(7, e.application)
          .bind(8, e.severity)
          .bind(9, e.log_line)
          .bind(10, std::bit_cast<std::int64_t>(e.line_number))
          .bind(11, std::bit_cast<std::int64_t>(e.offset));
      stmt->run();
      inserted += static_cast<std::size_t>(stmt->changes());
      stmt->reset();
    }
  }
  tx.commit();
  return inserted;
}

std::vector<stored_event> event_store::query(const event_query& filter) {
  // One statement for every filter combination (NULL disables a condition) keeps it cached.
  // instr() instead of LIKE: no escaping of % and _ in user input.
  auto stmt = db_.cached(
      "SELECT id, timestamp, node_id, hostname, system_ip, log_path, application, severity, "
      "log_line, line_number, offset FROM events "
      "WHERE (?1 IS NULL OR timestamp >= ?1) AND (?2 IS NULL OR timestamp < ?2) "
      "AND (?3 IS NULL OR severity = ?3 COLLATE NOCASE) "
      "AND (?4 IS NULL OR instr(log_path, ?4) > 0) "
      "AND (?5 IS NULL OR instr(lower(log_line), lower(?5)) > 0) "
      "ORDER BY timestamp DESC, row_id DESC LIMIT ?6");
  if (filter.since)
    stmt->bind(1, to_millis(*filter.since));
  if (filter.until)
    stmt->bind(2, to_millis(*filter.until));
  stmt->bind(3, filter.severity).bind(4, filter.path_contains).bind(5, filter.text_contains);
  auto limit = filter.limit > static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max())
                   ? std::numeric_limits<std::int64_t>::max()
                   : static_cast<std::int64_t>(filter.limit);
  stmt->bind(6, limit);

  std::vector<stored_event> events;
  while (stmt->step()) {
    stored_event e;
    e.id = stmt->column_text(0);
    e.timestamp = from_millis(stmt->column_int64(1));
    e.node_id = stmt->column_text(2);
    e.hostname = stmt->column_text(3);
    e.system_ip = stmt->column_text(4);
    e.log_path = stmt->column_text(5);
    e.application = stmt->column_text(6);
    e.severity = stmt->column_text(7);
    e.log_line = stmt->column_text(8);
    e.line_number = std::bit_cast<std::uint64_t>(stmt->column_int64(9));
    e.offset = std::bit_cast<std::uint64_t>(stmt->column_int64(10));
    events.push_back(std::move(e));
  }
  return events;
}

std::size_t event_store::prune(clock::time_point now) {
  sqlite_transaction tx(db_);
  std::size_t pruned = 0;
  {
    auto by_age = db_.cached("DELETE FROM events WHERE timestamp < ?1");
    by_age->bind(1, to_millis(now - retention_.max_age)).run();
    pruned += static_cast<std::size_t>(by_age->changes());
  }
  std::uint64_t rows = count();
  if (rows > retention_.max_rows) {
    auto by_rows = db_.cached("DELETE FROM events WHERE row_id IN (SELECT row_id FROM events "
                              "ORDER BY timestamp, row_id LIMIT ?1)");
    by_rows->bind(1, static_cast<std::int64_t>(rows - retention_.max_rows)).run();
    pruned += static_cast<std::size_t>(by_rows->changes());
  }
  tx.commit();
  return pruned;
}

std::uint64_t event_store::count() {
  auto stmt = db_.cached("SELECT count(*) FROM events");
  stmt->step();
  return static_cast<std::uint64_t>(stmt->column_int64(0));
}

std::map<std::string, std::uint64_t>
event_store::count_by_severity(std::optional<clock::time_point> since) {
  auto stmt = db_.cached("SELECT severity, count(*) FROM events WHERE (?1 IS NULL OR "
                         "timestamp >= ?1) GROUP BY severity");
  if (since)
    stmt->bind(1, to_millis(*since));
  std::map<std::string, std::uint64_t> counts;
  while (stmt->step())
    counts[stmt->column_text(0)] = static_cast<std::uint64_t>(stmt->column_int64(1));
  return counts;
}

} // namespace vigil
