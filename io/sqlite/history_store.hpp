#pragma once

// Local telemetry history in its own database (history.db, WAL), separate from the state
// database so that telemetry writes never delay log commits.
//
// Storage: `series` maps (name, labels) to a small integer id; `samples_raw` keeps every
// value for `retention.raw`; `samples_1m` keeps per-minute avg/min/max/count for
// `retention.minute`. Both sample tables are WITHOUT ROWID with the primary key
// (series_id, time), so a query by series and time range is one index range scan.
// Time is never read from a clock here: callers pass timestamps and `now`.
//
// Also holds the alerts table (filled by the alert rules) and the persistent-users table (the
// telemetry hub's user-pressure runs, saved by the history actor).

#include "io/sqlite/sqlite_database.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace vigil {

// The schema of history.db: its own migration list and PRAGMA user_version.
std::span<const sqlite_migration> history_schema_migrations();
void ensure_history_schema(sqlite_database& db);

constexpr std::int64_t history_minute_ms = 60'000;

// A value of a metric. `labels` is the series' label set in one canonical string
// ("mount=/", "device=sda,mount=/boot", or "" for none): series are told apart by the exact
// string, so producers must write labels in one order.
struct history_point {
  std::string name{};
  std::string labels{};
  double value = 0;
};

// Values taken at one instant (ms since the Unix epoch).
struct history_sample {
  std::int64_t timestamp_ms = 0;
  std::vector<history_point> points{};
};

struct history_retention {
  std::chrono::milliseconds raw{std::chrono::hours{24}};
  std::chrono::milliseconds minute{std::chrono::hours{24 * 30}};
  // Bound of the pages in use (page_count - freelist_count) * page_size; 0: unbounded.
  std::uint64_t max_bytes = 256ull * 1024 * 1024;
};

enum class history_aggregate { avg, min, max };

struct history_request {
  std::string name{};
  std::optional<std::string> labels{}; // nullopt: every label set of the metric
  std::int64_t from_ms = 0;            // inclusive
  std::int64_t to_ms = 0;              // exclusive
  // Bucket width: bucket i covers [from + i*step, from + (i+1)*step) and is reported at its
  // start. <= 0: the stored resolution (raw rows or minutes).
  std::int64_t step_ms = 0;
  history_aggregate aggregate = history_aggregate::avg;
};

// One bucket with all three aggregates of its values.
struct history_bucket {
  std::int64_t start_ms = 0;
  double avg = 0;
  double min = 0;
  double max = 0;

  bool operator==(const history_bucket&) const = default;
};

struct history_result {
  std::string name{};
  std::string labels{};
  std::string tier{};                                    // "raw" or "1m"
  std::vector<std::pair<std::int64_t, double>> points{}; // (bucket start ms, value), ascending
  std::vector<history_bucket> buckets{};                 // the same buckets, every aggregate
};

struct history_prune_result {
  std::uint64_t raw_rows = 0;
  std::uint64_t minute_rows = 0;
  std::uint64_t series = 0; // series left without any row
  std::uint64_t alerts = 0; // resolved alerts older than the minute retention
  std::uint64_t audit_records = 0;
};

struct history_evict_result {
  std::uint64_t raw_rows = 0;
  std::uint64_t minute_rows = 0;
  bool over_bound = false; // still above max_bytes (nothing left to evict)
};

struct history_stats {
  std::uint64_t series = 0;
  std::uint64_t raw_rows = 0;
  std::uint64_t minute_rows = 0;
  std::uint64_t alerts = 0;
  std::uint64_t persistent_users = 0;
  std::uint64_t used_bytes = 0; // pages in use: what max_bytes bounds
  std::uint64_t file_bytes = 0; // history.db plus its -wal file on disk
  std::int64_t downsampled_until_ms = 0;
};

// One control action of the API (docs/api.md "Audit log"). Kept as long as the minute tier,
// and at most audit_max_records of them.
struct audit_record {
  std::int64_t at_ms = 0;
  std::string client{};    // peer address
  std::string principal{}; // the token's name, or "anonymous" (loopback without tokens)
  std::string action{};    // "POST /control"
  std::string detail{};    // the request body, shortened
  int status = 0;          // the HTTP status answered
  bool operator==(const audit_record&) const = default;
};
constexpr std::size_t audit_max_records = 100000;

// One alert as the alert manager keeps it. Times are ms since the Unix epoch.
struct stored_alert {
  std::string id{};
  std::string rule_id{};
  std::string severity{};
  std::string state{}; // e.g. "firing", "resolved"
  std::int64_t started_at_ms = 0;
  std::optional<std::int64_t> resolved_at_ms{};
  std::optional<std::int64_t> acknowledged_at_ms{};
  std::optional<std::int64_t> silenced_until_ms{};
  std::string message{}; // the title
  double value = 0;
  double threshold = 0;
  std::string subject{};
  std::string cause{};
  double peak = 0;
  std::optional<std::int64_t> notified_at_ms{}; // the last notification
  std::string resolved_by{};
  std::string acknowledged_by{};
  std::string suppressed_reason{};

  bool operator==(const stored_alert&) const = default;
};

// A rule whose notifications are muted until until_ms.
struct stored_silence {
  std::string rule_id{};
  std::int64_t until_ms = 0;
  std::string by{};

  bool operator==(const stored_silence&) const = default;
};

// A user whose processes stay above a threshold (persistent-user detection): one run per
// (user, metric), as the telemetry hub tracks it, so that a restart keeps its start.
struct persistent_user {
  std::string user{};
  std::int64_t above_since_ms = 0;
  std::int64_t last_seen_ms = 0;
  std::string metric{};
  double peak_percent = 0;
  double sum_percent = 0; // of the samples, for the average
  std::uint32_t samples = 0;

  bool operator==(const persistent_user&) const = default;
};

// Not thread-safe: one owner (the history actor's thread).
class history_store {
public:
  explicit history_store(sqlite_database& db, history_retention retention = {});

  const history_retention& retention() const noexcept { return retention_; }
  void set_retention(history_retention retention) noexcept { retention_ = retention; }

  // Stores one raw value; a second value for the same series and millisecond replaces the
  // first. Joins the caller's transaction: call it inside one sqlite_transaction per batch,
  // and forget_series_cache() when that transaction fails. Non-finite values are skipped
  // (false): SQLite would store NaN as NULL.
  bool append(std::int64_t timestamp_ms, std::string_view name, std::string_view labels,
              double value);

  // Every point of every sample in one transaction. Works with any sample type shaped like
  // history_sample ({timestamp_ms, points{name, labels, value}}). Returns the points written.
  template <class Samples>
  std::size_t append_all(const Samples& samples) {
    std::size_t written = 0;
    try {
      sqlite_transaction tx(db_);
      for (const auto& s : samples)
        for (const auto& p : s.points)
          written += append(s.timestamp_ms, p.name, p.labels, p.value) ? 1 : 0;
      tx.commit();
    } catch (...) {
      forget_series_cache();
      throw;
    }
    return written;
  }

  // Series ids cached since the last transaction may have been rolled back with it.
  void forget_series_cache() noexcept { series_ids_.clear(); }

  // Aggregates every complete minute before floor_minute(until_ms) not aggregated yet (and
  // minutes that received late values since) into samples_1m. Idempotent. Returns the rows
  // written.
  std::uint64_t downsample(std::int64_t until_ms);

  // Deletes raw rows older than now - retention.raw (never rows not downsampled yet), minute
  // rows older than now - retention.minute, resolved alerts older than that too, and series
  // left without rows.
  history_prune_result prune(std::int64_t now_ms);

  // While the pages in use exceed retention.max_bytes: deletes the oldest raw rows, then the
  // oldest minute rows, until 90 % of the bound is reached.
  history_evict_result enforce_bound();

  std::vector<history_result> query(const history_request& request, std::int64_t now_ms);

  // Distinct metric names of the stored series, sorted.
  std::vector<std::string> metric_names();

  history_stats stats();
  std::uint64_t used_bytes();

  // Alerts: upsert by id; newest first; `state` filters when given.
  void upsert_alert(const stored_alert& alert);
  std::optional<stored_alert> load_alert(std::string_view id);
  std::vector<stored_alert> list_alerts(std::optional<std::string> state = std::nullopt,
                                        std::size_t limit = 1000);
  bool remove_alert(std::string_view id);
  // The latest notification per rule and subject (cooldowns across restarts).
  struct last_notification {
    std::string rule_id;
    std::string subject;
    std::int64_t at_ms = 0;
  };
  std::vector<last_notification> last_notifications();

  // Silences by rule: upsert, remove, all (by rule id).
  void upsert_silence(const stored_silence& silence);
  bool remove_silence(std::string_view rule_id);
  std::vector<stored_silence> list_silences();

  void append_audit(const audit_record& record);
  // Newest first: at most `limit` (≤ 100,000) records at or after since_ms.
  std::vector<audit_record> list_audit(std::int64_t since_ms, std::size_t limit);

  void upsert_persistent_user(const persistent_user& user);
  // Ordered by user, then metric.
  std::vector<persistent_user> load_persistent_users();
  // Every run of the user (all metrics).
  bool remove_persistent_user(std::string_view user);
  // The table becomes exactly `users`, in one transaction.
  void replace_persistent_users(const std::vector<persistent_user>& users);

private:
  std::int64_t series_id(std::string_view name, std::string_view labels);
  void save_watermark(std::int64_t until_ms);

  sqlite_database& db_;
  history_retention retention_;
  std::unordered_map<std::string, std::int64_t> series_ids_; // name '\x1f' labels -> id
  std::int64_t downsampled_until_ = 0;      // minutes before this are in samples_1m
  std::optional<std::int64_t> late_from_{}; // earliest minute that got values after downsampling
  std::int64_t raw_complete_from_ = 0;      // raw rows before this may have been deleted
};

} // namespace vigil
