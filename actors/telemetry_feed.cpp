#include "actors/telemetry_feed.hpp"

#include "actors/telemetry_hub.hpp"

#include <caf/all.hpp>

#include <algorithm>

namespace vigil {

namespace {

using namespace std::chrono_literals;
using feed_pointer = telemetry_feed_actor::stateful_pointer<telemetry_feed_state>;

// How often a subscribed feed checks that the registered hub is still the one it joined.
constexpr auto hub_check_interval = 2s;

// Joins or leaves the hub so that the feed is subscribed exactly while the stream runs and
// somebody watches: an idle agent pays nothing for the stream.
void update_subscription(feed_pointer self) {
  auto& st = self->state;
  bool wanted = st.enabled && !st.subscribers.empty();
  auto hub = find_telemetry_hub(self->home_system());
  auto me = caf::actor_cast<caf::actor>(self);
  if (!wanted) {
    if (st.hub && hub && hub.address() == st.hub)
      caf::anon_send(hub, atom::unsubscribe_v, me);
    st.hub = nullptr;
    return;
  }
  if (!hub || hub.address() == st.hub)
    return;
  // A restarted hub (new incarnation) does not know us: join it. The old one is gone.
  caf::anon_send(hub, atom::subscribe_v, me);
  st.hub = hub.address();
}

void tell_subscribers(feed_pointer self, bool enabled) {
  for (auto& sub : self->state.subscribers) {
    if (enabled)
      caf::anon_send(sub, atom::enable_v);
    else
      caf::anon_send(sub, atom::disable_v);
  }
}

} // namespace

telemetry_feed_actor::behavior_type
telemetry_feed(telemetry_feed_actor::stateful_pointer<telemetry_feed_state> self, bool enabled) {
  self->state.enabled = enabled;
  self->set_down_handler([=](const caf::down_msg& dm) {
    auto& subs = self->state.subscribers;
    subs.erase(std::remove_if(subs.begin(), subs.end(),
                              [&](const caf::actor& a) { return a.address() == dm.source; }),
               subs.end());
    update_subscription(self);
  });
  self->delayed_send(self, hub_check_interval, atom::tick_v);
  return {
      [=](atom::publish, const telemetry_snapshot_ptr& snapshot) {
        auto& st = self->state;
        if (!st.enabled || !snapshot)
          return;
        for (auto& sub : st.subscribers)
          caf::anon_send(sub, atom::publish_v, snapshot);
        st.forwarded += st.subscribers.size();
      },
      [=](atom::subscribe, caf::actor& session) -> bool {
        auto& subs = self->state.subscribers;
        if (session && std::find(subs.begin(), subs.end(), session) == subs.end()) {
          self->monitor(session);
          subs.push_back(std::move(session));
          update_subscription(self);
        }
        return self->state.enabled;
      },
      [=](atom::unsubscribe, const caf::actor& session) {
        auto& subs = self->state.subscribers;
        auto it = std::find(subs.begin(), subs.end(), session);
        if (it == subs.end())
          return;
        self->demonitor(session);
        subs.erase(it);
        update_subscription(self);
      },
      [=](atom::enable) -> bool {
        if (!self->state.enabled) {
          self->state.enabled = true;
          tell_subscribers(self, true);
          update_subscription(self);
        }
        return true;
      },
      [=](atom::disable) -> bool {
        if (self->state.enabled) {
          self->state.enabled = false;
          tell_subscribers(self, false);
          update_subscription(self);
        }
        return false;
      },
      [=](atom::status) -> live_stream_status {
        auto& st = self->state;
        return {"telemetry", st.enabled, st.subscribers.size(), st.forwarded};
      },
      [=](atom::tick) {
        update_subscription(self);
        self->delayed_send(self, hub_check_interval, atom::tick_v);
      },
      [=](atom::configure, const settings_ptr&) {},
  };
}

telemetry_feed_actor find_telemetry_feed(caf::actor_system& sys) {
  return caf::actor_cast<telemetry_feed_actor>(sys.registry().get(caf::atom("telem_feed")));
}

} // namespace vigil
