#pragma once

// The telemetry stream for WebSocket sessions (registered as "telem_feed"). It subscribes to
// the telemetry hub only while it has sessions and the stream runs, and hands each snapshot,
// by pointer, to every session; a session keeps only the latest one and sends it at its own
// interval, so nothing queues up anywhere. POST /control stop_telemetry / start_telemetry
// stops and starts the stream: while stopped the feed leaves the hub, subscribers stay
// subscribed and are told (disable) / (enable).

#include "actors/live_log_hub.hpp"
#include "messages/telemetry.hpp"

#include <caf/actor.hpp>
#include <caf/actor_addr.hpp>
#include <caf/typed_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <vector>

namespace vigil {

using telemetry_feed_actor = caf::typed_actor<
    // From the telemetry hub.
    caf::reacts_to<atom::publish, telemetry_snapshot_ptr>,
    // A session subscribes; replies whether the stream runs. Subscribers receive
    // (publish, telemetry_snapshot_ptr), (disable) and (enable) until they leave or die.
    caf::replies_to<atom::subscribe, caf::actor>::with<bool>,
    caf::reacts_to<atom::unsubscribe, caf::actor>,
    // POST /control start_telemetry / stop_telemetry; reply: whether the stream runs now.
    caf::replies_to<atom::enable>::with<bool>, caf::replies_to<atom::disable>::with<bool>,
    caf::replies_to<atom::status>::with<live_stream_status>,
    // INTERNAL: re-subscribe when the hub was restarted.
    caf::reacts_to<atom::tick>, configurable>;

struct telemetry_feed_state {
  std::vector<caf::actor> subscribers;
  bool enabled = true;
  caf::actor_addr hub; // the hub incarnation we are subscribed to; null: not subscribed
  uint64_t forwarded = 0;
  static inline const char* name = "telemetry_feed";
};

/// `enabled`: whether the stream runs from the start (`/control` switches it later).
telemetry_feed_actor::behavior_type
telemetry_feed(telemetry_feed_actor::stateful_pointer<telemetry_feed_state> self, bool enabled);

/// The feed registered as "telem_feed", or a null handle.
telemetry_feed_actor find_telemetry_feed(caf::actor_system& sys);

} // namespace vigil
