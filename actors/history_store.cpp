#include "actors/history_store.hpp"

#include "io/sqlite/history_store.hpp"
#include "io/sqlite/sqlite_database.hpp"
#include "messages/errors.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <chrono>

namespace vigil {

namespace {

using namespace std::chrono_literals;
using history_pointer = history_actor::stateful_pointer<history_state>;

constexpr auto maintenance_interval = 1min;

history_retention retention_of(const settings& s) {
  return {s.history.raw_retention, std::chrono::hours{24} * s.history.retention_days,
          s.history.max_bytes};
}

// Values kept in memory while the database fails, before the oldest samples are dropped.
uint64_t max_pending_points(const settings& s) {
  return std::max<uint64_t>(uint64_t{s.history.flush_max_points} * 20, 10'000);
}

void record_error(history_pointer self, const char* what, const std::exception& e) {
  auto& c = self->state.counters;
  ++c.errors;
  c.last_error = e.what();
  spdlog::error("history: {} failed: {}", what, e.what());
}

// Drops the oldest pending samples beyond the memory bound (only grows while flushes fail).
void bound_pending(history_pointer self) {
  auto& st = self->state;
  auto limit = max_pending_points(*st.current);
  size_t drop = 0;
  while (st.counters.pending_points > limit && drop < st.pending.size()) {
    auto n = st.pending[drop].points.size();
    st.counters.pending_points -= n;
    st.counters.dropped_points += n;
    ++drop;
  }
  if (drop > 0)
    st.pending.erase(st.pending.begin(), st.pending.begin() + static_cast<std::ptrdiff_t>(drop));
}

void arm_flush(history_pointer self) {
  auto& st = self->state;
  if (st.flush_armed)
    return;
  st.flush_armed = true;
  self->delayed_send(self, st.current->history.flush_interval, atom::flush_v, st.flush_generation);
}

// Writes every pending sample in one transaction. On failure the samples stay pending
// (bounded) and the flush is retried after flush_interval.
void flush(history_pointer self) {
  auto& st = self->state;
  ++st.flush_generation; // any armed timer is now stale
  st.flush_armed = false;
  if (st.pending.empty())
    return;
  uint64_t written = 0;
  try {
    sqlite_transaction tx{*st.db};
    for (const auto& sample : st.pending)
      for (const auto& p : sample.points)
        written += st.store->append(sample.timestamp_ms, p.name, p.labels, p.value) ? 1 : 0;
    tx.commit();
  } catch (const std::exception& e) {
    st.store->forget_series_cache();
    record_error(self, "writing samples", e);
    bound_pending(self);
    arm_flush(self);
    return;
  }
  auto& c = st.counters;
  ++c.transactions;
  c.points += written;
  c.skipped_points += c.pending_points - written;
  c.pending_points = 0;
  c.last_flush_ms = st.now();
  st.pending.clear();
}

void maintain(history_pointer self) {
  auto& st = self->state;
  auto& c = st.counters;
  flush(self);
  auto now = st.now();
  try {
    c.downsampled_rows += st.store->downsample(now);
    auto pruned = st.store->prune(now);
    c.pruned_raw_rows += pruned.raw_rows;
    c.pruned_minute_rows += pruned.minute_rows;
    auto evicted = st.store->enforce_bound();
    c.evicted_raw_rows += evicted.raw_rows;
    c.evicted_minute_rows += evicted.minute_rows;
    if (evicted.raw_rows + evicted.minute_rows > 0)
      spdlog::warn("history: over history.max_bytes, dropped the oldest {} raw and {} minute rows",
                   evicted.raw_rows, evicted.minute_rows);
    c.last_prune_ms = now;
  } catch (const std::exception& e) {
    record_error(self, "maintenance", e);
  }
}

caf::expected<history_aggregate> parse_aggregate(const std::string& x) {
  if (x == "avg" || x.empty())
    return history_aggregate::avg;
  if (x == "min")
    return history_aggregate::min;
  if (x == "max")
    return history_aggregate::max;
  return caf::make_error(caf::sec::invalid_argument, "unknown aggregate '" + x + "'");
}

} // namespace

history_actor::behavior_type history(history_actor::stateful_pointer<history_state> self,
                                     settings_ptr current) {
  return history_with_clock(self, std::move(current), [] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  });
}

history_actor::behavior_type history_with_clock(history_actor::stateful_pointer<history_state> self,
                                                settings_ptr current, history_clock now) {
  auto& st = self->state;
  st.current = std::move(current);
  st.now = std::move(now);
  auto path = st.current->state_dir + "/history.db";
  // Losing the last second of telemetry on power loss is acceptable: no fsync per commit.
  // Exceptions here (unwritable state dir, corrupt file) crash the actor; its supervisor
  // retries with backoff and reports it.
  st.db = std::make_shared<sqlite_database>(path, sqlite_options{sqlite_sync::normal});
  st.store = std::make_shared<history_store>(*st.db, retention_of(*st.current));
  st.counters.max_bytes = st.current->history.max_bytes;
  self->set_exit_handler([=](caf::exit_msg& em) {
    flush(self); // samples received before the exit are written
    self->quit(em.reason);
  });
  self->delayed_send(self, maintenance_interval, atom::tick_v);
  spdlog::info("history: telemetry history {}", path);
  return {
      [=](atom::ingest, metric_sample& sample) {
        auto& st = self->state;
        ++st.counters.samples;
        st.counters.pending_points += sample.points.size();
        st.pending.push_back(std::move(sample));
        if (st.counters.pending_points >= st.current->history.flush_max_points)
          flush(self);
        else
          arm_flush(self);
      },
      [=](atom::query, const history_query& q) -> caf::result<std::vector<history_series>> {
        auto aggregate = parse_aggregate(q.aggregate);
        if (!aggregate)
          return std::move(aggregate.error());
        auto& st = self->state;
        flush(self);
        history_request r;
        r.name = q.name;
        if (q.labels)
          r.labels = *q.labels;
        r.from_ms = q.from_ms;
        r.to_ms = q.to_ms;
        r.step_ms = q.step_ms;
        r.aggregate = *aggregate;
        std::vector<history_series> out;
        try {
          for (auto& x : st.store->query(r, st.now()))
            out.push_back(
                {std::move(x.name), std::move(x.labels), std::move(x.tier), std::move(x.points)});
        } catch (const std::exception& e) {
          record_error(self, "query", e);
          return caf::make_error(errc::storage_failed, e.what());
        }
        return out;
      },
      [=](atom::status) -> history_status {
        auto& st = self->state;
        auto c = st.counters;
        try {
          auto s = st.store->stats();
          c.series = s.series;
          c.raw_rows = s.raw_rows;
          c.minute_rows = s.minute_rows;
          c.used_bytes = s.used_bytes;
          c.file_bytes = s.file_bytes;
          c.downsampled_until_ms = s.downsampled_until_ms;
        } catch (const std::exception& e) {
          c.last_error = e.what();
        }
        return c;
      },
      [=](atom::flush) { flush(self); },
      [=](atom::flush, uint64_t generation) {
        if (generation == self->state.flush_generation)
          flush(self);
      },
      [=](atom::tick) {
        maintain(self);
        // Only the timer's own tick re-arms it: a tick sent from outside adds no timer.
        if (self->current_sender() == self->ctrl())
          self->delayed_send(self, maintenance_interval, atom::tick_v);
      },
      [=](atom::configure, settings_ptr& s) {
        auto& st = self->state;
        st.current = std::move(s);
        st.store->set_retention(retention_of(*st.current));
        st.counters.max_bytes = st.current->history.max_bytes;
      },
  };
}

} // namespace vigil
