#pragma once

#include "io/sqlite/sqlite_database.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vigil {

// Where a tailer stopped in one file, and how to recognise that file again after a rotation.
struct file_checkpoint {
  std::string source{}; // the watched path
  std::uint64_t device = 0;
  std::uint64_t inode = 0;
  std::uint64_t fingerprint = 0; // hash of the file's first fingerprint_length bytes
  std::uint32_t fingerprint_length = 0;
  std::uint64_t offset = 0;      // byte offset of the first line not yet durable
  std::uint64_t line_number = 0; // lines before offset
  std::chrono::system_clock::time_point updated_at{};
  // The sequence number the source's next event gets: event ids are node + source +
  // sequence, unique even when a file is truncated and refilled at the same offsets.
  std::uint64_t next_sequence = 0;
  // A journal source's sd-journal cursor (the last entry handled); empty for files.
  std::string cursor{};

  bool operator==(const file_checkpoint&) const = default;
};

// Lives in the same database as the outbox on purpose: wrap outbox_store::append and save()
// in one sqlite_transaction so an offset advances exactly when its events became durable.
class checkpoint_store {
public:
  explicit checkpoint_store(sqlite_database& db);

  // Inserts or replaces the checkpoint of checkpoint.source.
  void save(const file_checkpoint& checkpoint);
  std::optional<file_checkpoint> load(std::string_view source);
  std::vector<file_checkpoint> load_all();
  // False if there was none.
  bool remove(std::string_view source);

private:
  sqlite_database& db_;
};

} // namespace vigil
