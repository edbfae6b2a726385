#pragma once

// What log sources hand to the outbox: batches of error events together with the
// file position they end at, so that both become durable in one transaction.

#include "messages/atoms.hpp"
#include "messages/supervision.hpp"

#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace vigil {

/// One error line (or joined multiline event), ready to store and to ship.
struct log_event {
  std::string id;           // node_id:source-hash:sequence — unique per event, kept when resent
  int64_t timestamp_ms = 0; // parsed from the line, else read time (UTC)
  std::string severity;
  std::string log_line;
  uint64_t line_number = 0;
  uint64_t offset = 0;
  std::string payload; // the JSON body the broker receives (seed fields + id, node_id, ...)
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, log_event& x) {
  return f(caf::meta::type_name("log_event"), x.id, x.timestamp_ms, x.severity, x.log_line,
           x.line_number, x.offset, x.payload);
}

/// Where reading a source stopped: what the checkpoint store keeps per source. A file is
/// recognised by its identity and resumed at offset; the journal resumes after cursor.
struct file_position {
  uint64_t device = 0;
  uint64_t inode = 0;
  uint64_t fingerprint = 0;
  uint32_t fingerprint_length = 0;
  uint64_t offset = 0;        // first byte not yet read
  uint64_t line_number = 0;   // lines before offset
  uint64_t next_sequence = 0; // sequence number of the source's next event
  std::string cursor;         // journal: sd-journal cursor of the last entry handled
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, file_position& x) {
  return f(caf::meta::type_name("file_position"), x.device, x.inode, x.fingerprint,
           x.fingerprint_length, x.offset, x.line_number, x.next_sequence, x.cursor);
}

struct log_batch {
  std::string source; // the watched path: the checkpoint key and the event's log_path
  std::string application;
  std::string hostname; // host attributes at read time
  std::string system_ip;
  file_position end; // the position after the last line read for this batch
  std::vector<log_event> events;
  uint64_t lines_read = 0; // all lines, errors or not (for counters)
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, log_batch& x) {
  return f(caf::meta::type_name("log_batch"), x.source, x.application, x.hostname, x.system_ip,
           x.end, x.events, x.lines_read);
}

/// A record the broker has not confirmed yet.
struct outbox_entry {
  int64_t seq = 0;
  std::string id;
  std::string payload;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, outbox_entry& x) {
  return f(caf::meta::type_name("outbox_entry"), x.seq, x.id, x.payload);
}

/// A filter over the local event store (GET /api/logs). Times are ms since the epoch.
struct log_query {
  int64_t since_ms = -1; // inclusive; -1: no bound
  int64_t until_ms = -1; // exclusive; -1: no bound
  std::string severity;  // exact, any case; empty: all
  std::string path_contains;
  std::string text_contains; // in the line, ASCII case-insensitive
  uint32_t limit = 100;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, log_query& x) {
  return f(caf::meta::type_name("log_query"), x.since_ms, x.until_ms, x.severity, x.path_contains,
           x.text_contains, x.limit);
}

/// One event of the local store, with the seed's fields.
struct log_record {
  std::string id;
  int64_t timestamp_ms = 0;
  std::string node_id;
  std::string hostname;
  std::string system_ip;
  std::string log_path;
  std::string application;
  std::string severity;
  std::string log_line;
  uint64_t line_number = 0;
  uint64_t offset = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, log_record& x) {
  return f(caf::meta::type_name("log_record"), x.id, x.timestamp_ms, x.node_id, x.hostname,
           x.system_ip, x.log_path, x.application, x.severity, x.log_line, x.line_number, x.offset);
}

/// Depth and losses of one outbox stream.
struct stream_status {
  std::string name;
  uint64_t records = 0;
  uint64_t bytes = 0;
  uint64_t max_bytes = 0;
  uint64_t dropped = 0;      // oldest records deleted for room (telemetry, heartbeat)
  uint64_t dead_letters = 0; // refused by the sink for good, kept for inspection
  int64_t oldest_age_ms = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stream_status& x) {
  return f(caf::meta::type_name("stream_status"), x.name, x.records, x.bytes, x.max_bytes,
           x.dropped, x.dead_letters, x.oldest_age_ms);
}

/// Counters and depths of the outbox, for /status.
struct outbox_status {
  uint64_t batches = 0;
  uint64_t events = 0;
  uint64_t lines = 0;
  uint64_t commits = 0;
  uint64_t refused_full = 0; // batches refused because the logs stream was full
  uint64_t queued_records = 0;
  uint64_t queued_bytes = 0;
  uint64_t max_bytes = 0;
  uint64_t stored_events = 0;
  uint64_t storage_errors = 0;
  std::string last_error;
  std::vector<stream_status> streams;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, outbox_status& x) {
  return f(caf::meta::type_name("outbox_status"), x.batches, x.events, x.lines, x.commits,
           x.refused_full, x.queued_records, x.queued_bytes, x.max_bytes, x.stored_events,
           x.storage_errors, x.last_error, x.streams);
}

/// What /status shows of the journal source.
struct journal_reader_status {
  std::string state; // "disabled", "opening", "reading", "unavailable"
  uint64_t entries = 0;
  uint64_t events = 0;
  uint64_t gaps = 0; // resume cursors the journal no longer held
  std::string last_error;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, journal_reader_status& x) {
  return f(caf::meta::type_name("journal_reader_status"), x.state, x.entries, x.events, x.gaps,
           x.last_error);
}

using outbox_actor = caf::typed_actor<
    // Durably accept a batch: events (local store, and the "logs" stream when a broker is
    // configured) and the source's position commit together. Replies with the committed
    // offset; errc::outbox_full when the stream is full (the source retries later).
    caf::replies_to<atom::ingest, log_batch>::with<uint64_t>,
    // The saved position of a source, if any: (found, position).
    caf::replies_to<atom::query, std::string>::with<bool, file_position>,
    // Events of the local store matching the filter, newest first.
    caf::replies_to<atom::query, log_query>::with<std::vector<log_record>>,
    // Records of `stream` with seq > after, oldest first, at most `limit`.
    caf::replies_to<atom::publish, std::string, int64_t, uint32_t>::with<std::vector<outbox_entry>>,
    // The sink confirmed these records: delete them.
    caf::reacts_to<atom::confirmed, std::string, std::vector<int64_t>>,
    // Durably add records (seq ignored) to a stream other than "logs". Replies with how
    // many old records were dropped for room; errc::outbox_full when refused.
    caf::replies_to<atom::append, std::string, std::vector<outbox_entry>>::with<uint64_t>,
    // The sink failed on these records: not due again before the given time (ms since the
    // epoch); their attempt count grows.
    caf::reacts_to<atom::failed, std::string, std::vector<int64_t>, int64_t>,
    // The sink refused a record for good: moved to the dead letters with the reason.
    caf::reacts_to<atom::reject, std::string, int64_t, std::string>,
    caf::replies_to<atom::status>::with<outbox_status>,
    // INTERNAL: commit what has been collected; prune the local event store.
    caf::reacts_to<atom::flush>, caf::reacts_to<atom::tick>, configurable>;

} // namespace vigil
