#include "io/sqlite/outbox_store.hpp"

#include "io/sqlite/state_schema.hpp"

#include <algorithm>
#include <stdexcept>

namespace vigil {

namespace {

using clock = std::chrono::system_clock;

std::uint64_t record_bytes(const outbox_message& m) {
  return m.id.size() + m.payload.size();
}

constexpr std::string_view record_columns =
    "seq, stream, id, payload, created_at, attempts, next_attempt";

outbox_record read_record(const sqlite_statement& row, int first = 0) {
  outbox_record r;
  r.seq = row.column_int64(first + 0);
  r.stream = row.column_text(first + 1);
  r.id = row.column_text(first + 2);
  r.payload = row.column_text(first + 3);
  r.created_at = from_millis(row.column_int64(first + 4));
  r.attempts = static_cast<std::uint32_t>(row.column_int64(first + 5));
  r.next_attempt = from_millis(row.column_int64(first + 6));
  return r;
}

} // namespace

std::vector<outbox_stream_config> default_outbox_streams() {
  constexpr std::uint64_t mib = 1024 * 1024;
  return {
      {"logs", 256 * mib, outbox_overflow::refuse},
      {"alerts", 16 * mib, outbox_overflow::refuse},
      {"telemetry", 32 * mib, outbox_overflow::drop_oldest},
      // A stale heartbeat is worth nothing once a newer one exists.
      {"heartbeat", 1 * mib, outbox_overflow::drop_oldest},
  };
}

outbox_store::outbox_store(sqlite_database& db, std::vector<outbox_stream_config> streams)
    : db_(db)
    , streams_(std::move(streams)) {
  ensure_state_schema(db_);
  sqlite_transaction tx(db_);
  for (const auto& s : streams_) {
    if (s.name.empty())
      throw std::invalid_argument("outbox stream name must not be empty");
    auto insert = db_.cached("INSERT OR IGNORE INTO outbox_streams(stream) VALUES(?1)");
    insert->bind(1, s.name).run();
  }
  tx.commit();
}

const outbox_stream_config& outbox_store::config(std::string_view stream) const {
  auto it = std::find_if(streams_.begin(), streams_.end(),
                         [&](const auto& s) { return s.name == stream; });
  if (it == streams_.end())
    throw std::invalid_argument("outbox: unknown stream '" + std::string{stream} + "'");
  return *it;
}

void outbox_store::add_to_counters(std::string_view stream, std::int64_t records,
                                   std::int64_t bytes, std::int64_t dropped,
                                   std::int64_t dead_lettered) {
  auto update = db_.cached("UPDATE outbox_streams SET records = records + ?2, bytes = bytes + ?3, "
                           "dropped = dropped + ?4, dead_lettered = dead_lettered + ?5 "
                           "WHERE stream = ?1");
  update->bind(1, stream).bind(2, records).bind(3, bytes).bind(4, dropped).bind(5, dead_lettered);
  update->run();
}

std::uint64_t outbox_store::drop_oldest(std::string_view stream, std::uint64_t needed) {
  std::uint64_t freed = 0;
  std::uint64_t count = 0;
  std::int64_t last_seq = -1;
  {
    auto oldest = db_.cached("SELECT seq, length(CAST(id AS BLOB)) + length(payload) FROM outbox "
                             "WHERE stream = ?1 ORDER BY seq");
    oldest->bind(1, stream);
    while (freed < needed && oldest->step()) {
      last_seq = oldest->column_int64(0);
      freed += static_cast<std::uint64_t>(oldest->column_int64(1));
      ++count;
    }
  }
  if (count == 0)
    return 0;
  auto erase = db_.cached("DELETE FROM outbox WHERE stream = ?1 AND seq <= ?2");
  erase->bind(1, stream).bind(2, last_seq).run();
  add_to_counters(stream, -static_cast<std::int64_t>(count), -static_cast<std::int64_t>(freed),
                  static_cast<std::int64_t>(count), 0);
  return count;
}

outbox_append_result outbox_store::append(std::string_view stream,
                                          std::span<const outbox_message> messages,
                                          clock::time_point now) {
  const auto& cfg = config(stream);
  outbox_append_result result;
  if (messages.empty())
    return result;

  std::uint64_t batch_bytes = 0;
  for (const auto& m : messages)
    batch_bytes += record_bytes(m);
  if (batch_bytes > cfg.max_bytes && cfg.overflow == outbox_overflow::drop_oldest) {
    result.outcome = outbox_append_result::status::full;
    return result;
  }

  sqlite_transaction tx(db_);
  std::uint64_t stored_bytes = 0;
  {
    auto current = db_.cached("SELECT bytes FROM outbox_streams WHERE stream = ?1");
    current->bind(1, stream);
    if (current->step())
      stored_bytes = static_cast<std::uint64_t>(current->column_int64(0));
  }
  // An empty stream takes any batch, even one larger than the bound: otherwise a producer
  // whose single batch exceeds it could never make progress. The overshoot is one batch.
  if (stored_bytes > 0 && stored_bytes + batch_bytes > cfg.max_bytes) {
    if (cfg.overflow == outbox_overflow::refuse) {
      result.outcome = outbox_append_result::status::full;
      return result; // tx rolls back: nothing was written
    }
    result.dropped = drop_oldest(stream, stored_bytes + batch_bytes - cfg.max_bytes);
  }

  const std::int64_t created = to_millis(now);
  auto insert = db_.cached("INSERT INTO outbox(stream, id, payload, created_at, attempts, "
                           "next_attempt) VALUES(?1, ?2, ?3, ?4, 0, ?4)");
  for (const auto& m : messages) {
    insert->bind(1, stream).bind(2, m.id).bind_blob(3, m.payload).bind(4, created);
    insert->run();
    insert->reset();
    std::int64_t seq = db_.last_insert_rowid();
    if (result.first_seq == 0)
      result.first_seq = seq;
    result.last_seq = seq;
  }
  add_to_counters(stream, static_cast<std::int64_t>(messages.size()),
                  static_cast<std::int64_t>(batch_bytes), 0, 0);
  tx.commit();
  return result;
}

std::vector<outbox_record> outbox_store::peek(std::string_view stream, std::size_t limit,
                                              clock::time_point now, std::int64_t after_seq) {
  config(stream);
  std::vector<outbox_record> records;
  auto select = db_.cached("SELECT " + std::string{record_columns} +
                           " FROM outbox WHERE stream = ?1 AND next_attempt <= ?2 AND seq > ?4 "
                           "ORDER BY seq LIMIT ?3");
  select->bind(1, stream)
      .bind(2, to_millis(now))
      .bind(3, static_cast<std::int64_t>(limit))
      .bind(4, after_seq);
  while (select->step())
    records.push_back(read_record(*select));
  return records;
}

std::size_t outbox_store::remove(std::string_view stream, std::span<const std::int64_t> seqs) {
  config(stream);
  if (seqs.empty())
    return 0;
  sqlite_transaction tx(db_);
  std::int64_t count = 0;
  std::int64_t bytes = 0;
  {
    auto erase = db_.cached("DELETE FROM outbox WHERE stream = ?1 AND seq = ?2 "
                            "RETURNING length(CAST(id AS BLOB)) + length(payload)");
    for (auto seq : seqs) {
      erase->bind(1, stream).bind(2, seq);
      while (erase->step()) {
        ++count;
        bytes += erase->column_int64(0);
      }
      erase->reset();
    }
  }
  if (count > 0)
    add_to_counters(stream, -count, -bytes, 0, 0);
  tx.commit();
  return static_cast<std::size_t>(count);
}

std::size_t outbox_store::defer(std::string_view stream, std::span<const std::int64_t> seqs,
                                clock::time_point next_attempt) {
  config(stream);
  if (seqs.empty())
    return 0;
  sqlite_transaction tx(db_);
  std::size_t count = 0;
  {
    auto update = db_.cached("UPDATE outbox SET attempts = attempts + 1, next_attempt = ?3 "
                             "WHERE stream = ?1 AND seq = ?2");
    for (auto seq : seqs) {
      update->bind(1, stream).bind(2, seq).bind(3, to_millis(next_attempt));
      update->run();
      count += static_cast<std::size_t>(update->changes());
      update->reset();
    }
  }
  tx.commit();
  return count;
}

bool outbox_store::dead_letter(std::string_view stream, std::int64_t seq, std::string_view reason,
                               clock::time_point now) {
  config(stream);
  sqlite_transaction tx(db_);
  {
    auto copy = db_.cached(
        "INSERT INTO outbox_dead_letters(seq, stream, id, payload, created_at, attempts, reason, "
        "dead_at) SELECT seq, stream, id, payload, created_at, attempts, ?3, ?4 FROM outbox "
        "WHERE stream = ?1 AND seq = ?2");
    copy->bind(1, stream).bind(2, seq).bind(3, reason).bind(4, to_millis(now));
    copy->run();
    if (copy->changes() == 0)
      return false;
  }
  std::int64_t bytes = 0;
  {
    auto erase = db_.cached("DELETE FROM outbox WHERE stream = ?1 AND seq = ?2 "
                            "RETURNING length(CAST(id AS BLOB)) + length(payload)");
    erase->bind(1, stream).bind(2, seq);
    while (erase->step())
      bytes += erase->column_int64(0);
  }
  add_to_counters(stream, -1, -bytes, 0, 1);
  tx.commit();
  return true;
}

std::vector<outbox_dead_letter> outbox_store::dead_letters(std::string_view stream,
                                                           std::size_t limit) {
  config(stream);
  std::vector<outbox_dead_letter> letters;
  auto select = db_.cached("SELECT seq, stream, id, payload, created_at, attempts, 0, reason, "
                           "dead_at FROM outbox_dead_letters WHERE stream = ?1 "
                           "ORDER BY seq LIMIT ?2");
  select->bind(1, stream).bind(2, static_cast<std::int64_t>(limit));
  while (select->step()) {
    outbox_dead_letter letter;
    letter.record = read_record(*select);
    letter.reason = select->column_text(7);
    letter.dead_at = from_millis(select->column_int64(8));
    letters.push_back(std::move(letter));
  }
  return letters;
}

outbox_stats outbox_store::stats(std::string_view stream, clock::time_point now) {
  const auto& cfg = config(stream);
  outbox_stats s;
  s.max_bytes = cfg.max_bytes;
  {
    auto counters = db_.cached(
        "SELECT records, bytes, dropped, dead_lettered FROM outbox_streams WHERE stream = ?1");
    counters->bind(1, stream);
    if (counters->step()) {
      s.records = static_cast<std::uint64_t>(counters->column_int64(0));
      s.bytes = static_cast<std::uint64_t>(counters->column_int64(1));
      s.dropped = static_cast<std::uint64_t>(counters->column_int64(2));
      s.dead_lettered = static_cast<std::uint64_t>(counters->column_int64(3));
    }
  }
  {
    auto oldest =
        db_.cached("SELECT created_at FROM outbox WHERE stream = ?1 ORDER BY seq LIMIT 1");
    oldest->bind(1, stream);
    if (oldest->step()) {
      auto age = now - from_millis(oldest->column_int64(0));
      s.oldest_age = std::max(std::chrono::milliseconds{0},
                              std::chrono::duration_cast<std::chrono::milliseconds>(age));
    }
  }
  {
    // The dead-letter table is small and rarely non-empty: counting it here is fine.
    auto letters = db_.cached("SELECT count(*) FROM outbox_dead_letters WHERE stream = ?1");
    letters->bind(1, stream);
    if (letters->step())
      s.dead_letters = static_cast<std::uint64_t>(letters->column_int64(0));
  }
  return s;
}

} // namespace vigil
