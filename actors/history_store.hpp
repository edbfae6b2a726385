#pragma once

// The local telemetry history: owns history.db (SQLite, WAL, synchronous=NORMAL) on its own
// thread — a database separate from the outbox's state.db, so telemetry writes never delay
// log commits. Samples (sent fire-and-forget, or flattened from the hub's snapshots) are
// collected in memory and written in one transaction per flush (history.flush_interval, or
// sooner once history.flush_max_points values are pending), and on a normal exit. Every
// minute it downsamples completed minutes into the 1-minute tier, applies the retentions and
// keeps the pages in use within history.max_bytes.
//
// Feed: it subscribes to the hub registered as "telemetry" and monitors it; when that hub
// dies it looks up the next incarnation in the registry (the registry always holds the
// current one), so a restart of either actor re-establishes the feed. Before subscribing to a
// hub it hands it the user-pressure runs saved in persistent_users (`restore`), and it saves
// the runs of every snapshot: an agent or hub restart keeps how long a user has been above
// a threshold.

#include "actors/telemetry_samples.hpp"
#include "io/sqlite/history_store.hpp"
#include "messages/history.hpp"
#include "messages/settings.hpp"

#include <caf/actor_cast.hpp>
#include <caf/actor_registry.hpp>
#include <caf/actor_system.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace vigil {

class sqlite_database;

/// Milliseconds since the Unix epoch; injected so tests control time.
using history_clock = std::function<int64_t()>;

struct history_state {
  settings_ptr current;
  history_clock now;
  std::shared_ptr<sqlite_database> db;
  std::shared_ptr<history_store> store;
  std::vector<metric_sample> pending; // received, written at the next flush
  uint64_t flush_generation = 0;      // a flush timer of an older generation does nothing
  bool flush_armed = false;
  history_status counters;
  caf::actor_addr hub;                      // the hub subscribed to; null: none
  caf::actor_addr dead_hub;                 // the last hub that went down (still registered?)
  bool subscribe_armed = false;             // a lookup of the hub is scheduled
  telemetry_sample_cursor cursor;           // sections already turned into samples
  std::vector<persistent_user> saved_users; // user-pressure runs last written
  static inline const char* name = "history";
};

/// The running history actor (registered as "history" by the agent); null while it restarts.
inline history_actor find_history(caf::actor_system& sys) {
  return caf::actor_cast<history_actor>(sys.registry().get(caf::atom("history")));
}

/// Spawn detached: SQLite calls block. Opens `state_dir/history.db`.
history_actor::behavior_type history(history_actor::stateful_pointer<history_state> self,
                                     settings_ptr current);

/// Saved user-pressure runs as the hub's restore state: runs last seen more than `max_gap`
/// before `now_ms` are left out (the agent was down too long to call it one run), and a run is
/// persistent when it lasted `persistent_after`.
user_pressure_state restorable_user_pressure(const std::vector<persistent_user>& saved,
                                             int64_t now_ms, std::chrono::milliseconds max_gap,
                                             std::chrono::milliseconds persistent_after);

/// The same with an injected clock (tests).
history_actor::behavior_type history_with_clock(history_actor::stateful_pointer<history_state> self,
                                                settings_ptr current, history_clock now);

} // namespace vigil
