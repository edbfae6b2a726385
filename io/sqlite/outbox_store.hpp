#pragma once

#include "io/sqlite/sqlite_database.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace vigil {

// What append does when a stream's byte bound would be exceeded.
enum class outbox_overflow {
  refuse,     // return full and write nothing: the producer keeps its data (logs, alerts)
  drop_oldest // delete the oldest records and count them (telemetry: newest matters most)
};

struct outbox_stream_config {
  std::string name{};
  std::uint64_t max_bytes = 0;
  outbox_overflow overflow = outbox_overflow::refuse;
};

// logs, alerts, heartbeat refuse; telemetry drops its oldest samples.
std::vector<outbox_stream_config> default_outbox_streams();

// A record to append. `id` is the stable message id consumers deduplicate on.
struct outbox_message {
  std::string id{};
  std::string payload{};
};

struct outbox_record {
  std::int64_t seq = 0; // append order within the database, increasing
  std::string stream{};
  std::string id{};
  std::string payload{};
  std::chrono::system_clock::time_point created_at{};
  std::uint32_t attempts = 0;
  std::chrono::system_clock::time_point next_attempt{};
};

struct outbox_dead_letter {
  outbox_record record;
  std::string reason{};
  std::chrono::system_clock::time_point dead_at{};
};

struct outbox_append_result {
  enum class status { appended, full };
  status outcome = status::appended;
  std::int64_t first_seq = 0; // seqs of the appended records are first_seq..last_seq
  std::int64_t last_seq = 0;
  std::uint64_t dropped = 0; // oldest records deleted to make room (drop_oldest only)

  bool appended() const noexcept { return outcome == status::appended; }
};

struct outbox_stats {
  std::uint64_t records = 0;
  std::uint64_t bytes = 0; // sum of id + payload sizes of the stored records
  std::uint64_t max_bytes = 0;
  std::uint64_t dropped = 0;               // ever deleted by drop_oldest
  std::uint64_t dead_lettered = 0;         // ever moved to the dead-letter table
  std::uint64_t dead_letters = 0;          // currently in the dead-letter table
  std::chrono::milliseconds oldest_age{0}; // age of the oldest stored record, 0 if empty
};

// The durable outbox: records wait here until the broker (or backend) confirmed them.
// Every method runs in its own transaction, or as a savepoint inside the caller's transaction
// so that e.g. append + checkpoint_store::save commit together.
// A record's bytes are size(id) + size(payload); counters are exact and updated with the rows.
class outbox_store {
public:
  using clock = std::chrono::system_clock;

  outbox_store(sqlite_database& db, std::vector<outbox_stream_config> streams);

  // All or nothing. Returns full (and writes nothing) if the stream's bound would be exceeded
  // and its policy is refuse. An empty stream accepts any batch, even one larger than the
  // bound, so a producer always makes progress (overshoot: one batch); drop_oldest streams
  // refuse a batch larger than their whole bound.
  // Throws std::invalid_argument for an unknown stream, sqlite_error (e.g. disk full) on I/O.
  outbox_append_result append(std::string_view stream, std::span<const outbox_message> messages,
                              clock::time_point now = clock::now());

  // Up to `limit` records with next_attempt <= now and seq > after_seq, in seq order. A
  // publisher passes the last seq it sent so records in flight are not fetched twice.
  std::vector<outbox_record> peek(std::string_view stream, std::size_t limit,
                                  clock::time_point now = clock::now(), std::int64_t after_seq = 0);

  // Deletes confirmed records; seqs already gone (e.g. dropped) are ignored. Returns how many.
  std::size_t remove(std::string_view stream, std::span<const std::int64_t> seqs);

  // attempts + 1 and not due before next_attempt. Returns how many records were found.
  std::size_t defer(std::string_view stream, std::span<const std::int64_t> seqs,
                    clock::time_point next_attempt);

  // Moves a record into the dead-letter table (kept, visible). False if not found.
  bool dead_letter(std::string_view stream, std::int64_t seq, std::string_view reason,
                   clock::time_point now = clock::now());
  std::vector<outbox_dead_letter> dead_letters(std::string_view stream, std::size_t limit);

  outbox_stats stats(std::string_view stream, clock::time_point now = clock::now());

  const std::vector<outbox_stream_config>& streams() const noexcept { return streams_; }

private:
  const outbox_stream_config& config(std::string_view stream) const;
  // Deletes oldest records of `stream` until at least `needed` bytes are freed; returns count.
  std::uint64_t drop_oldest(std::string_view stream, std::uint64_t needed);
  void add_to_counters(std::string_view stream, std::int64_t records, std::int64_t bytes,
                       std::int64_t dropped, std::int64_t dead_lettered);

  sqlite_database& db_;
  std::vector<outbox_stream_config> streams_;
};

} // namespace vigil
