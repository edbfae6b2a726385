#include "io/sqlite/state_schema.hpp"

namespace vigil {

namespace {

// Times are milliseconds since the Unix epoch; sizes are bytes.
constexpr sqlite_migration migrations[] = {
    {1, R"sql(
CREATE TABLE outbox (
  seq          INTEGER PRIMARY KEY AUTOINCREMENT,
  stream       TEXT    NOT NULL,
  id           TEXT    NOT NULL,
  payload      BLOB    NOT NULL,
  created_at   INTEGER NOT NULL,
  attempts     INTEGER NOT NULL DEFAULT 0,
  next_attempt INTEGER NOT NULL DEFAULT 0
);
-- Rows of one stream in seq order (the rowid is the implicit last column).
CREATE INDEX outbox_by_stream ON outbox(stream);

-- Counters kept in step with outbox rows in the same transactions, so bounds and stats
-- never need SUM()/COUNT() over the table.
CREATE TABLE outbox_streams (
  stream        TEXT PRIMARY KEY,
  records       INTEGER NOT NULL DEFAULT 0,
  bytes         INTEGER NOT NULL DEFAULT 0,
  dropped       INTEGER NOT NULL DEFAULT 0,
  dead_lettered INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

CREATE TABLE outbox_dead_letters (
  seq          INTEGER PRIMARY KEY,
  stream       TEXT    NOT NULL,
  id           TEXT    NOT NULL,
  payload      BLOB    NOT NULL,
  created_at   INTEGER NOT NULL,
  attempts     INTEGER NOT NULL,
  reason       TEXT    NOT NULL,
  dead_at      INTEGER NOT NULL
);
CREATE INDEX outbox_dead_letters_by_stream ON outbox_dead_letters(stream);

CREATE TABLE checkpoints (
  source             TEXT PRIMARY KEY,
  device             INTEGER NOT NULL,
  inode              INTEGER NOT NULL,
  fingerprint        INTEGER NOT NULL,
  fingerprint_length INTEGER NOT NULL,
  offset             INTEGER NOT NULL,
  line_number        INTEGER NOT NULL,
  updated_at         INTEGER NOT NULL,
  next_sequence      INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

CREATE TABLE events (
  row_id      INTEGER PRIMARY KEY,
  id          TEXT    NOT NULL UNIQUE,
  timestamp   INTEGER NOT NULL,
  node_id     TEXT    NOT NULL,
  hostname    TEXT    NOT NULL,
  system_ip   TEXT    NOT NULL,
  log_path    TEXT    NOT NULL,
  application TEXT    NOT NULL,
  severity    TEXT    NOT NULL,
  log_line    TEXT    NOT NULL,
  line_number INTEGER NOT NULL,
  offset      INTEGER NOT NULL
);
CREATE INDEX events_by_time ON events(timestamp);
)sql"},
    // Journal sources resume at an sd-journal cursor instead of a byte offset.
    {2, R"sql(
ALTER TABLE checkpoints ADD COLUMN cursor TEXT NOT NULL DEFAULT '';
)sql"},
};

} // namespace

std::span<const sqlite_migration> state_schema_migrations() {
  return migrations;
}

void ensure_state_schema(sqlite_database& db) {
  db.migrate(state_schema_migrations());
}

} // namespace vigil
