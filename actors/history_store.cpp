#include "actors/history_store.hpp"

#include "actors/telemetry_hub.hpp"
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
// How often to look for the telemetry hub while there is none (at start, during its restart).
constexpr auto hub_lookup_interval = 500ms;
// A saved user-pressure run is one run with the current one only if the agent was not down
// longer than this (or 3 × telemetry.slow_interval, if longer): a restart, not a night off.
constexpr std::chrono::milliseconds min_restore_gap = 5min;

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
    written = st.store->append_all(st.pending);
  } catch (const std::exception& e) {
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

void queue_sample(history_pointer self, metric_sample sample) {
  auto& st = self->state;
  ++st.counters.samples;
  st.counters.pending_points += sample.points.size();
  st.pending.push_back(std::move(sample));
}

void flush_when_due(history_pointer self) {
  auto& st = self->state;
  if (st.counters.pending_points >= st.current->history.flush_max_points)
    flush(self);
  else if (!st.pending.empty())
    arm_flush(self);
}

wall_time from_ms(int64_t ms) {
  return wall_time{std::chrono::milliseconds{ms}};
}

// The hub's runs as rows of persistent_users; written only when they changed.
void save_user_pressure(history_pointer self, const std::vector<user_pressure_entry>& runs) {
  auto& st = self->state;
  std::vector<persistent_user> users;
  users.reserve(runs.size());
  for (const auto& r : runs)
    users.push_back({r.user, to_millis(r.since), to_millis(r.last_seen), r.metric, r.peak_percent,
                     r.sum_percent, r.samples});
  if (users == st.saved_users)
    return;
  try {
    st.store->replace_persistent_users(users);
    st.saved_users = std::move(users);
  } catch (const std::exception& e) {
    record_error(self, "saving user pressure", e);
  }
}

void schedule_hub_lookup(history_pointer self, std::chrono::milliseconds delay) {
  auto& st = self->state;
  if (st.subscribe_armed)
    return;
  st.subscribe_armed = true;
  self->delayed_send(self, delay, atom::subscribe_v);
}

// Subscribes to the hub registered now, after handing it the saved user-pressure runs (same
// sender, same receiver: the hub applies them before it publishes to us).
void subscribe_to_hub(history_pointer self) {
  auto& st = self->state;
  st.subscribe_armed = false;
  if (st.hub)
    return;
  auto hub = find_telemetry_hub(self->home_system());
  if (!hub || hub.address() == st.dead_hub) { // none yet, or its restart is still pending
    schedule_hub_lookup(self, hub_lookup_interval);
    return;
  }
  std::vector<persistent_user> saved;
  try {
    saved = st.store->load_persistent_users();
  } catch (const std::exception& e) {
    record_error(self, "loading user pressure", e);
  }
  const auto& tel = st.current->telemetry;
  auto gap = std::max<std::chrono::milliseconds>(min_restore_gap, 3 * tel.slow_interval);
  auto restore = restorable_user_pressure(saved, st.now(), gap, tel.users.persistent_after);
  if (!restore.users.empty())
    spdlog::info("history: restoring {} user-pressure run(s) into the telemetry hub",
                 restore.users.size());
  st.saved_users = std::move(saved);
  self->monitor(hub);
  self->send(hub, atom::restore_v, std::move(restore));
  self->send(hub, atom::subscribe_v, caf::actor_cast<caf::actor>(self));
  st.hub = hub.address();
  st.counters.hub_subscribed = true;
  ++st.counters.hub_subscriptions;
}

stored_alert to_stored(const alert_record& a) {
  stored_alert s;
  s.id = a.id;
  s.rule_id = a.rule_id;
  s.severity = a.severity;
  s.state = a.state;
  s.started_at_ms = a.started_ms;
  if (a.resolved_ms != 0)
    s.resolved_at_ms = a.resolved_ms;
  if (a.notified_ms != 0)
    s.notified_at_ms = a.notified_ms;
  s.message = a.title;
  s.value = a.value;
  s.threshold = a.threshold;
  s.subject = a.subject;
  s.cause = a.cause;
  s.peak = a.peak;
  s.resolved_by = a.resolved_by;
  s.acknowledged_by = a.acknowledged_by;
  s.suppressed_reason = a.suppressed_reason;
  return s;
}

alert_record from_stored(stored_alert s) {
  alert_record a;
  a.id = std::move(s.id);
  a.rule_id = std::move(s.rule_id);
  a.subject = std::move(s.subject);
  a.severity = std::move(s.severity);
  a.state = std::move(s.state);
  a.title = std::move(s.message);
  a.cause = std::move(s.cause);
  a.value = s.value;
  a.peak = s.peak;
  a.threshold = s.threshold;
  a.started_ms = s.started_at_ms;
  a.resolved_ms = s.resolved_at_ms.value_or(0);
  a.notified_ms = s.notified_at_ms.value_or(0);
  a.resolved_by = std::move(s.resolved_by);
  a.acknowledged_by = std::move(s.acknowledged_by);
  a.suppressed_reason = std::move(s.suppressed_reason);
  return a;
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

user_pressure_state restorable_user_pressure(const std::vector<persistent_user>& saved,
                                             int64_t now_ms, std::chrono::milliseconds max_gap,
                                             std::chrono::milliseconds persistent_after) {
  user_pressure_state out;
  for (const auto& u : saved) {
    if (now_ms - u.last_seen_ms > max_gap.count())
      continue;
    user_pressure_entry e;
    e.user = u.user;
    e.metric = u.metric;
    e.since = from_ms(u.above_since_ms);
    e.last_seen = from_ms(u.last_seen_ms);
    e.peak_percent = u.peak_percent;
    e.sum_percent = u.sum_percent;
    e.samples = u.samples;
    e.persistent = e.last_seen - e.since >= persistent_after;
    out.users.push_back(std::move(e));
  }
  return out;
}

history_actor::behavior_type history(history_actor::stateful_pointer<history_state> self,
                                     settings_ptr current) {
  return history_with_clock(self, std::move(current),
                            [] { return to_millis(std::chrono::system_clock::now()); });
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
  self->set_down_handler([=](const caf::down_msg& dm) {
    auto& st = self->state;
    if (dm.source != st.hub)
      return;
    // The supervisor restarts the hub and registers the new one: subscribe to that.
    st.dead_hub = st.hub;
    st.hub = nullptr;
    st.counters.hub_subscribed = false;
    st.cursor = {};
    schedule_hub_lookup(self, hub_lookup_interval);
  });
  self->delayed_send(self, maintenance_interval, atom::tick_v);
  subscribe_to_hub(self);
  spdlog::info("history: telemetry history {}", path);
  return {
      [=](atom::ingest, metric_sample& sample) {
        queue_sample(self, std::move(sample));
        flush_when_due(self);
      },
      [=](atom::publish, const telemetry_snapshot_ptr& snapshot) {
        auto& st = self->state;
        if (!snapshot)
          return;
        ++st.counters.snapshots;
        for (auto& sample : telemetry_metric_samples(*snapshot, st.cursor))
          queue_sample(self, std::move(sample));
        flush_when_due(self);
        save_user_pressure(self, snapshot->user_pressure);
      },
      [=](atom::query) -> caf::result<std::vector<std::string>> {
        flush(self); // names of samples received before the question too
        try {
          return self->state.store->metric_names();
        } catch (const std::exception& e) {
          record_error(self, "listing metrics", e);
          return caf::make_error(errc::storage_failed, e.what());
        }
      },
      [=](atom::subscribe) { subscribe_to_hub(self); },
      [=](atom::audit, const audit_entry& e) {
        try {
          self->state.store->append_audit(
              {e.at_ms, e.client, e.principal, e.action, e.detail, e.status});
        } catch (const std::exception& ex) {
          record_error(self, "writing the audit log", ex);
        }
      },
      [=](atom::query, const audit_query& q) -> caf::result<std::vector<audit_entry>> {
        try {
          std::vector<audit_entry> out;
          for (auto& r : self->state.store->list_audit(q.since_ms, q.limit))
            out.push_back({r.at_ms, std::move(r.client), std::move(r.principal),
                           std::move(r.action), std::move(r.detail), r.status});
          return out;
        } catch (const std::exception& ex) {
          record_error(self, "reading the audit log", ex);
          return caf::make_error(errc::storage_failed, ex.what());
        }
      },
      [=](atom::append, const alert_record& a) -> caf::result<bool> {
        try {
          self->state.store->upsert_alert(to_stored(a));
          return true;
        } catch (const std::exception& ex) {
          record_error(self, "writing an alert", ex);
          return caf::make_error(errc::storage_failed, ex.what());
        }
      },
      [=](atom::silence, const alert_silence& x) {
        try {
          if (x.until_ms == 0)
            self->state.store->remove_silence(x.rule_id);
          else
            self->state.store->upsert_silence({x.rule_id, x.until_ms, x.by});
        } catch (const std::exception& ex) {
          record_error(self, "writing a silence", ex);
        }
      },
      [=](atom::query, const alert_query& q) -> caf::result<std::vector<alert_record>> {
        try {
          std::vector<alert_record> out;
          auto state = q.state.empty() ? std::nullopt : std::optional<std::string>{q.state};
          for (auto& a : self->state.store->list_alerts(state, q.limit))
            out.push_back(from_stored(std::move(a)));
          return out;
        } catch (const std::exception& ex) {
          record_error(self, "reading alerts", ex);
          return caf::make_error(errc::storage_failed, ex.what());
        }
      },
      [=](atom::restore) -> caf::result<alert_book> {
        try {
          auto& store = *self->state.store;
          alert_book book;
          for (auto& a : store.list_alerts("firing", SIZE_MAX))
            book.firing.push_back(from_stored(std::move(a)));
          for (auto& x : store.list_silences())
            book.silences.push_back({x.rule_id, x.until_ms, x.by});
          for (auto& n : store.last_notifications())
            book.last_notified.emplace_back(n.rule_id + '\x1f' + n.subject, n.at_ms);
          return book;
        } catch (const std::exception& ex) {
          record_error(self, "reading alerts", ex);
          return caf::make_error(errc::storage_failed, ex.what());
        }
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
          for (auto& x : st.store->query(r, st.now())) {
            history_series series{
                std::move(x.name), std::move(x.labels), std::move(x.tier), std::move(x.points), {}};
            series.buckets.reserve(x.buckets.size());
            for (const auto& b : x.buckets)
              series.buckets.emplace_back(b.start_ms, b.avg, b.min, b.max);
            out.push_back(std::move(series));
          }
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
