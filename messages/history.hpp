#pragma once

// The local telemetry history: what collectors hand to it (metric samples) and what the
// API and `vigil report` ask of it (a metric over a time range, bucketed by a step).

#include "messages/alerts.hpp"
#include "messages/atoms.hpp"
#include "messages/supervision.hpp"
#include "messages/telemetry.hpp"

#include <caf/meta/type_name.hpp>
#include <caf/optional.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <cstdint>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace vigil {

/// One value of one series. `labels` is the series' label set as one canonical string,
/// e.g. "mount=/" or "device=sda,mount=/boot" (keys sorted), "" for none: series are told
/// apart by the exact string.
struct metric_point {
  std::string name;
  std::string labels;
  double value = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, metric_point& x) {
  return f(caf::meta::type_name("metric_point"), x.name, x.labels, x.value);
}

/// Values taken at one instant (ms since the Unix epoch, UTC).
struct metric_sample {
  int64_t timestamp_ms = 0;
  std::vector<metric_point> points;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, metric_sample& x) {
  return f(caf::meta::type_name("metric_sample"), x.timestamp_ms, x.points);
}

/// A metric over [from_ms, to_ms), in buckets of step_ms starting at from_ms (each reported
/// at its start). step_ms <= 0: the stored resolution. Raw values answer when the range is
/// within history.raw_retention and the step is below a minute; else the 1-minute tier
/// (plus the raw values of the newest minutes not aggregated yet).
struct history_query {
  std::string name;
  caf::optional<std::string> labels; // none: every label set of the metric
  int64_t from_ms = 0;
  int64_t to_ms = 0;
  int64_t step_ms = 0;
  std::string aggregate = "avg"; // of the values in a bucket: "avg", "min" or "max"
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, history_query& x) {
  return f(caf::meta::type_name("history_query"), x.name, x.labels, x.from_ms, x.to_ms, x.step_ms,
           x.aggregate);
}

/// One label set of the queried metric: (bucket start ms, value) in time order; buckets
/// without values are left out.
struct history_series {
  std::string name;
  std::string labels;
  std::string tier; // "raw" or "1m"
  std::vector<std::pair<int64_t, double>> points;
  // The same buckets with every aggregate: (bucket start ms, avg, min, max).
  std::vector<std::tuple<int64_t, double, double, double>> buckets;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, history_series& x) {
  return f(caf::meta::type_name("history_series"), x.name, x.labels, x.tier, x.points, x.buckets);
}

/// Counters of the history actor and the size of its database, for /status.
struct history_status {
  uint64_t samples = 0;        // metric samples received
  uint64_t points = 0;         // values written
  uint64_t skipped_points = 0; // non-finite values (not stored)
  uint64_t pending_points = 0; // received, waiting for the next flush
  uint64_t dropped_points = 0; // pending values dropped while the database failed (memory bound)
  uint64_t transactions = 0;   // flushes: one transaction each, however many samples
  uint64_t downsampled_rows = 0;
  uint64_t pruned_raw_rows = 0; // by retention
  uint64_t pruned_minute_rows = 0;
  uint64_t evicted_raw_rows = 0; // by history.max_bytes
  uint64_t evicted_minute_rows = 0;
  int64_t last_flush_ms = 0;
  int64_t last_prune_ms = 0;
  int64_t downsampled_until_ms = 0;
  uint64_t series = 0;
  uint64_t raw_rows = 0;
  uint64_t minute_rows = 0;
  uint64_t used_bytes = 0; // pages in use, what max_bytes bounds
  uint64_t file_bytes = 0; // history.db and its WAL on disk
  uint64_t max_bytes = 0;
  uint64_t errors = 0;
  std::string last_error;
  uint64_t snapshots = 0;      // telemetry snapshots received from the hub
  bool hub_subscribed = false; // subscribed to the current telemetry hub
  uint64_t hub_subscriptions = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, history_status& x) {
  return f(caf::meta::type_name("history_status"), x.samples, x.points, x.skipped_points,
           x.pending_points, x.dropped_points, x.transactions, x.downsampled_rows,
           x.pruned_raw_rows, x.pruned_minute_rows, x.evicted_raw_rows, x.evicted_minute_rows,
           x.last_flush_ms, x.last_prune_ms, x.downsampled_until_ms, x.series, x.raw_rows,
           x.minute_rows, x.used_bytes, x.file_bytes, x.max_bytes, x.errors, x.last_error,
           x.snapshots, x.hub_subscribed, x.hub_subscriptions);
}

/// One control action of the API, for the audit log (docs/api.md "Audit log").
struct audit_entry {
  int64_t at_ms = 0;     // ms since the Unix epoch
  std::string client;    // peer address
  std::string principal; // the token's name, or "anonymous" (loopback without tokens)
  std::string action;    // "POST /control"
  std::string detail;    // the request body, shortened
  int32_t status = 0;    // the HTTP status answered
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, audit_entry& x) {
  return f(caf::meta::type_name("audit_entry"), x.at_ms, x.client, x.principal, x.action, x.detail,
           x.status);
}

/// The newest `limit` audit entries at or after since_ms, newest first.
struct audit_query {
  int64_t since_ms = 0;
  uint32_t limit = 100;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, audit_query& x) {
  return f(caf::meta::type_name("audit_query"), x.since_ms, x.limit);
}

using history_actor = caf::typed_actor<
    // Fire and forget: collected in memory, written in one transaction per flush
    // (history.flush_interval, or sooner once history.flush_max_points are pending).
    caf::reacts_to<atom::ingest, metric_sample>,
    // A telemetry snapshot from the hub (the history subscribes to the hub registered as
    // "telemetry"): flattened into metric samples (actors/telemetry_samples) and its users'
    // pressure runs saved for the next start.
    caf::reacts_to<atom::publish, telemetry_snapshot_ptr>,
    // Flushes what is pending first, so a query sees every sample received before it.
    // Errors: sec::invalid_argument (unknown aggregate), errc::storage_failed.
    caf::replies_to<atom::query, history_query>::with<std::vector<history_series>>,
    // The metric names stored, sorted.
    caf::replies_to<atom::query>::with<std::vector<std::string>>,
    caf::replies_to<atom::status>::with<history_status>,
    // Written at once (control actions are rare); a write that fails is logged and counted.
    caf::reacts_to<atom::audit, audit_entry>,
    caf::replies_to<atom::query, audit_query>::with<std::vector<audit_entry>>,
    // The alert manager's records: an alert (upsert by id; the reply says it is stored,
    // errc::storage_failed otherwise), a silence (until_ms 0 lifts it); written at once.
    caf::replies_to<atom::append, alert_record>::with<bool>,
    caf::reacts_to<atom::silence, alert_silence>,
    caf::replies_to<atom::query, alert_query>::with<std::vector<alert_record>>,
    // Firing alerts, silences and last notifications, for the alert manager's start.
    caf::replies_to<atom::restore>::with<alert_book>,
    // INTERNAL: look for the current telemetry hub and subscribe to it.
    caf::reacts_to<atom::subscribe>,
    // Write what is pending now.
    caf::reacts_to<atom::flush>,
    // INTERNAL: the flush timer of one generation (a stale timer does nothing).
    caf::reacts_to<atom::flush, uint64_t>,
    // INTERNAL (and tests): flush, downsample complete minutes, apply retention and
    // max_bytes. Runs every minute.
    caf::reacts_to<atom::tick>, configurable>;

} // namespace vigil
