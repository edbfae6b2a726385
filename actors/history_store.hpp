#pragma once

// The local telemetry history: owns history.db (SQLite, WAL, synchronous=NORMAL) on its own
// thread — a database separate from the outbox's state.db, so telemetry writes never delay
// log commits. Collectors send metric samples fire-and-forget; they are collected in memory
// and written in one transaction per flush (history.flush_interval, or sooner once
// history.flush_max_points values are pending), and on a normal exit. Every minute it
// downsamples completed minutes into the 1-minute tier, applies the retentions and keeps the
// pages in use within history.max_bytes.

#include "messages/history.hpp"
#include "messages/settings.hpp"

#include <caf/actor_cast.hpp>
#include <caf/actor_registry.hpp>
#include <caf/actor_system.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace vigil {

class sqlite_database;
class history_store;

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
  static inline const char* name = "history";
};

/// The running history actor (registered as "history" by the agent); null while it restarts.
inline history_actor find_history(caf::actor_system& sys) {
  return caf::actor_cast<history_actor>(sys.registry().get(caf::atom("history")));
}

/// Spawn detached: SQLite calls block. Opens `state_dir/history.db`.
history_actor::behavior_type history(history_actor::stateful_pointer<history_state> self,
                                     settings_ptr current);

/// The same with an injected clock (tests).
history_actor::behavior_type history_with_clock(history_actor::stateful_pointer<history_state> self,
                                                settings_ptr current, history_clock now);

} // namespace vigil
