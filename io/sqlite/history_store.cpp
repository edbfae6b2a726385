#include "io/sqlite/history_store.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>

namespace vigil {

namespace {

// Times are milliseconds since the Unix epoch. The sample tables are WITHOUT ROWID with the
// primary key (series_id, time): rows of one series are stored together in time order, so
// reading, downsampling and pruning a series are range scans and no second index is written
// per sample.
constexpr sqlite_migration migrations[] = {
    {1, R"sql(
CREATE TABLE series (
  id     INTEGER PRIMARY KEY,
  name   TEXT NOT NULL,
  labels TEXT NOT NULL,
  UNIQUE (name, labels)
);

CREATE TABLE samples_raw (
  series_id INTEGER NOT NULL,
  ts        INTEGER NOT NULL,
  value     REAL    NOT NULL,
  PRIMARY KEY (series_id, ts)
) WITHOUT ROWID;

CREATE TABLE samples_1m (
  series_id INTEGER NOT NULL,
  minute_ts INTEGER NOT NULL,
  avg       REAL    NOT NULL,
  min       REAL    NOT NULL,
  max       REAL    NOT NULL,
  count     INTEGER NOT NULL,
  PRIMARY KEY (series_id, minute_ts)
) WITHOUT ROWID;

-- downsampled_until: minutes before it are aggregated into samples_1m.
CREATE TABLE history_meta (
  key   TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE alerts (
  id              TEXT PRIMARY KEY,
  rule_id         TEXT    NOT NULL,
  severity        TEXT    NOT NULL,
  state           TEXT    NOT NULL,
  started_at      INTEGER NOT NULL,
  resolved_at     INTEGER,
  acknowledged_at INTEGER,
  silenced_until  INTEGER,
  message         TEXT    NOT NULL,
  value           REAL    NOT NULL,
  threshold       REAL    NOT NULL
) WITHOUT ROWID;
CREATE INDEX alerts_by_start ON alerts(started_at);

CREATE TABLE persistent_users (
  user           TEXT PRIMARY KEY,
  above_since_ms INTEGER NOT NULL,
  last_seen_ms   INTEGER NOT NULL,
  metric         TEXT    NOT NULL
) WITHOUT ROWID;
)sql"},
    // The hub tracks a run per (user, metric) with its peak and average: v1 kept one row per
    // user. Runs saved by v1 are kept without their statistics.
    {2, R"sql(
ALTER TABLE persistent_users RENAME TO persistent_users_v1;
CREATE TABLE persistent_users (
  user           TEXT    NOT NULL,
  metric         TEXT    NOT NULL,
  above_since_ms INTEGER NOT NULL,
  last_seen_ms   INTEGER NOT NULL,
  peak_percent   REAL    NOT NULL DEFAULT 0,
  sum_percent    REAL    NOT NULL DEFAULT 0,
  samples        INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (user, metric)
) WITHOUT ROWID;
INSERT INTO persistent_users(user, metric, above_since_ms, last_seen_ms)
  SELECT user, metric, above_since_ms, last_seen_ms FROM persistent_users_v1;
DROP TABLE persistent_users_v1;
)sql"},
    // Every control action of the API: who, when, what, and the answer.
    {3, R"sql(
CREATE TABLE audit_log (
  id        INTEGER PRIMARY KEY,
  at        INTEGER NOT NULL,
  client    TEXT    NOT NULL,
  principal TEXT    NOT NULL,
  action    TEXT    NOT NULL,
  detail    TEXT    NOT NULL,
  status    INTEGER NOT NULL
);
CREATE INDEX audit_by_time ON audit_log(at);
)sql"},
    // The alert engine: subject, cause, peak, notifications and operator actions per alert;
    // silenced rules.
    {4, R"sql(
ALTER TABLE alerts ADD COLUMN subject TEXT NOT NULL DEFAULT '';
ALTER TABLE alerts ADD COLUMN cause TEXT NOT NULL DEFAULT '';
ALTER TABLE alerts ADD COLUMN peak REAL NOT NULL DEFAULT 0;
ALTER TABLE alerts ADD COLUMN notified_at INTEGER;
ALTER TABLE alerts ADD COLUMN resolved_by TEXT NOT NULL DEFAULT '';
ALTER TABLE alerts ADD COLUMN acknowledged_by TEXT NOT NULL DEFAULT '';
ALTER TABLE alerts ADD COLUMN suppressed_reason TEXT NOT NULL DEFAULT '';
CREATE INDEX alerts_by_rule ON alerts(rule_id, subject);
CREATE TABLE alert_silences (
  rule_id  TEXT PRIMARY KEY,
  until_ms INTEGER NOT NULL,
  by       TEXT    NOT NULL
) WITHOUT ROWID;
)sql"},
};

std::int64_t floor_minute(std::int64_t ms) {
  auto r = ms % history_minute_ms;
  return r < 0 ? ms - r - history_minute_ms : ms - r;
}

std::int64_t ceil_minute(std::int64_t ms) {
  auto f = floor_minute(ms);
  return f == ms ? f : f + history_minute_ms;
}

std::int64_t saturating_sub(std::int64_t a, std::int64_t b) {
  if (b > 0 && a < std::numeric_limits<std::int64_t>::min() + b)
    return std::numeric_limits<std::int64_t>::min();
  return a - b;
}

std::optional<std::int64_t> optional_int(sqlite_statement& stmt, int column) {
  if (stmt.column_is_null(column))
    return std::nullopt;
  return stmt.column_int64(column);
}

// The one value a query answers (a count, a PRAGMA, a table's oldest or newest time); nullopt
// when it answers no row or NULL.
std::optional<std::int64_t> single_int(sqlite_database& db, std::string_view sql) {
  auto stmt = db.cached(sql);
  if (!stmt->step())
    return std::nullopt;
  return optional_int(*stmt, 0);
}

std::uint64_t count_rows(sqlite_database& db, std::string_view sql) {
  return static_cast<std::uint64_t>(single_int(db, sql).value_or(0));
}

stored_alert read_alert(sqlite_statement& stmt) {
  stored_alert a;
  a.id = stmt.column_text(0);
  a.rule_id = stmt.column_text(1);
  a.severity = stmt.column_text(2);
  a.state = stmt.column_text(3);
  a.started_at_ms = stmt.column_int64(4);
  a.resolved_at_ms = optional_int(stmt, 5);
  a.acknowledged_at_ms = optional_int(stmt, 6);
  a.silenced_until_ms = optional_int(stmt, 7);
  a.message = stmt.column_text(8);
  a.value = stmt.column_double(9);
  a.threshold = stmt.column_double(10);
  a.subject = stmt.column_text(11);
  a.cause = stmt.column_text(12);
  a.peak = stmt.column_double(13);
  a.notified_at_ms = optional_int(stmt, 14);
  a.resolved_by = stmt.column_text(15);
  a.acknowledged_by = stmt.column_text(16);
  a.suppressed_reason = stmt.column_text(17);
  return a;
}

constexpr std::string_view alert_columns =
    "id, rule_id, severity, state, started_at, resolved_at, acknowledged_at, silenced_until, "
    "message, value, threshold, subject, cause, peak, notified_at, resolved_by, acknowledged_by, "
    "suppressed_reason";

} // namespace

std::span<const sqlite_migration> history_schema_migrations() {
  return migrations;
}

void ensure_history_schema(sqlite_database& db) {
  db.migrate(history_schema_migrations());
}

history_store::history_store(sqlite_database& db, history_retention retention)
    : db_(db)
    , retention_(retention) {
  ensure_history_schema(db_);
  // A big batch may grow the WAL past its checkpoint size; truncate it back afterwards.
  db_.execute("PRAGMA journal_size_limit=8388608");
  // The page cache would grow with the file, for hours, up to SQLite's default 2 MB of heap;
  // a flush touches about one leaf page per series, which the OS page cache serves as well.
  db_.execute("PRAGMA cache_size=-256");
  auto stmt = db_.cached("SELECT value FROM history_meta WHERE key = 'downsampled_until'");
  if (stmt->step())
    downsampled_until_ = stmt->column_int64(0);
}

std::int64_t history_store::series_id(std::string_view name, std::string_view labels) {
  std::string key;
  key.reserve(name.size() + labels.size() + 1);
  key.append(name).push_back('\x1f');
  key.append(labels);
  if (auto it = series_ids_.find(key); it != series_ids_.end())
    return it->second;
  std::int64_t id = 0;
  {
    auto find = db_.cached("SELECT id FROM series WHERE name = ?1 AND labels = ?2");
    find->bind(1, name).bind(2, labels);
    if (find->step())
      id = find->column_int64(0);
  }
  if (id == 0) {
    auto insert = db_.cached("INSERT INTO series(name, labels) VALUES(?1, ?2)");
    insert->bind(1, name).bind(2, labels).run();
    id = db_.last_insert_rowid();
  }
  if (series_ids_.size() >= 100'000) // label churn: keep the cache bounded
    series_ids_.clear();
  series_ids_.emplace(std::move(key), id);
  return id;
}

bool history_store::append(std::int64_t timestamp_ms, std::string_view name,
                           std::string_view labels, double value) {
  // SQLite stores NaN as NULL: not a value the history can answer with.
  if (!std::isfinite(value))
    return false;
  auto id = series_id(name, labels);
  auto stmt =
      db_.cached("INSERT OR REPLACE INTO samples_raw(series_id, ts, value) VALUES(?1, ?2, ?3)");
  stmt->bind(1, id).bind(2, timestamp_ms).bind(3, value).run();
  if (timestamp_ms < downsampled_until_) {
    auto minute = floor_minute(timestamp_ms);
    late_from_ = late_from_ ? std::min(*late_from_, minute) : minute;
  }
  return true;
}

void history_store::save_watermark(std::int64_t until_ms) {
  auto stmt =
      db_.cached("INSERT OR REPLACE INTO history_meta(key, value) VALUES('downsampled_until', ?1)");
  stmt->bind(1, until_ms).run();
}

std::uint64_t history_store::downsample(std::int64_t until_ms) {
  auto to = std::max(floor_minute(until_ms), downsampled_until_);
  auto from = downsampled_until_;
  if (late_from_)
    from = std::min(from, *late_from_);
  // Minutes whose raw rows were partly deleted keep the aggregate made while they were whole.
  from = std::max(from, ceil_minute(raw_complete_from_));
  if (from >= to) {
    late_from_.reset();
    return 0;
  }
  std::uint64_t written = 0;
  sqlite_transaction tx(db_);
  {
    // CROSS JOIN keeps series as the outer loop: one primary-key range scan per series.
    auto stmt =
        db_.cached("INSERT OR REPLACE INTO samples_1m(series_id, minute_ts, avg, min, max, count) "
                   "SELECT r.series_id, (r.ts / 60000) * 60000 AS m, avg(r.value), min(r.value), "
                   "max(r.value), count(*) FROM series s CROSS JOIN samples_raw r "
                   "ON r.series_id = s.id AND r.ts >= ?1 AND r.ts < ?2 GROUP BY r.series_id, m");
    stmt->bind(1, from).bind(2, to).run();
    written = static_cast<std::uint64_t>(stmt->changes());
  }
  if (to > downsampled_until_)
    save_watermark(to);
  tx.commit();
  downsampled_until_ = to;
  late_from_.reset();
  return written;
}

history_prune_result history_store::prune(std::int64_t now_ms) {
  history_prune_result result;
  auto raw_cut = std::min(saturating_sub(now_ms, retention_.raw.count()), downsampled_until_);
  auto minute_cut = saturating_sub(now_ms, retention_.minute.count());
  sqlite_transaction tx(db_);
  {
    auto stmt = db_.cached("DELETE FROM samples_raw WHERE series_id IN (SELECT id FROM series) "
                           "AND ts < ?1");
    stmt->bind(1, raw_cut).run();
    result.raw_rows = static_cast<std::uint64_t>(stmt->changes());
  }
  {
    auto stmt = db_.cached("DELETE FROM samples_1m WHERE series_id IN (SELECT id FROM series) "
                           "AND minute_ts < ?1");
    stmt->bind(1, minute_cut).run();
    result.minute_rows = static_cast<std::uint64_t>(stmt->changes());
  }
  {
    auto stmt = db_.cached(
        "DELETE FROM series WHERE NOT EXISTS (SELECT 1 FROM samples_raw WHERE series_id = "
        "series.id) AND NOT EXISTS (SELECT 1 FROM samples_1m WHERE series_id = series.id)");
    stmt->run();
    result.series = static_cast<std::uint64_t>(stmt->changes());
  }
  {
    auto stmt = db_.cached("DELETE FROM alerts WHERE resolved_at IS NOT NULL AND resolved_at < ?1");
    stmt->bind(1, minute_cut).run();
    result.alerts = static_cast<std::uint64_t>(stmt->changes());
  }
  {
    // Older than the minute tier, or beyond the newest audit_max_records.
    auto stmt = db_.cached("DELETE FROM audit_log WHERE at < ?1 OR id <= (SELECT max(id) FROM "
                           "audit_log) - ?2");
    stmt->bind(1, minute_cut).bind(2, static_cast<std::int64_t>(audit_max_records)).run();
    result.audit_records = static_cast<std::uint64_t>(stmt->changes());
  }
  tx.commit();
  raw_complete_from_ = std::max(raw_complete_from_, raw_cut);
  if (result.series > 0)
    forget_series_cache();
  return result;
}

std::uint64_t history_store::used_bytes() {
  auto pages = single_int(db_, "PRAGMA page_count").value_or(0);
  auto free_pages = single_int(db_, "PRAGMA freelist_count").value_or(0);
  auto page_size = single_int(db_, "PRAGMA page_size").value_or(0);
  return static_cast<std::uint64_t>(std::max<std::int64_t>(0, pages - free_pages) * page_size);
}

history_evict_result history_store::enforce_bound() {
  history_evict_result result;
  if (retention_.max_bytes == 0 || used_bytes() <= retention_.max_bytes)
    return result;
  auto target = retention_.max_bytes / 10 * 9;
  struct tier {
    std::string_view oldest, newest, remove;
    std::uint64_t* counter;
    bool raw;
  };
  const tier tiers[] = {
      {"SELECT min((SELECT min(ts) FROM samples_raw WHERE series_id = s.id)) FROM series s",
       "SELECT max((SELECT max(ts) FROM samples_raw WHERE series_id = s.id)) FROM series s",
       "DELETE FROM samples_raw WHERE series_id IN (SELECT id FROM series) AND ts < ?1",
       &result.raw_rows, true},
      {"SELECT min((SELECT min(minute_ts) FROM samples_1m WHERE series_id = s.id)) FROM series s",
       "SELECT max((SELECT max(minute_ts) FROM samples_1m WHERE series_id = s.id)) FROM series s",
       "DELETE FROM samples_1m WHERE series_id IN (SELECT id FROM series) AND minute_ts < ?1",
       &result.minute_rows, false},
  };
  for (const auto& t : tiers) {
    // Oldest first, an eighth of the tier's time span (at least a minute) at a time. The
    // oldest and newest times over all series: one index probe per series each.
    while (true) {
      auto oldest = single_int(db_, t.oldest);
      if (!oldest)
        break;
      auto newest = single_int(db_, t.newest).value_or(*oldest);
      auto chunk = std::max<std::int64_t>((newest - *oldest) / 8, history_minute_ms);
      auto cut = *oldest + chunk;
      auto stmt = db_.cached(t.remove);
      stmt->bind(1, cut).run();
      *t.counter += static_cast<std::uint64_t>(stmt->changes());
      if (t.raw)
        raw_complete_from_ = std::max(raw_complete_from_, cut);
      if (used_bytes() <= target)
        return result;
    }
  }
  result.over_bound = used_bytes() > retention_.max_bytes;
  return result;
}

std::vector<history_result> history_store::query(const history_request& request,
                                                 std::int64_t now_ms) {
  std::vector<history_result> results;
  if (request.to_ms <= request.from_ms)
    return results;
  bool raw = request.step_ms < history_minute_ms &&
             request.from_ms >= saturating_sub(now_ms, retention_.raw.count());
  std::int64_t step = request.step_ms > 0 ? request.step_ms : (raw ? 1 : history_minute_ms);
  std::vector<std::int64_t> ids;
  {
    auto stmt = db_.cached("SELECT id, labels FROM series WHERE name = ?1 AND "
                           "(?2 IS NULL OR labels = ?2) ORDER BY labels");
    stmt->bind(1, request.name).bind(2, request.labels);
    while (stmt->step()) {
      history_result r;
      r.name = request.name;
      r.labels = stmt->column_text(1);
      r.tier = raw ? "raw" : "1m";
      results.push_back(std::move(r));
      ids.push_back(stmt->column_int64(0));
    }
  }
  // Columns: bucket start, avg, min, max. The 1m tier covers minutes before the watermark;
  // raw rows after it fill the newest minutes not downsampled yet.
  constexpr std::string_view raw_sql =
      "SELECT ?2 + ((ts - ?2) / ?4) * ?4 AS b, avg(value), min(value), max(value) "
      "FROM samples_raw WHERE series_id = ?1 AND ts >= ?2 AND ts < ?3 GROUP BY b ORDER BY b";
  constexpr std::string_view tier_sql =
      "SELECT b, sum(s) / sum(c), min(lo), max(hi) FROM ("
      "SELECT ?2 + ((minute_ts - ?2) / ?4) * ?4 AS b, avg * count AS s, count AS c, min AS lo, "
      "max AS hi FROM samples_1m WHERE series_id = ?1 AND minute_ts >= ?2 AND minute_ts < "
      "min(?3, ?5) "
      "UNION ALL SELECT ?2 + ((ts - ?2) / ?4) * ?4, value, 1, value, value FROM samples_raw "
      "WHERE series_id = ?1 AND ts >= max(?2, ?5) AND ts < ?3) GROUP BY b ORDER BY b";
  int column = request.aggregate == history_aggregate::avg   ? 1
               : request.aggregate == history_aggregate::min ? 2
                                                             : 3;
  for (std::size_t i = 0; i < results.size(); ++i) {
    auto& r = results[i];
    auto stmt = db_.cached(raw ? raw_sql : tier_sql);
    stmt->bind(1, ids[i]).bind(2, request.from_ms).bind(3, request.to_ms).bind(4, step);
    if (!raw)
      stmt->bind(5, downsampled_until_);
    while (stmt->step()) {
      r.points.emplace_back(stmt->column_int64(0), stmt->column_double(column));
      r.buckets.push_back({stmt->column_int64(0), stmt->column_double(1), stmt->column_double(2),
                           stmt->column_double(3)});
    }
  }
  return results;
}

std::vector<std::string> history_store::metric_names() {
  auto stmt = db_.cached("SELECT DISTINCT name FROM series ORDER BY name");
  std::vector<std::string> names;
  while (stmt->step())
    names.push_back(stmt->column_text(0));
  return names;
}

history_stats history_store::stats() {
  history_stats s;
  s.series = count_rows(db_, "SELECT count(*) FROM series");
  s.raw_rows = count_rows(db_, "SELECT count(*) FROM samples_raw");
  s.minute_rows = count_rows(db_, "SELECT count(*) FROM samples_1m");
  s.alerts = count_rows(db_, "SELECT count(*) FROM alerts");
  s.persistent_users = count_rows(db_, "SELECT count(*) FROM persistent_users");
  s.used_bytes = used_bytes();
  std::error_code ec;
  auto main_size = std::filesystem::file_size(db_.path(), ec);
  if (!ec)
    s.file_bytes += main_size;
  auto wal_size = std::filesystem::file_size(db_.path().string() + "-wal", ec);
  if (!ec)
    s.file_bytes += wal_size;
  s.downsampled_until_ms = downsampled_until_;
  return s;
}

// ---------------------------------------------------------------------------------------------
// alerts and persistent users

void history_store::upsert_alert(const stored_alert& a) {
  auto stmt = db_.cached("INSERT OR REPLACE INTO alerts(" + std::string{alert_columns} +
                         ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, "
                         "?15, ?16, ?17, ?18)");
  stmt->bind(1, a.id)
      .bind(2, a.rule_id)
      .bind(3, a.severity)
      .bind(4, a.state)
      .bind(5, a.started_at_ms)
      .bind(6, a.resolved_at_ms)
      .bind(7, a.acknowledged_at_ms)
      .bind(8, a.silenced_until_ms)
      .bind(9, a.message)
      .bind(10, a.value)
      .bind(11, a.threshold)
      .bind(12, a.subject)
      .bind(13, a.cause)
      .bind(14, a.peak)
      .bind(15, a.notified_at_ms)
      .bind(16, a.resolved_by)
      .bind(17, a.acknowledged_by)
      .bind(18, a.suppressed_reason)
      .run();
}

std::optional<stored_alert> history_store::load_alert(std::string_view id) {
  auto stmt = db_.cached("SELECT " + std::string{alert_columns} + " FROM alerts WHERE id = ?1");
  stmt->bind(1, id);
  if (!stmt->step())
    return std::nullopt;
  return read_alert(*stmt);
}

std::vector<stored_alert> history_store::list_alerts(std::optional<std::string> state,
                                                     std::size_t limit) {
  auto stmt = db_.cached("SELECT " + std::string{alert_columns} +
                         " FROM alerts WHERE (?1 IS NULL OR state = ?1) "
                         "ORDER BY started_at DESC, id LIMIT ?2");
  auto n = limit > static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max())
               ? std::numeric_limits<std::int64_t>::max()
               : static_cast<std::int64_t>(limit);
  stmt->bind(1, state).bind(2, n);
  std::vector<stored_alert> alerts;
  while (stmt->step())
    alerts.push_back(read_alert(*stmt));
  return alerts;
}

bool history_store::remove_alert(std::string_view id) {
  auto stmt = db_.cached("DELETE FROM alerts WHERE id = ?1");
  stmt->bind(1, id).run();
  return stmt->changes() > 0;
}

std::vector<history_store::last_notification> history_store::last_notifications() {
  auto stmt = db_.cached("SELECT rule_id, subject, max(notified_at) FROM alerts "
                         "WHERE notified_at IS NOT NULL GROUP BY rule_id, subject");
  std::vector<last_notification> out;
  while (stmt->step())
    out.push_back({stmt->column_text(0), stmt->column_text(1), stmt->column_int64(2)});
  return out;
}

void history_store::upsert_silence(const stored_silence& x) {
  auto stmt = db_.cached("INSERT OR REPLACE INTO alert_silences(rule_id, until_ms, by) "
                         "VALUES(?1, ?2, ?3)");
  stmt->bind(1, x.rule_id).bind(2, x.until_ms).bind(3, x.by).run();
}

bool history_store::remove_silence(std::string_view rule_id) {
  auto stmt = db_.cached("DELETE FROM alert_silences WHERE rule_id = ?1");
  stmt->bind(1, rule_id).run();
  return stmt->changes() > 0;
}

std::vector<stored_silence> history_store::list_silences() {
  auto stmt = db_.cached("SELECT rule_id, until_ms, by FROM alert_silences ORDER BY rule_id");
  std::vector<stored_silence> out;
  while (stmt->step())
    out.push_back({stmt->column_text(0), stmt->column_int64(1), stmt->column_text(2)});
  return out;
}

void history_store::append_audit(const audit_record& r) {
  auto stmt = db_.cached("INSERT INTO audit_log(at, client, principal, action, detail, status) "
                         "VALUES(?1, ?2, ?3, ?4, ?5, ?6)");
  stmt->bind(1, r.at_ms)
      .bind(2, r.client)
      .bind(3, r.principal)
      .bind(4, r.action)
      .bind(5, r.detail)
      .bind(6, static_cast<std::int64_t>(r.status))
      .run();
}

std::vector<audit_record> history_store::list_audit(std::int64_t since_ms, std::size_t limit) {
  auto stmt = db_.cached("SELECT at, client, principal, action, detail, status FROM audit_log "
                         "WHERE at >= ?1 ORDER BY id DESC LIMIT ?2");
  stmt->bind(1, since_ms).bind(2, static_cast<std::int64_t>(std::min<std::size_t>(limit, 100000)));
  std::vector<audit_record> out;
  while (stmt->step())
    out.push_back({stmt->column_int64(0), stmt->column_text(1), stmt->column_text(2),
                   stmt->column_text(3), stmt->column_text(4),
                   static_cast<int>(stmt->column_int64(5))});
  return out;
}

void history_store::upsert_persistent_user(const persistent_user& u) {
  auto stmt = db_.cached(
      "INSERT OR REPLACE INTO persistent_users(user, above_since_ms, last_seen_ms, metric, "
      "peak_percent, sum_percent, samples) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  stmt->bind(1, u.user)
      .bind(2, u.above_since_ms)
      .bind(3, u.last_seen_ms)
      .bind(4, u.metric)
      .bind(5, u.peak_percent)
      .bind(6, u.sum_percent)
      .bind(7, static_cast<std::int64_t>(u.samples))
      .run();
}

std::vector<persistent_user> history_store::load_persistent_users() {
  auto stmt = db_.cached("SELECT user, above_since_ms, last_seen_ms, metric, peak_percent, "
                         "sum_percent, samples FROM persistent_users ORDER BY user, metric");
  std::vector<persistent_user> users;
  while (stmt->step())
    users.push_back({stmt->column_text(0), stmt->column_int64(1), stmt->column_int64(2),
                     stmt->column_text(3), stmt->column_double(4), stmt->column_double(5),
                     static_cast<std::uint32_t>(stmt->column_int64(6))});
  return users;
}

void history_store::replace_persistent_users(const std::vector<persistent_user>& users) {
  sqlite_transaction tx(db_);
  db_.cached("DELETE FROM persistent_users")->run();
  for (const auto& u : users)
    upsert_persistent_user(u);
  tx.commit();
}

bool history_store::remove_persistent_user(std::string_view user) {
  auto stmt = db_.cached("DELETE FROM persistent_users WHERE user = ?1");
  stmt->bind(1, user).run();
  return stmt->changes() > 0;
}

} // namespace vigil
