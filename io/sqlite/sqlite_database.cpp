#include "io/sqlite/sqlite_database.hpp"

#include <sqlite3.h>

#include <cerrno>
#include <chrono>
#include <string>
#include <system_error>
#include <thread>
#include <utility>

namespace vigil {

namespace {

std::string describe(std::string_view what, std::string_view detail,
                     const std::filesystem::path& path) {
  std::string text = "sqlite: ";
  text += what;
  text += " failed on '";
  text += path.string();
  text += "': ";
  text += detail;
  return text;
}

} // namespace

sqlite_error::sqlite_error(std::string message, int extended_code, std::filesystem::path path)
    : std::runtime_error(std::move(message))
    , extended_code_(extended_code)
    , path_(std::move(path)) {}

// ---------------------------------------------------------------------------------------------
// sqlite_statement

sqlite_statement::sqlite_statement(sqlite_database& db, std::string_view sql)
    : db_(&db) {
  int rc = sqlite3_prepare_v3(db.handle(), sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt_);
    stmt_ = nullptr;
    db.throw_error(rc, "prepare '" + std::string{sql} + "'");
  }
}

sqlite_statement::~sqlite_statement() {
  sqlite3_finalize(stmt_);
}

sqlite_statement::sqlite_statement(sqlite_statement&& other) noexcept
    : db_(other.db_)
    , stmt_(std::exchange(other.stmt_, nullptr)) {}

sqlite_statement& sqlite_statement::operator=(sqlite_statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    db_ = other.db_;
    stmt_ = std::exchange(other.stmt_, nullptr);
  }
  return *this;
}

void sqlite_statement::check_bind(int rc, int index) {
  if (rc != SQLITE_OK)
    db_->throw_error(rc, "bind parameter " + std::to_string(index) + " of '" +
                             std::string{sqlite3_sql(stmt_)} + "'");
}

sqlite_statement& sqlite_statement::bind(int index, std::int64_t value) {
  check_bind(sqlite3_bind_int64(stmt_, index, value), index);
  return *this;
}

sqlite_statement& sqlite_statement::bind(int index, double value) {
  check_bind(sqlite3_bind_double(stmt_, index, value), index);
  return *this;
}

sqlite_statement& sqlite_statement::bind(int index, std::string_view text) {
  check_bind(
      sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8),
      index);
  return *this;
}

sqlite_statement& sqlite_statement::bind_blob(int index, std::span<const std::byte> bytes) {
  // A zero-length blob must not bind as NULL: pass a non-null pointer.
  static const std::byte empty{};
  const void* data = bytes.empty() ? &empty : bytes.data();
  check_bind(sqlite3_bind_blob64(stmt_, index, data, bytes.size(), SQLITE_TRANSIENT), index);
  return *this;
}

sqlite_statement& sqlite_statement::bind_blob(int index, std::string_view bytes) {
  return bind_blob(index, std::as_bytes(std::span{bytes.data(), bytes.size()}));
}

sqlite_statement& sqlite_statement::bind_null(int index) {
  check_bind(sqlite3_bind_null(stmt_, index), index);
  return *this;
}

bool sqlite_statement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW)
    return true;
  if (rc == SQLITE_DONE)
    return false;
  std::string sql = sqlite3_sql(stmt_);
  // Reset now: the statement must not stay half-run after an error.
  sqlite3_reset(stmt_);
  db_->throw_error(rc, "step '" + sql + "'");
}

void sqlite_statement::run() {
  while (step()) {
  }
}

void sqlite_statement::reset() noexcept {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

bool sqlite_statement::column_is_null(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

std::int64_t sqlite_statement::column_int64(int column) const {
  return sqlite3_column_int64(stmt_, column);
}

double sqlite_statement::column_double(int column) const {
  return sqlite3_column_double(stmt_, column);
}

std::string sqlite_statement::column_text(int column) const {
  // Works for TEXT and BLOB columns alike: bytes, with their length (NULs included).
  const void* data = sqlite3_column_blob(stmt_, column);
  int size = sqlite3_column_bytes(stmt_, column);
  if (data == nullptr || size <= 0)
    return {};
  return std::string{static_cast<const char*>(data), static_cast<std::size_t>(size)};
}

std::int64_t sqlite_statement::changes() const {
  return sqlite3_changes64(sqlite3_db_handle(stmt_));
}

// ---------------------------------------------------------------------------------------------
// sqlite_database

sqlite_database::sqlite_database(std::filesystem::path path, sqlite_options options)
    : path_(std::move(path))
    , options_(options) {
  auto parent = path_.parent_path();
  std::error_code ec;
  if (!parent.empty() && !std::filesystem::is_directory(parent, ec))
    throw sqlite_error("sqlite: cannot open '" + path_.string() + "': parent directory '" +
                           parent.string() + "' does not exist",
                       SQLITE_CANTOPEN, path_);

  int rc =
      sqlite3_open_v2(path_.c_str(), &db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string detail = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close_v2(db_);
    db_ = nullptr;
    throw sqlite_error(describe("open", detail, path_), rc, path_);
  }
  sqlite3_extended_result_codes(db_, 1);
  try {
    sqlite3_busy_timeout(db_, static_cast<int>(options_.busy_timeout.count()));
    // journal_mode returns the resulting mode as a row: check that WAL really took effect.
    // Switching a new file to WAL takes an exclusive lock, and SQLite answers BUSY at once,
    // without its busy handler, while another connection opens the same new file: retry
    // within the busy timeout.
    auto deadline = std::chrono::steady_clock::now() + options_.busy_timeout;
    while (true) {
      try {
        sqlite_statement wal(*this, "PRAGMA journal_mode=WAL");
        if (!wal.step() || wal.column_text(0) != "wal")
          throw sqlite_error(
              describe("PRAGMA journal_mode=WAL", "WAL mode is not available", path_), SQLITE_ERROR,
              path_);
        break;
      } catch (const sqlite_busy_error&) {
        if (std::chrono::steady_clock::now() >= deadline)
          throw;
        std::this_thread::sleep_for(std::chrono::milliseconds{5});
      }
    }
    set_synchronous(options_.synchronous);
  } catch (...) {
    statements_.clear();
    sqlite3_close_v2(db_);
    throw;
  }
}

sqlite_database::~sqlite_database() {
  statements_.clear();
  sqlite3_close_v2(db_);
}

void sqlite_database::throw_error(int rc, std::string_view what) const {
  std::string detail = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
  int extended = rc;
  if (db_ && (rc & 0xff) == (sqlite3_extended_errcode(db_) & 0xff))
    extended = sqlite3_extended_errcode(db_);
  // ENOSPC can also surface as an I/O error (e.g. growing the shm file): report it as full.
  bool no_space = (rc & 0xff) == SQLITE_FULL ||
                  ((rc & 0xff) == SQLITE_IOERR && db_ && sqlite3_system_errno(db_) == ENOSPC);
  std::string message = describe(what, detail, path_);
  if (no_space)
    throw sqlite_disk_full_error(message + " (disk full)", extended, path_);
  if ((rc & 0xff) == SQLITE_BUSY)
    throw sqlite_busy_error(message, extended, path_);
  throw sqlite_error(message, extended, path_);
}

void sqlite_database::execute(std::string_view sql) {
  std::string text{sql};
  char* message = nullptr;
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &message);
  sqlite3_free(message); // errmsg of the connection carries the same text
  if (rc != SQLITE_OK)
    throw_error(rc, "execute '" + text + "'");
}

cached_statement sqlite_database::cached(std::string_view sql) {
  auto it = statements_.find(std::string{sql});
  if (it == statements_.end())
    it =
        statements_.emplace(std::string{sql}, std::make_unique<sqlite_statement>(*this, sql)).first;
  return cached_statement{*it->second};
}

int sqlite_database::user_version() {
  sqlite_statement stmt(*this, "PRAGMA user_version");
  stmt.step();
  return static_cast<int>(stmt.column_int64(0));
}

int sqlite_database::migrate(std::span<const sqlite_migration> migrations) {
  for (std::size_t i = 1; i < migrations.size(); ++i)
    if (migrations[i].version <= migrations[i - 1].version)
      throw std::invalid_argument("sqlite migrations must have strictly increasing versions");
  int latest = migrations.empty() ? 0 : migrations.back().version;
  // Already current (the common case on every start): no write transaction.
  if (user_version() == latest)
    return latest;

  sqlite_transaction tx(*this);
  int current = user_version();
  if (current > latest)
    throw sqlite_error(describe("migrate",
                                "schema version " + std::to_string(current) +
                                    " is newer than this program knows (" + std::to_string(latest) +
                                    ")",
                                path_),
                       SQLITE_ERROR, path_);
  for (const auto& migration : migrations) {
    if (migration.version <= current)
      continue;
    execute(migration.sql);
    // PRAGMA takes no bound parameters; the version is an int we produced.
    execute("PRAGMA user_version=" + std::to_string(migration.version));
    current = migration.version;
  }
  tx.commit();
  return current;
}

bool sqlite_database::in_transaction() const noexcept {
  return sqlite3_get_autocommit(db_) == 0;
}

std::int64_t sqlite_database::last_insert_rowid() const noexcept {
  return sqlite3_last_insert_rowid(db_);
}

std::int64_t sqlite_database::changes() const noexcept {
  return sqlite3_changes64(db_);
}

// ---------------------------------------------------------------------------------------------
// sqlite_transaction

void sqlite_database::set_synchronous(sqlite_sync level) {
  execute(level == sqlite_sync::full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
}

sqlite_transaction::sqlite_transaction(sqlite_database& db)
    : db_(db) {
  if (db_.in_transaction()) {
    savepoint_ = "vigil_sp_" + std::to_string(++db_.savepoint_depth_);
    try {
      db_.execute("SAVEPOINT " + savepoint_);
    } catch (...) {
      --db_.savepoint_depth_;
      throw;
    }
  } else {
    // IMMEDIATE takes the write lock now, so a later write never fails with SQLITE_BUSY
    // half-way through (busy_timeout applies here instead).
    db_.execute("BEGIN IMMEDIATE");
  }
}

sqlite_transaction::~sqlite_transaction() {
  if (!done_)
    rollback();
}

void sqlite_transaction::commit() {
  if (done_)
    throw std::logic_error("sqlite_transaction: already finished");
  if (savepoint_.empty()) {
    db_.execute("COMMIT");
  } else {
    db_.execute("RELEASE " + savepoint_);
    --db_.savepoint_depth_;
  }
  done_ = true;
}

void sqlite_transaction::rollback() noexcept {
  if (done_)
    return;
  done_ = true;
  // After SQLITE_FULL/IOERR SQLite may already have rolled back the whole transaction;
  // then there is nothing left to undo and the statements below would only fail.
  if (savepoint_.empty()) {
    if (db_.in_transaction())
      sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
  } else {
    --db_.savepoint_depth_;
    if (db_.in_transaction()) {
      std::string sql = "ROLLBACK TO " + savepoint_ + "; RELEASE " + savepoint_;
      sqlite3_exec(db_.handle(), sql.c_str(), nullptr, nullptr, nullptr);
    }
  }
}

} // namespace vigil
