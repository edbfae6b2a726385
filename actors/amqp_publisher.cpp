#include "actors/amqp_publisher.hpp"

#include "actors/outbox.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

namespace vigil {

namespace {

using namespace std::chrono_literals;
using publisher_pointer = amqp_publisher_actor::stateful_pointer<amqp_publisher_state>;

// While messages await confirms, poll briefly and often; when idle, rarely (heartbeats
// are serviced inside poll, so this must stay well under the heartbeat interval).
constexpr auto busy_poll = 20ms;
constexpr auto idle_tick = 500ms;

amqp_settings connection_settings(const settings& s) {
  amqp_settings a;
  a.url = s.rabbitmq.url;
  a.queue = s.rabbitmq.queue;
  a.queue_setup = s.rabbitmq.declare_queue ? amqp_queue_setup::declare : amqp_queue_setup::passive;
  a.quorum_queue = s.rabbitmq.quorum_queue;
  a.heartbeat = std::chrono::duration_cast<std::chrono::seconds>(s.rabbitmq.heartbeat);
  a.tls.ca_file = s.rabbitmq.ca_file;
  a.tls.verify_peer = s.rabbitmq.verify_peer;
  a.tls.verify_hostname = s.rabbitmq.verify_peer;
  a.connection_name = "vigil " + s.node_id;
  return a;
}

void schedule_reconnect(publisher_pointer self) {
  auto& st = self->state;
  auto& r = st.current->rabbitmq;
  auto exp = std::min<uint32_t>(st.failures, 16);
  auto base =
      std::min<std::chrono::milliseconds>(r.reconnect_max, r.reconnect_initial * (1u << exp));
  // Full jitter between half and the whole delay: thousands of agents that lost the
  // same broker do not come back in lockstep.
  std::uniform_real_distribution<double> spread{0.5, 1.0};
  auto delay = std::chrono::milliseconds{
      static_cast<int64_t>(static_cast<double>(base.count()) * spread(st.jitter))};
  ++st.failures;
  self->delayed_send(self, delay, atom::restart_v, ++st.generation);
}

void disconnect(publisher_pointer self, const std::string& why) {
  auto& st = self->state;
  if (st.connection) {
    st.connection->close();
    st.connection.reset();
  }
  st.counters.connected = false;
  st.counters.last_error = why;
  // Everything unconfirmed is still in the outbox and is sent again after reconnecting.
  st.in_flight.clear();
  st.last_seq = 0;
  spdlog::warn("amqp_publisher: {}; reconnecting with backoff", why);
  schedule_reconnect(self);
}

void fetch(publisher_pointer self);

// Switches the tick chain to its busy cadence, so confirms are collected promptly.
void wake_ticks(publisher_pointer self) {
  auto& st = self->state;
  if (!st.idle)
    return;
  st.idle = false;
  self->send(self, atom::tick_v, ++st.tick_generation);
}

void publish(publisher_pointer self, std::vector<outbox_entry>& entries) {
  auto& st = self->state;
  if (!entries.empty())
    wake_ticks(self);
  try {
    std::vector<amqp_connection::message> batch;
    batch.reserve(entries.size());
    for (auto& e : entries)
      batch.push_back({e.id, e.payload});
    auto tag = st.connection->publish_batch(batch);
    for (auto& e : entries) {
      st.in_flight[tag++] = {e.seq, e.id, false};
      st.last_seq = std::max(st.last_seq, e.seq);
      ++st.counters.published;
    }
  } catch (const std::exception& e) {
    disconnect(self, std::string{"publish failed: "} + e.what());
  }
}

// Asks the outbox for records after the last one sent, up to the free window.
void fetch(publisher_pointer self) {
  auto& st = self->state;
  auto window = st.current->rabbitmq.confirm_window;
  if (!st.connection || st.fetching || st.in_flight.size() >= window)
    return;
  auto outbox = find_outbox(self->home_system());
  if (!outbox)
    return;
  st.fetching = true;
  auto want = static_cast<uint32_t>(window - st.in_flight.size());
  auto generation = st.generation;
  self->request(outbox, 30s, atom::publish_v, std::string{"logs"}, st.last_seq, want)
      .then(
          [=](std::vector<outbox_entry>& entries) {
            auto& st = self->state;
            st.fetching = false;
            if (!st.connection || st.generation != generation)
              return; // reconnected meanwhile: these may already be in flight again
            publish(self, entries);
            if (entries.size() == want)
              fetch(self);
          },
          [=](caf::error& err) {
            self->state.fetching = false;
            spdlog::warn("amqp_publisher: cannot read the outbox: {}",
                         self->home_system().render(err));
          });
}

void connect(publisher_pointer self) {
  auto& st = self->state;
  try {
    st.connection.emplace(connection_settings(*st.current));
    st.connection->connect();
  } catch (const std::exception& e) {
    st.connection.reset();
    st.counters.last_error = e.what(); // amqp_error texts never hold the password
    if (st.failures == 0 || st.failures % 10 == 0)
      spdlog::warn("amqp_publisher: cannot connect: {}", e.what());
    schedule_reconnect(self);
    return;
  }
  ++st.counters.reconnects;
  spdlog::info("amqp_publisher: connected to {}", st.connection->redacted_url());
  st.failures = 0;
  ++st.generation;
  st.counters.connected = true;
  fetch(self);
}

// Collects confirms and returns; acked records are removed from the outbox.
void poll(publisher_pointer self) {
  auto& st = self->state;
  if (!st.connection)
    return;
  std::vector<amqp_event> events;
  try {
    events = st.connection->poll(st.in_flight.empty() ? 0ms : busy_poll);
  } catch (const std::exception& e) {
    disconnect(self, std::string{"connection lost: "} + e.what());
    return;
  }
  std::vector<int64_t> confirmed;
  bool failed = false;
  std::string why;
  auto settle = [&](uint64_t tag, bool multiple, bool ack) {
    auto end = multiple ? st.in_flight.upper_bound(tag) : st.in_flight.find(tag);
    auto begin = multiple ? st.in_flight.begin() : end;
    if (!multiple && end != st.in_flight.end())
      end = std::next(end);
    for (auto i = begin; i != end; ++i) {
      if (ack && !i->second.returned) {
        confirmed.push_back(i->second.seq);
        ++st.counters.confirmed;
      } else {
        failed = true;
        ++st.counters.nacked;
      }
    }
    st.in_flight.erase(begin, end);
  };
  for (auto& ev : events) {
    switch (ev.type) {
    case amqp_event::kind::ack:
      settle(ev.delivery_tag, ev.multiple, true);
      break;
    case amqp_event::kind::nack:
      why = "broker nacked messages";
      settle(ev.delivery_tag, ev.multiple, false);
      break;
    case amqp_event::kind::returned:
      ++st.counters.returned;
      why = "message returned unroutable (" + std::to_string(ev.reply_code) + " " + ev.reply_text +
            "); is queue " + st.current->rabbitmq.queue + " gone?";
      for (auto& [tag, u] : st.in_flight)
        if (u.id == ev.message_id)
          u.returned = true;
      break;
    case amqp_event::kind::channel_closed:
    case amqp_event::kind::connection_closed:
      failed = true;
      why = "broker closed the connection: " + std::to_string(ev.reply_code) + " " + ev.reply_text;
      break;
    default:
      break;
    }
  }
  if (!confirmed.empty())
    if (auto outbox = find_outbox(self->home_system()))
      self->send(outbox, atom::confirmed_v, std::string{"logs"}, std::move(confirmed));
  if (failed) {
    // Reconnecting re-declares the queue and resends everything not confirmed, in order.
    disconnect(self, why);
    return;
  }
  fetch(self);
}

} // namespace

amqp_publisher_actor::behavior_type
amqp_publisher(amqp_publisher_actor::stateful_pointer<amqp_publisher_state> self,
               settings_ptr current) {
  self->state.current = std::move(current);
  connect(self);
  self->send(self, atom::tick_v, self->state.tick_generation);
  self->set_exit_handler([=](caf::exit_msg& em) {
    if (self->state.connection) {
      // Give confirms already on the wire a moment to arrive, so fewer duplicates follow.
      poll(self);
      self->state.connection->close();
    }
    self->quit(em.reason);
  });
  return {
      [=](atom::resume) { fetch(self); },
      [=](atom::tick, uint64_t generation) {
        auto& st = self->state;
        if (generation != st.tick_generation)
          return; // a superseded chain ends here
        poll(self);
        // Busy: poll again at once (poll itself waits up to busy_poll); idle: rest.
        st.idle = st.in_flight.empty();
        if (st.idle)
          self->delayed_send(self, idle_tick, atom::tick_v, generation);
        else
          self->send(self, atom::tick_v, generation);
      },
      [=](atom::restart, uint64_t generation) {
        if (generation == self->state.generation && !self->state.connection)
          connect(self);
      },
      [=](atom::status) {
        auto c = self->state.counters;
        c.in_flight = self->state.in_flight.size();
        return c;
      },
      [=](atom::configure, settings_ptr& s) { self->state.current = std::move(s); },
  };
}

} // namespace vigil
