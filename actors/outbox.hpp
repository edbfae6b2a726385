#pragma once

// The outbox: owns the state database (SQLite, WAL) on its own thread. Log sources
// hand it batches; it commits each batch's events — into the local event store and,
// when a broker is configured, into the durable "logs" stream — together with the
// source's new file position, in one transaction. Batches that arrive close together
// share one commit (group commit), so an fsync is paid per commit, not per file.
// Records leave the stream only when the publisher reports the broker's confirm.

#include "messages/errors.hpp"
#include "messages/log_pipeline.hpp"

#include <caf/actor_cast.hpp>
#include <caf/actor_registry.hpp>
#include <caf/actor_system.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace vigil {

class sqlite_database;
class outbox_store;
class checkpoint_store;
class event_store;

struct outbox_state {
  settings_ptr current;
  std::shared_ptr<sqlite_database> db;
  std::shared_ptr<outbox_store> outbox;
  std::shared_ptr<checkpoint_store> checkpoints;
  std::shared_ptr<event_store> events;
  struct pending_batch {
    log_batch batch;
    caf::typed_response_promise<uint64_t> promise;
    caf::strong_actor_ptr source; // to wake it when room frees up after a refusal
  };
  std::vector<pending_batch> pending;         // collected for the next commit
  std::vector<caf::strong_actor_ptr> waiting; // sources refused for lack of room
  bool flush_scheduled = false;
  outbox_status counters;
  static inline const char* name = "outbox";
};

/// The running outbox (registered as "outbox"); null while it restarts.
inline outbox_actor find_outbox(caf::actor_system& sys) {
  return caf::actor_cast<outbox_actor>(sys.registry().get(caf::atom("outbox")));
}

/// How a log source hands over its batch: `state.unacknowledged` goes to the outbox
/// with `state.in_flight` set. Committed, it is dropped and `next(self)` reads on;
/// refused (stream full) or failed, it is kept — the source's position did not
/// advance — and a resume is sent to the source a second later. The source's down
/// handler must call outbox_down.
template <class Self, class Next>
void send_to_outbox(Self self, std::string who, Next next) {
  auto& st = self->state;
  auto outbox = find_outbox(self->home_system());
  if (!outbox) { // restarting
    self->delayed_send(self, std::chrono::seconds{1}, atom::resume_v);
    return;
  }
  // No request timeout: CAF 0.17 keeps a request's timeout in its clock until it expires,
  // answered or not (~1 KB per batch for 60 s: 280 MB at 500 busy files). A batch lost with
  // a terminated outbox is resent on its down message instead.
  if (st.outbox != outbox.address()) {
    st.outbox = outbox.address();
    self->monitor(outbox);
  }
  st.in_flight = true;
  auto attempt = ++st.attempt;
  self->request(outbox, caf::infinite, atom::ingest_v, *st.unacknowledged)
      .then(
          [=](uint64_t) {
            if (attempt != self->state.attempt)
              return;
            self->state.in_flight = false;
            self->state.unacknowledged.reset();
            next(self);
          },
          [=](caf::error& err) {
            if (attempt != self->state.attempt)
              return;
            self->state.in_flight = false;
            if (err != errc::outbox_full)
              spdlog::warn("{}: outbox did not accept a batch ({}); retrying", who,
                           self->home_system().render(err));
            self->delayed_send(self, std::chrono::seconds{1}, atom::resume_v);
          });
}

/// A batch in flight to an outbox that terminated may never be answered: it is sent again
/// (answers to the abandoned attempt are ignored).
template <class Self>
void outbox_down(Self self, const caf::down_msg& dm) {
  auto& st = self->state;
  if (dm.source != st.outbox)
    return;
  st.outbox = nullptr;
  if (st.in_flight) {
    ++st.attempt;
    st.in_flight = false;
    self->delayed_send(self, std::chrono::seconds{1}, atom::resume_v);
  }
}

/// Spawn detached: SQLite calls block.
outbox_actor::behavior_type outbox(outbox_actor::stateful_pointer<outbox_state> self,
                                   settings_ptr current);

} // namespace vigil
