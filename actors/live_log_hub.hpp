#pragma once

// The live logs fan-out (registered as "live_logs"). The outbox hands it every batch it
// committed; the hub forwards each batch, by pointer, to the WebSocket sessions whose filter
// matches at least one of its events (the session picks the matching events). The stream can
// be stopped and started (POST /control): while stopped nothing is forwarded, subscribers stay
// subscribed and are told, new subscribers learn it from the reply to their subscribe.

#include "messages/atoms.hpp"
#include "messages/log_pipeline.hpp"
#include "messages/supervision.hpp"

#include <caf/actor.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/typed_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace caf {
class actor_system;
}

namespace vigil {

/// A batch the outbox committed (events durable), shared read-only by every session.
using live_log_batch_ptr = std::shared_ptr<const log_batch>;

/// What a live logs client wants to see; empty fields match everything.
struct live_log_filter {
  std::string path;        // substring of the log path
  std::string application; // exact application name
  std::string severity;    // minimum severity: info < warn < error < failure < critical
  std::string contains;    // substring of the line, ASCII case-insensitive
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, live_log_filter& x) {
  return f(caf::meta::type_name("live_log_filter"), x.path, x.application, x.severity, x.contains);
}

/// One stream's counters for /status.
struct live_stream_status {
  std::string name;
  bool enabled = true;
  uint64_t subscribers = 0;
  uint64_t forwarded = 0; // messages handed to sessions (batches or snapshots)
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, live_stream_status& x) {
  return f(caf::meta::type_name("live_stream_status"), x.name, x.enabled, x.subscribers,
           x.forwarded);
}

using live_log_hub_actor = caf::typed_actor<
    // From the outbox, after the commit.
    caf::reacts_to<atom::publish, live_log_batch_ptr>,
    // A session subscribes (again, to change its filter); replies whether the stream runs.
    // Subscribers receive (publish, live_log_batch_ptr), (disable) and (enable) until they
    // unsubscribe or die.
    caf::replies_to<atom::subscribe, caf::actor, live_log_filter>::with<bool>,
    caf::reacts_to<atom::unsubscribe, caf::actor>,
    // POST /control start_livelogs / stop_livelogs; reply: whether the stream runs now.
    caf::replies_to<atom::enable>::with<bool>, caf::replies_to<atom::disable>::with<bool>,
    caf::replies_to<atom::status>::with<live_stream_status>, configurable>;

// --- pure logic, exposed for tests ---------------------------------------------------------------

/// An error text for a filter that cannot work (unknown severity), empty when it is fine.
std::string validate(const live_log_filter& filter);

bool matches(const live_log_filter& filter, const log_batch& batch, const log_event& event);

// --- the actor -----------------------------------------------------------------------------------

struct live_log_hub_state {
  struct subscriber {
    caf::actor session;
    live_log_filter filter;
  };
  std::vector<subscriber> subscribers;
  bool enabled = true;
  uint64_t forwarded = 0;
  static inline const char* name = "live_log_hub";
};

/// `enabled`: whether the stream runs from the start (`/control` switches it later).
live_log_hub_actor::behavior_type
live_log_hub(live_log_hub_actor::stateful_pointer<live_log_hub_state> self, bool enabled);

/// The hub registered as "live_logs", or a null handle.
live_log_hub_actor find_live_log_hub(caf::actor_system& sys);

/// For the outbox: hands a committed batch to the live logs hub when a session watches.
/// While nobody watches (or the stream is stopped) it costs one atomic load.
void publish_live_logs(caf::actor_system& sys, log_batch&& committed);

} // namespace vigil

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(vigil::live_log_batch_ptr)
