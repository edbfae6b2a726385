#include "actors/live_log_hub.hpp"

#include "io/logs/severity.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>

namespace vigil {

namespace {

using hub_pointer = live_log_hub_actor::stateful_pointer<live_log_hub_state>;

// Sessions the running hub would forward to. The outbox reads it before building a message,
// so while nobody watches (or the stream is stopped) a commit costs one atomic load.
std::atomic<std::size_t> watching{0};

void update_watching(hub_pointer self) {
  auto& st = self->state;
  watching.store(st.enabled ? st.subscribers.size() : 0);
}

bool contains_ignoring_case(std::string_view text, std::string_view needle) {
  if (needle.empty())
    return true;
  auto it = std::search(text.begin(), text.end(), needle.begin(), needle.end(), [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) ==
           std::tolower(static_cast<unsigned char>(b));
  });
  return it != text.end();
}

void tell_subscribers(hub_pointer self, bool enabled) {
  for (auto& sub : self->state.subscribers) {
    if (enabled)
      caf::anon_send(sub.session, atom::enable_v);
    else
      caf::anon_send(sub.session, atom::disable_v);
  }
}

} // namespace

std::string validate(const live_log_filter& filter) {
  if (!filter.severity.empty() && !severity_from_string(filter.severity))
    return "severity: one of info, warn, error, failure, critical, not \"" + filter.severity + "\"";
  return {};
}

bool matches(const live_log_filter& filter, const log_batch& batch, const log_event& event) {
  if (!filter.path.empty() && batch.source.find(filter.path) == std::string::npos)
    return false;
  if (!filter.application.empty() && batch.application != filter.application)
    return false;
  if (!filter.severity.empty()) {
    auto wanted = severity_from_string(filter.severity);
    auto got = severity_from_string(event.severity);
    // An event of a vocabulary we do not know is shown only to unfiltered clients.
    if (!wanted || !got || *got < *wanted)
      return false;
  }
  return contains_ignoring_case(event.log_line, filter.contains);
}

live_log_hub_actor::behavior_type
live_log_hub(live_log_hub_actor::stateful_pointer<live_log_hub_state> self, bool enabled) {
  self->state.enabled = enabled;
  self->set_down_handler([=](const caf::down_msg& dm) {
    auto& subs = self->state.subscribers;
    subs.erase(std::remove_if(subs.begin(), subs.end(),
                              [&](auto& s) { return s.session.address() == dm.source; }),
               subs.end());
    update_watching(self);
  });
  update_watching(self);
  return {
      [=](atom::publish, const live_log_batch_ptr& batch) {
        auto& st = self->state;
        if (!st.enabled || !batch)
          return;
        for (auto& sub : st.subscribers) {
          auto wanted =
              std::any_of(batch->events.begin(), batch->events.end(),
                          [&](const log_event& e) { return matches(sub.filter, *batch, e); });
          if (!wanted)
            continue;
          // By pointer: every session shares the one batch. A session's own bounded queue
          // absorbs a slow client, so the hub never waits for anyone.
          caf::anon_send(sub.session, atom::publish_v, batch);
          ++st.forwarded;
        }
      },
      [=](atom::subscribe, caf::actor& session, live_log_filter& filter) -> bool {
        auto& subs = self->state.subscribers;
        if (!session)
          return self->state.enabled;
        auto it =
            std::find_if(subs.begin(), subs.end(), [&](auto& s) { return s.session == session; });
        if (it != subs.end()) {
          it->filter = std::move(filter);
        } else {
          self->monitor(session);
          subs.push_back({std::move(session), std::move(filter)});
          update_watching(self);
        }
        return self->state.enabled;
      },
      [=](atom::unsubscribe, const caf::actor& session) {
        auto& subs = self->state.subscribers;
        auto it =
            std::find_if(subs.begin(), subs.end(), [&](auto& s) { return s.session == session; });
        if (it == subs.end())
          return;
        self->demonitor(session);
        subs.erase(it);
        update_watching(self);
      },
      [=](atom::enable) -> bool {
        if (!self->state.enabled) {
          self->state.enabled = true;
          update_watching(self);
          tell_subscribers(self, true);
        }
        return true;
      },
      [=](atom::disable) -> bool {
        if (self->state.enabled) {
          self->state.enabled = false;
          update_watching(self);
          tell_subscribers(self, false);
        }
        return false;
      },
      [=](atom::status) -> live_stream_status {
        auto& st = self->state;
        return {"live_logs", st.enabled, st.subscribers.size(), st.forwarded};
      },
      [=](atom::configure, const settings_ptr&) {},
  };
}

live_log_hub_actor find_live_log_hub(caf::actor_system& sys) {
  return caf::actor_cast<live_log_hub_actor>(sys.registry().get(caf::atom("live_logs")));
}

void publish_live_logs(caf::actor_system& sys, log_batch&& committed) {
  if (committed.events.empty() || watching.load() == 0)
    return;
  if (auto hub = find_live_log_hub(sys))
    caf::anon_send(hub, atom::publish_v,
                   live_log_batch_ptr{std::make_shared<const log_batch>(std::move(committed))});
}

} // namespace vigil
