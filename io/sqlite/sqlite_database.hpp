#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>

struct sqlite3;
struct sqlite3_stmt;

namespace vigil {

// Times are stored as milliseconds since the Unix epoch (INTEGER columns).
inline std::int64_t to_millis(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

inline std::chrono::system_clock::time_point from_millis(std::int64_t ms) {
  return std::chrono::system_clock::time_point{
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::milliseconds{ms})};
}

// Every SQLite failure: carries the SQLite message, the (extended) result code and the db path.
class sqlite_error : public std::runtime_error {
public:
  sqlite_error(std::string message, int extended_code, std::filesystem::path path);

  // Primary result code (SQLITE_FULL, SQLITE_BUSY, ...).
  int code() const noexcept { return extended_code_ & 0xff; }
  int extended_code() const noexcept { return extended_code_; }
  const std::filesystem::path& path() const noexcept { return path_; }

private:
  int extended_code_;
  std::filesystem::path path_;
};

// The disk (or the file system quota) is full: nothing of the failed statement or transaction
// was written, earlier commits are intact. A caller keeps its data in memory and retries later.
class sqlite_disk_full_error : public sqlite_error {
public:
  using sqlite_error::sqlite_error;
};

// SQLITE_BUSY after busy_timeout: another connection held the write lock too long.
class sqlite_busy_error : public sqlite_error {
public:
  using sqlite_error::sqlite_error;
};

// synchronous=FULL fsyncs the WAL on every commit: a commit survives power loss.
// synchronous=NORMAL fsyncs only at checkpoints: a commit survives a process crash (kill -9)
// but the last transactions can be lost on power loss or a kernel panic.
// FULL is the default. Its cost is one fsync per commit, so callers batch (bench_outbox_append:
// ~1-4 ms per commit here, i.e. µs per event only with batches of hundreds). NORMAL is a sound
// choice for the outbox: events and their tail offset commit together, so a power loss rolls
// back both and the lines are read again from the log file (duplicates, never gaps); only
// records made in memory (alerts, heartbeats) of the last moments could be lost.
enum class sqlite_sync { normal, full };

struct sqlite_options {
  sqlite_sync synchronous = sqlite_sync::full;
  std::chrono::milliseconds busy_timeout{5000};
};

// One step of the schema: applied once, in order, when PRAGMA user_version < version.
struct sqlite_migration {
  int version;
  std::string_view sql;
};

class sqlite_database;

// A prepared statement. Bind indexes are 1-based (as SQLite's), column indexes 0-based.
class sqlite_statement {
public:
  sqlite_statement(sqlite_database& db, std::string_view sql);
  ~sqlite_statement();
  sqlite_statement(sqlite_statement&& other) noexcept;
  sqlite_statement& operator=(sqlite_statement&& other) noexcept;
  sqlite_statement(const sqlite_statement&) = delete;
  sqlite_statement& operator=(const sqlite_statement&) = delete;

  sqlite_statement& bind(int index, std::int64_t value);
  sqlite_statement& bind(int index, double value);
  // Text is copied by SQLite (SQLITE_TRANSIENT): the caller's buffer may go away.
  sqlite_statement& bind(int index, std::string_view text);
  sqlite_statement& bind(int index, const char* text) {
    return bind(index, std::string_view{text});
  }
  sqlite_statement& bind_blob(int index, std::span<const std::byte> bytes);
  sqlite_statement& bind_blob(int index, std::string_view bytes);
  sqlite_statement& bind_null(int index);
  template <class T>
  sqlite_statement& bind(int index, const std::optional<T>& value) {
    return value ? bind(index, *value) : bind_null(index);
  }

  // True while a row is available; false when done. Throws sqlite_error.
  bool step();
  // Steps to the end, for statements without rows.
  void run();
  // Ready to step again; bindings are cleared.
  void reset() noexcept;

  bool column_is_null(int column) const;
  std::int64_t column_int64(int column) const;
  double column_double(int column) const;
  std::string column_text(int column) const;
  // Number of rows changed by the last run (sqlite3_changes).
  std::int64_t changes() const;

  sqlite3_stmt* handle() const noexcept { return stmt_; }

private:
  void check_bind(int rc, int index);

  sqlite_database* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

// A cached statement in use: resets it on scope exit so it never keeps a read snapshot open.
class cached_statement {
public:
  explicit cached_statement(sqlite_statement& stmt) noexcept
      : stmt_(&stmt) {}
  ~cached_statement() { stmt_->reset(); }
  cached_statement(const cached_statement&) = delete;
  cached_statement& operator=(const cached_statement&) = delete;

  sqlite_statement* operator->() const noexcept { return stmt_; }
  sqlite_statement& operator*() const noexcept { return *stmt_; }

private:
  sqlite_statement* stmt_;
};

// One SQLite connection (RAII) in WAL mode. Not thread-safe: one owner thread at a time.
class sqlite_database {
public:
  // Opens or creates the file; the parent directory must exist.
  explicit sqlite_database(std::filesystem::path path, sqlite_options options = {});
  ~sqlite_database();
  sqlite_database(const sqlite_database&) = delete;
  sqlite_database& operator=(const sqlite_database&) = delete;

  const std::filesystem::path& path() const noexcept { return path_; }
  const sqlite_options& options() const noexcept { return options_; }
  sqlite3* handle() const noexcept { return db_; }

  // Runs one or more statements without results (DDL, pragmas that return nothing).
  void execute(std::string_view sql);
  // A prepared statement owned by the database, prepared on first use and reused.
  cached_statement cached(std::string_view sql);

  // Applies the migrations whose version exceeds PRAGMA user_version, in one transaction (none
  // when the schema is current). Versions must be strictly increasing. Returns the resulting
  // user_version.
  int migrate(std::span<const sqlite_migration> migrations);
  int user_version();

  // Switches PRAGMA synchronous for the commits that follow (outside a transaction only:
  // SQLite refuses the change inside one). options().synchronous keeps the configured level.
  void set_synchronous(sqlite_sync level);

  bool in_transaction() const noexcept;
  std::int64_t last_insert_rowid() const noexcept;
  std::int64_t changes() const noexcept;

  // Throws the sqlite_error subclass matching rc, with SQLite's message, `what` and the path.
  [[noreturn]] void throw_error(int rc, std::string_view what) const;

private:
  friend class sqlite_transaction;

  std::filesystem::path path_;
  sqlite_options options_;
  sqlite3* db_ = nullptr;
  std::unordered_map<std::string, std::unique_ptr<sqlite_statement>> statements_;
  int savepoint_depth_ = 0;
};

// BEGIN IMMEDIATE ... COMMIT, rolled back on scope exit unless committed. Nested inside another
// transaction it becomes a SAVEPOINT, so an inner failure undoes only its own part.
class sqlite_transaction {
public:
  explicit sqlite_transaction(sqlite_database& db);
  ~sqlite_transaction();
  sqlite_transaction(const sqlite_transaction&) = delete;
  sqlite_transaction& operator=(const sqlite_transaction&) = delete;

  void commit();
  void rollback() noexcept;

private:
  sqlite_database& db_;
  std::string savepoint_; // empty for the outermost transaction
  bool done_ = false;
};

} // namespace vigil
