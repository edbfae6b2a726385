#include "io/sqlite/checkpoint_store.hpp"

#include "io/sqlite/state_schema.hpp"

#include <bit>

namespace vigil {

namespace {

// SQLite integers are signed 64-bit: store unsigned values bit for bit.
std::int64_t to_column(std::uint64_t value) {
  return std::bit_cast<std::int64_t>(value);
}
std::uint64_t from_column(std::int64_t value) {
  return std::bit_cast<std::uint64_t>(value);
}

constexpr std::string_view columns =
    "source, device, inode, fingerprint, fingerprint_length, offset, line_number, updated_at, "
    "next_sequence, cursor";

file_checkpoint read_checkpoint(const sqlite_statement& row) {
  file_checkpoint c;
  c.source = row.column_text(0);
  c.device = from_column(row.column_int64(1));
  c.inode = from_column(row.column_int64(2));
  c.fingerprint = from_column(row.column_int64(3));
  c.fingerprint_length = static_cast<std::uint32_t>(row.column_int64(4));
  c.offset = from_column(row.column_int64(5));
  c.line_number = from_column(row.column_int64(6));
  c.updated_at = from_millis(row.column_int64(7));
  c.next_sequence = from_column(row.column_int64(8));
  c.cursor = row.column_text(9);
  return c;
}

} // namespace

checkpoint_store::checkpoint_store(sqlite_database& db)
    : db_(db) {
  ensure_state_schema(db_);
}

void checkpoint_store::save(const file_checkpoint& c) {
  auto upsert = db_.cached("INSERT OR REPLACE INTO checkpoints(" + std::string{columns} +
                           ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
  upsert->bind(1, c.source)
      .bind(2, to_column(c.device))
      .bind(3, to_column(c.inode))
      .bind(4, to_column(c.fingerprint))
      .bind(5, static_cast<std::int64_t>(c.fingerprint_length))
      .bind(6, to_column(c.offset))
      .bind(7, to_column(c.line_number))
      .bind(8, to_millis(c.updated_at))
      .bind(9, to_column(c.next_sequence))
      .bind(10, c.cursor);
  upsert->run();
}

std::optional<file_checkpoint> checkpoint_store::load(std::string_view source) {
  auto select =
      db_.cached("SELECT " + std::string{columns} + " FROM checkpoints WHERE source = ?1");
  select->bind(1, source);
  if (!select->step())
    return std::nullopt;
  return read_checkpoint(*select);
}

std::vector<file_checkpoint> checkpoint_store::load_all() {
  std::vector<file_checkpoint> all;
  auto select = db_.cached("SELECT " + std::string{columns} + " FROM checkpoints ORDER BY source");
  while (select->step())
    all.push_back(read_checkpoint(*select));
  return all;
}

bool checkpoint_store::remove(std::string_view source) {
  auto erase = db_.cached("DELETE FROM checkpoints WHERE source = ?1");
  erase->bind(1, source).run();
  return erase->changes() > 0;
}

} // namespace vigil
