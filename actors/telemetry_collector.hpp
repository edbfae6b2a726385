#pragma once

// What every telemetry collector shares: its interface, its options, and the actor shell
// around a sampler. A sampler owns io/proc readers and its previous sample (reused buffers,
// so a tick allocates little more than the section it sends); the shell calls it on a
// fixed-rate timer and sends the section to the hub. A sample that throws is reported to the
// hub as the section's error (the section goes stale if it keeps failing); anything that
// escapes ends the actor and the telemetry supervisor restarts it.
//
// A sampler has:
//   static constexpr telemetry_section section;   static constexpr const char* actor_name;
//   static duration interval(const settings&);
//   Sampler(const collector_options&, const settings&);
//   void configure(const settings&);
//   std::shared_ptr<const X_section> sample(wall_time now, steady_clock::time_point t);
//     (null: only a baseline so far — rates need two readings)

#include "actors/telemetry_hub.hpp"
#include "messages/supervision.hpp"
#include "messages/telemetry.hpp"

#include <caf/typed_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace vigil {

using telemetry_collector_actor =
    caf::typed_actor<caf::reacts_to<atom::tick, uint64_t>, // INTERNAL: sample (timer generation)
                     configurable>;

struct collector_options {
  std::filesystem::path root = "/"; // the /proc and /sys tree (a fixture in tests)
  telemetry_hub_actor hub;          // null: the hub registered as "telemetry", looked up per send
  // uid → user name for the process collector; empty: getpwuid_r (tests inject names).
  std::function<std::optional<std::string>(uint32_t)> user_name;
};

// Two readings of cumulative counters, for samplers that report rates: read into `current`;
// the first reading is only a baseline; after computing, advance() makes `current` the previous
// one (the two buffers are swapped, so their strings and vectors are reused).
template <class Sample>
struct counter_readings {
  Sample previous;
  Sample current;
  std::optional<std::chrono::steady_clock::time_point> previous_at;

  bool is_baseline() const { return !previous_at; }
  std::chrono::duration<double> since_previous(std::chrono::steady_clock::time_point t) const {
    return t - *previous_at;
  }
  void advance(std::chrono::steady_clock::time_point t) {
    std::swap(previous, current);
    previous_at = t;
  }
};

// The first real sample of a rate comes this soon after the baseline (or after one interval
// when that is shorter), so a fresh agent does not show empty rates for a whole interval.
constexpr std::chrono::milliseconds collector_first_delay{1000};

template <class Sampler>
struct collector_state {
  collector_options options;
  std::unique_ptr<Sampler> sampler;
  std::chrono::milliseconds interval{0};
  std::chrono::steady_clock::time_point next{}; // fixed rate: no drift between collectors
  uint64_t generation = 0;                      // invalidates the timer of an old interval
  std::string last_error;
  static inline const char* name = Sampler::actor_name;
};

template <class Sampler>
using collector_pointer =
    typename telemetry_collector_actor::template stateful_pointer<collector_state<Sampler>>;

namespace detail {

void report_collector_error(const char* actor_name, std::string& last_error,
                            const std::string& what);
void report_collector_recovered(const char* actor_name, std::string& last_error);
telemetry_hub_actor resolve_hub(caf::actor_system& sys, const telemetry_hub_actor& configured);

// Samples once and sends the result; true when it was only a baseline.
template <class Sampler>
bool collect(collector_pointer<Sampler> self) {
  auto& st = self->state;
  auto hub = resolve_hub(self->home_system(), st.options.hub);
  try {
    auto now =
        std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
    auto section = st.sampler->sample(now, std::chrono::steady_clock::now());
    if (!section)
      return true;
    if (!st.last_error.empty())
      report_collector_recovered(Sampler::actor_name, st.last_error);
    if (hub)
      self->send(hub, atom::publish_v, std::move(section));
  } catch (const std::exception& e) {
    report_collector_error(Sampler::actor_name, st.last_error, e.what());
    if (hub)
      self->send(hub, atom::failed_v, Sampler::section, std::string{e.what()});
  }
  return false;
}

template <class Sampler>
void schedule(collector_pointer<Sampler> self, std::chrono::milliseconds delay) {
  auto& st = self->state;
  auto now = std::chrono::steady_clock::now();
  st.next = now + delay;
  self->delayed_send(self, delay, atom::tick_v, st.generation);
}

template <class Sampler>
void schedule_next(collector_pointer<Sampler> self) {
  auto& st = self->state;
  auto now = std::chrono::steady_clock::now();
  st.next += st.interval;
  if (st.next <= now) // fell behind (a long sample, a busy scheduler): skip, do not catch up
    st.next = now + st.interval;
  self->delayed_send(self, std::chrono::duration_cast<std::chrono::milliseconds>(st.next - now),
                     atom::tick_v, st.generation);
}

} // namespace detail

template <class Sampler>
telemetry_collector_actor::behavior_type telemetry_collector(collector_pointer<Sampler> self,
                                                             collector_options options,
                                                             settings_ptr current) {
  auto& st = self->state;
  st.options = std::move(options);
  st.sampler = std::make_unique<Sampler>(st.options, *current);
  st.interval = Sampler::interval(*current);
  bool baseline = detail::collect<Sampler>(self);
  detail::schedule<Sampler>(self,
                            baseline ? std::min(st.interval, collector_first_delay) : st.interval);
  return {
      [=](atom::tick, uint64_t generation) {
        if (generation != self->state.generation)
          return;
        detail::collect<Sampler>(self);
        detail::schedule_next<Sampler>(self);
      },
      [=](atom::configure, const settings_ptr& s) {
        auto& st = self->state;
        st.sampler->configure(*s);
        auto interval = Sampler::interval(*s);
        if (interval == st.interval)
          return;
        st.interval = interval;
        ++st.generation;
        detail::schedule<Sampler>(self, interval);
      },
  };
}

// The collectors of the telemetry supervisor, in start order (after the hub).
std::vector<child_spec_ptr> telemetry_collector_specs();

} // namespace vigil
