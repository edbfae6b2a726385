#pragma once

// Ships the outbox's "logs" stream to RabbitMQ: one long-lived connection and
// channel, publisher confirms with a window of unconfirmed messages, persistent
// messages to a durable queue, mandatory with basic.return handling. A record leaves
// the outbox only after the broker's ack; anything unconfirmed when the connection
// drops is sent again after reconnecting (with the same message id). Reconnects back
// off exponentially with jitter, without a retry limit. rabbitmq-c blocks, so this
// actor runs detached, on its own thread.

#include "io/amqp/amqp_connection.hpp"
#include "messages/log_pipeline.hpp"

#include <caf/typed_event_based_actor.hpp>

#include <map>
#include <optional>
#include <random>
#include <string>

namespace vigil {

struct publisher_status {
  bool connected = false;
  uint64_t published = 0;
  uint64_t confirmed = 0;
  uint64_t nacked = 0;
  uint64_t returned = 0;
  uint64_t reconnects = 0;
  uint64_t in_flight = 0;
  std::string last_error;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, publisher_status& x) {
  return f(caf::meta::type_name("publisher_status"), x.connected, x.published, x.confirmed,
           x.nacked, x.returned, x.reconnects, x.in_flight, x.last_error);
}

using amqp_publisher_actor =
    caf::typed_actor<caf::reacts_to<atom::resume>,            // the outbox has new records
                     caf::reacts_to<atom::tick, uint64_t>,    // INTERNAL: collect confirms
                     caf::reacts_to<atom::restart, uint64_t>, // INTERNAL: reconnect attempt
                     caf::replies_to<atom::status>::with<publisher_status>, configurable>;

struct amqp_publisher_state {
  settings_ptr current;
  std::optional<amqp_connection> connection;
  struct unconfirmed {
    int64_t seq = 0;
    std::string id;
    bool returned = false; // unroutable: its ack does not mean delivered
  };
  std::map<uint64_t, unconfirmed> in_flight; // by delivery tag
  int64_t last_seq = 0;                      // highest seq published on this connection
  bool fetching = false;
  uint32_t failures = 0;        // consecutive failed connects, for the backoff
  uint64_t generation = 0;      // of the connection; stale fetch replies are dropped
  uint64_t tick_generation = 0; // only the newest tick chain reschedules itself
  bool idle = true;             // the tick chain is on its slow (idle) cadence
  std::mt19937_64 jitter{std::random_device{}()};
  publisher_status counters;
  static inline const char* name = "amqp_publisher";
};

/// Spawn detached.
amqp_publisher_actor::behavior_type
amqp_publisher(amqp_publisher_actor::stateful_pointer<amqp_publisher_state> self,
               settings_ptr current);

} // namespace vigil
