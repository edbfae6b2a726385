// The telemetry hub in a real actor system with short intervals: merging, staleness with a
// failing and a crashing collector (restarted by the supervisor, or given up), the snapshot
// rate limit, subscriptions, the query, and the restore hook.

#include "actors/supervisor.hpp"
#include "actors/telemetry_hub.hpp"
#include "tests/telemetry/sampler_helpers.hpp"

#include <caf/all.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <thread>

namespace vigil {
namespace {

using namespace std::chrono_literals;

constexpr std::size_t cpu_i = static_cast<std::size_t>(telemetry_section::cpu);
constexpr std::size_t memory_i = static_cast<std::size_t>(telemetry_section::memory);
constexpr std::size_t processes_i = static_cast<std::size_t>(telemetry_section::processes);

settings_ptr fast_settings(uint32_t max_restarts = 5) {
  settings s;
  s.node_id = "node-under-test";
  s.fault_injection = true;
  s.telemetry.interval = 100ms;
  s.telemetry.slow_interval = 200ms;
  s.telemetry.services.interval = 200ms;
  s.telemetry.containers.interval = 200ms;
  s.supervision.max_restarts = max_restarts;
  s.supervision.backoff_initial = 50ms;
  s.supervision.backoff_max = 100ms;
  return std::make_shared<const settings>(s);
}

wall_time now_ms() {
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

struct hub_test : ::testing::Test {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};

  void subscribe(const telemetry_hub_actor& hub) {
    self->send(hub, atom::subscribe_v, caf::actor_cast<caf::actor>(self));
  }

  // Receives snapshots until `done` holds for one (returned) or the deadline passes (null).
  telemetry_snapshot_ptr wait_for(std::function<bool(const telemetry_snapshot&)> done,
                                  caf::timespan deadline = 5s) {
    auto until = std::chrono::steady_clock::now() + deadline;
    telemetry_snapshot_ptr found;
    while (!found && std::chrono::steady_clock::now() < until) {
      self->receive(
          [&](atom::publish, const telemetry_snapshot_ptr& s) {
            if (done(*s))
              found = s;
          },
          caf::after(100ms) >> [] {});
    }
    return found;
  }

  telemetry_snapshot_ptr query(const telemetry_hub_actor& hub) {
    telemetry_snapshot_ptr result;
    self->request(hub, 5s, atom::query_v)
        .receive([&](telemetry_snapshot_ptr& s) { result = std::move(s); },
                 [&](caf::error& e) { ADD_FAILURE() << sys.render(e); });
    return result;
  }

  void stop(const caf::actor& a) {
    self->send_exit(a, caf::exit_reason::user_shutdown);
    self->wait_for(a);
  }
};

std::shared_ptr<cpu_section> cpu_at(double usage, unsigned cores = 2, double load = 0) {
  auto c = std::make_shared<cpu_section>();
  c->sampled_at = now_ms();
  c->usage_percent = usage;
  c->logical_cores = cores;
  c->load_one = load;
  return c;
}

TEST_F(hub_test, merges_sections_into_one_snapshot_with_identity_and_sequence) {
  auto hub = sys.spawn(telemetry_hub, fast_settings());
  subscribe(hub);
  auto cpu = cpu_at(42);
  auto mem = std::make_shared<memory_section>();
  mem->sampled_at = now_ms();
  mem->used_percent = 30;
  self->send(hub, atom::publish_v, cpu_section_ptr{cpu});
  self->send(hub, atom::publish_v, memory_section_ptr{mem});
  auto snap = wait_for([](auto& s) { return s.cpu && s.memory; });
  ASSERT_NE(snap, nullptr);
  EXPECT_EQ(snap->cpu.get(), cpu.get()); // shared, not copied
  EXPECT_EQ(snap->memory.get(), mem.get());
  EXPECT_EQ(snap->node_id, "node-under-test");
  EXPECT_FALSE(snap->hostname.empty());
  EXPECT_GE(snap->sequence, 1u);
  EXPECT_EQ(snap->sections[cpu_i].updated_at, cpu->sampled_at);
  EXPECT_FALSE(snap->sections[cpu_i].stale);
  EXPECT_EQ(snap->sections[cpu_i].interval, 100ms);
  EXPECT_EQ(snap->sections[processes_i].interval, 200ms);
  EXPECT_EQ(snap->processes, nullptr);
  auto next = wait_for([&](auto& s) { return s.sequence > snap->sequence; });
  ASSERT_NE(next, nullptr);
  EXPECT_EQ(next->sequence, snap->sequence + 1);
  stop(caf::actor_cast<caf::actor>(hub));
}

TEST_F(hub_test, a_section_goes_stale_after_three_intervals_while_others_keep_flowing) {
  test::fixture_machine m;
  auto s = fast_settings();
  auto hub = sys.spawn(telemetry_hub, s);
  auto options = test::fixture_options(m);
  options.hub = hub;
  auto cpu = spawn_cpu_collector(sys, options, s);
  auto mem = spawn_memory_collector(sys, options, s);
  subscribe(hub);
  auto both = wait_for([](auto& x) { return x.cpu && x.memory; });
  ASSERT_NE(both, nullptr);
  EXPECT_FALSE(both->sections[memory_i].stale);

  m.files().remove("proc/meminfo"); // every memory sample fails from now on
  auto failed_at = now_ms();
  auto errored = wait_for([](auto& x) { return !x.sections[memory_i].error.empty(); });
  ASSERT_NE(errored, nullptr);
  EXPECT_NE(errored->sections[memory_i].error.find("meminfo"), std::string::npos)
      << errored->sections[memory_i].error;
  auto stale = wait_for([](auto& x) { return x.sections[memory_i].stale; });
  ASSERT_NE(stale, nullptr);
  EXPECT_GE(stale->timestamp - failed_at, 250ms); // 3 × 100 ms, give or take a tick
  EXPECT_NE(stale->memory, nullptr);              // the last data stays, marked stale
  EXPECT_FALSE(stale->sections[cpu_i].stale);
  EXPECT_GT(*stale->sections[cpu_i].updated_at, failed_at); // cpu keeps flowing

  m.write_round(0); // the file is back: fresh again, error cleared
  auto fresh = wait_for(
      [](auto& x) { return !x.sections[memory_i].stale && x.sections[memory_i].error.empty(); });
  ASSERT_NE(fresh, nullptr);
  stop(caf::actor_cast<caf::actor>(cpu));
  stop(caf::actor_cast<caf::actor>(mem));
  stop(caf::actor_cast<caf::actor>(hub));
}

// Stops an actor when the test ends, also after a failed assertion (the actor system would
// otherwise wait for it forever).
struct stop_at_exit {
  caf::actor handle;
  ~stop_at_exit() { caf::anon_send_exit(handle, caf::exit_reason::user_shutdown); }
};

// The supervisor starts its children asynchronously: wait until the hub is registered.
telemetry_hub_actor await_hub(caf::actor_system& sys) {
  for (int i = 0; i < 500; ++i) {
    if (auto hub = find_telemetry_hub(sys))
      return hub;
    std::this_thread::sleep_for(10ms);
  }
  return {};
}

supervisor_actor start_supervised(caf::actor_system& sys, const test::fixture_machine& m,
                                  const settings_ptr& s) {
  auto opts = test::fixture_options(m); // hub: looked up as "telemetry" in the registry
  auto collector = [opts](std::string name, auto spawn) {
    return std::make_shared<child_spec>(
        child_spec{std::move(name), [opts, spawn](caf::actor_system& sys, const settings_ptr& s) {
                     return caf::actor_cast<caf::actor>(spawn(sys, opts, s));
                   }});
  };
  std::vector<child_spec_ptr> children{
      std::make_shared<child_spec>(child_spec{
          "hub",
          [](caf::actor_system& sys, const settings_ptr& s) {
            auto hub = sys.spawn(telemetry_hub, s);
            sys.registry().put(caf::atom("telemetry"), caf::actor_cast<caf::strong_actor_ptr>(hub));
            return caf::actor_cast<caf::actor>(hub);
          }}),
      collector("cpu_collector", spawn_cpu_collector),
      collector("memory_collector", spawn_memory_collector),
  };
  return sys.spawn(supervisor, "telemetry", children, s);
}

TEST_F(hub_test, a_crashed_collector_is_restarted_by_the_supervisor_and_its_section_resumes) {
  test::fixture_machine m;
  auto s = fast_settings(5);
  auto sup = start_supervised(sys, m, s);
  stop_at_exit guard{caf::actor_cast<caf::actor>(sup)};
  auto hub = await_hub(sys);
  ASSERT_TRUE(hub);
  subscribe(hub);
  ASSERT_NE(wait_for([](auto& x) { return x.cpu && x.memory; }), nullptr);
  std::string answer;
  self->request(sup, 5s, atom::crash_v, std::string{"memory_collector"})
      .receive([&](std::string& a) { answer = a; },
               [&](caf::error& e) { ADD_FAILURE() << sys.render(e); });
  auto crashed_at = now_ms();
  auto resumed = wait_for([&](auto& x) {
    auto u = x.sections[memory_i].updated_at;
    return u && *u > crashed_at + 50ms; // after the backoff, from the new incarnation
  });
  ASSERT_NE(resumed, nullptr);
  EXPECT_FALSE(resumed->sections[memory_i].stale);
  std::vector<child_status> status;
  self->request(sup, 5s, atom::status_v)
      .receive([&](std::vector<child_status>& xs) { status = std::move(xs); },
               [&](caf::error& e) { ADD_FAILURE() << sys.render(e); });
  ASSERT_EQ(status.size(), 3u);
  EXPECT_EQ(status[2].name, "memory_collector");
  EXPECT_EQ(status[2].restarts, 1u);
  stop(caf::actor_cast<caf::actor>(sup));
  sys.registry().erase(caf::atom("telemetry"));
}

TEST_F(hub_test, a_collector_given_up_by_the_supervisor_leaves_a_stale_section_only) {
  test::fixture_machine m;
  auto s = fast_settings(0); // the first crash gives it up
  auto sup = start_supervised(sys, m, s);
  stop_at_exit guard{caf::actor_cast<caf::actor>(sup)};
  auto hub = await_hub(sys);
  ASSERT_TRUE(hub);
  subscribe(hub);
  ASSERT_NE(wait_for([](auto& x) { return x.cpu && x.memory; }), nullptr);
  self->request(sup, 5s, atom::crash_v, std::string{"memory_collector"})
      .receive([](std::string&) {}, [&](caf::error& e) { ADD_FAILURE() << sys.render(e); });
  auto crashed_at = now_ms();
  auto stale = wait_for([](auto& x) { return x.sections[memory_i].stale; });
  ASSERT_NE(stale, nullptr);
  EXPECT_LE(*stale->sections[memory_i].updated_at, crashed_at);
  EXPECT_FALSE(stale->sections[cpu_i].stale);
  EXPECT_GT(*stale->sections[cpu_i].updated_at, crashed_at);
  stop(caf::actor_cast<caf::actor>(sup));
  sys.registry().erase(caf::atom("telemetry"));
}

TEST_F(hub_test, subscribers_get_at_most_one_snapshot_per_interval) {
  auto hub = sys.spawn(telemetry_hub, fast_settings());
  subscribe(hub);
  // A flood of sections: every 5 ms for one second.
  std::atomic<bool> pumping{true};
  std::thread pump{[&] {
    while (pumping) {
      caf::anon_send(hub, atom::publish_v, cpu_section_ptr{cpu_at(10)});
      std::this_thread::sleep_for(5ms);
    }
  }};
  std::vector<std::chrono::steady_clock::time_point> arrivals;
  auto until = std::chrono::steady_clock::now() + 1s;
  while (std::chrono::steady_clock::now() < until)
    self->receive(
        [&](atom::publish, const telemetry_snapshot_ptr&) {
          arrivals.push_back(std::chrono::steady_clock::now());
        },
        caf::after(50ms) >> [] {});
  pumping = false;
  pump.join();
  EXPECT_GE(arrivals.size(), 5u);
  EXPECT_LE(arrivals.size(), 11u);
  for (std::size_t i = 1; i < arrivals.size(); ++i)
    EXPECT_GE(arrivals[i] - arrivals[i - 1], 85ms) << i; // timer jitter, not a second snapshot
  stop(caf::actor_cast<caf::actor>(hub));
}

TEST_F(hub_test, without_any_collector_snapshots_keep_coming_and_show_everything_stale) {
  auto hub = sys.spawn(telemetry_hub, fast_settings());
  subscribe(hub);
  auto snap = wait_for([](auto& x) {
    for (auto& s : x.sections)
      if (!s.stale)
        return false;
    return true;
  });
  ASSERT_NE(snap, nullptr);
  EXPECT_EQ(snap->cpu, nullptr);
  EXPECT_EQ(snap->status.level, load_level::light);
  stop(caf::actor_cast<caf::actor>(hub));
}

// Counts the snapshots it receives. (A spawned function needs at least one argument: CAF
// 0.17 dereferences a null tuple for argument-less lambdas, which UBSan reports.)
caf::behavior counting_subscriber(caf::event_based_actor*, std::shared_ptr<std::atomic<int>> n) {
  return {[n](atom::publish, const telemetry_snapshot_ptr&) { ++*n; }};
}

TEST_F(hub_test, unsubscribed_and_dead_subscribers_get_nothing_more) {
  auto hub = sys.spawn(telemetry_hub, fast_settings());
  auto dead_received = std::make_shared<std::atomic<int>>(0);
  auto doomed = sys.spawn(counting_subscriber, dead_received);
  self->send(hub, atom::subscribe_v, doomed);
  subscribe(hub);
  ASSERT_NE(wait_for([](auto&) { return true; }), nullptr);
  stop(doomed);
  // The hub carries on for the living subscriber.
  ASSERT_NE(wait_for([](auto&) { return true; }), nullptr);
  ASSERT_NE(wait_for([](auto&) { return true; }), nullptr);

  self->send(hub, atom::unsubscribe_v, caf::actor_cast<caf::actor>(self));
  self->receive([](atom::publish, const telemetry_snapshot_ptr&) {}, caf::after(150ms) >> [] {});
  bool got = false;
  self->receive([&](atom::publish, const telemetry_snapshot_ptr&) { got = true; },
                caf::after(400ms) >> [] {});
  EXPECT_FALSE(got);
  stop(caf::actor_cast<caf::actor>(hub));
}

TEST_F(hub_test, query_answers_the_latest_snapshot_even_before_the_first_publish) {
  auto hub = sys.spawn(telemetry_hub, fast_settings());
  auto first = query(hub);
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->sequence, 1u);
  EXPECT_EQ(first->cpu, nullptr);
  self->send(hub, atom::publish_v, cpu_section_ptr{cpu_at(55)});
  subscribe(hub);
  auto published = wait_for([](auto& x) { return x.cpu != nullptr; });
  ASSERT_NE(published, nullptr);
  auto latest = query(hub);
  ASSERT_NE(latest, nullptr);
  EXPECT_GE(latest->sequence, published->sequence);
  ASSERT_NE(latest->cpu, nullptr);
  EXPECT_DOUBLE_EQ(*latest->cpu->usage_percent, 55);
  stop(caf::actor_cast<caf::actor>(hub));
}

TEST_F(hub_test, restored_user_pressure_keeps_since_and_makes_the_status_heavy) {
  auto hub = sys.spawn(telemetry_hub, fast_settings());
  subscribe(hub);
  auto two_hours_ago = now_ms() - 2h;
  user_pressure_state saved;
  saved.users.push_back({"alice", "cpu", two_hours_ago, two_hours_ago + 1h, 97, 970, 10, true});
  self->send(hub, atom::restore_v, saved);
  auto p = std::make_shared<processes_section>();
  p->sampled_at = now_ms();
  user_entry alice;
  alice.user = "alice";
  alice.uid = 1000;
  alice.cpu_percent = 90;
  p->users.push_back(alice);
  self->send(hub, atom::publish_v, processes_section_ptr{p});
  auto snap = wait_for([](auto& x) { return x.processes != nullptr; });
  ASSERT_NE(snap, nullptr);
  ASSERT_EQ(snap->user_pressure.size(), 1u);
  EXPECT_EQ(snap->user_pressure[0].since, two_hours_ago);
  EXPECT_TRUE(snap->user_pressure[0].persistent);
  EXPECT_EQ(snap->status.level, load_level::heavy);
  stop(caf::actor_cast<caf::actor>(hub));
}

TEST_F(hub_test, status_uses_cpu_load_per_core_from_the_cpu_section) {
  auto hub = sys.spawn(telemetry_hub, fast_settings());
  subscribe(hub);
  self->send(hub, atom::publish_v, cpu_section_ptr{cpu_at(5, 4, 4.4)}); // 1.1 per core
  auto snap = wait_for([](auto& x) { return x.cpu != nullptr; });
  ASSERT_NE(snap, nullptr);
  EXPECT_EQ(snap->status.level, load_level::heavy);
  ASSERT_EQ(snap->status.reasons.size(), 1u);
  EXPECT_EQ(snap->status.reasons[0], "load per core 110.0% >= 100%");
  stop(caf::actor_cast<caf::actor>(hub));
}

} // namespace
} // namespace vigil
