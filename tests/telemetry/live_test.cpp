// Sanity on this machine: every collector against the real /proc, and the whole telemetry
// tree (hub + the production collector specs) producing a JSON snapshot with sane ranges.

#include "actors/supervisor.hpp"
#include "actors/telemetry_json.hpp"
#include "tests/telemetry/sampler_helpers.hpp"

#include <caf/all.hpp>
#include <gtest/gtest.h>

#include <thread>
#include <unistd.h>

namespace vigil {
namespace {

using namespace std::chrono_literals;

template <class Sampler>
auto live_section() {
  settings s;
  Sampler sampler{collector_options{}, s};
  auto t0 = std::chrono::steady_clock::now();
  auto first = sampler.sample(test::wall0, t0);
  if (first)
    return first;
  std::this_thread::sleep_for(200ms);
  return sampler.sample(test::wall1, std::chrono::steady_clock::now());
}

TEST(live_machine, cpu_values_are_in_range) {
  auto cpu = live_section<cpu_sampler>();
  ASSERT_NE(cpu, nullptr);
  ASSERT_TRUE(cpu->usage_percent);
  EXPECT_GE(*cpu->usage_percent, 0.0);
  EXPECT_LE(*cpu->usage_percent, 100.0);
  EXPECT_EQ(cpu->logical_cores, static_cast<unsigned>(sysconf(_SC_NPROCESSORS_ONLN)));
  EXPECT_EQ(cpu->cores.size(), cpu->logical_cores);
  EXPECT_GE(cpu->load_one, 0.0);
  EXPECT_GT(cpu->uptime_seconds, 0.0);
  EXPECT_GT(cpu->boot_time, 1000000000);
}

TEST(live_machine, memory_values_are_in_range) {
  auto mem = live_section<memory_sampler>();
  ASSERT_NE(mem, nullptr);
  auto pages = static_cast<uint64_t>(sysconf(_SC_PHYS_PAGES));
  auto page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  EXPECT_NEAR(static_cast<double>(mem->total_bytes), static_cast<double>(pages * page),
              0.01 * static_cast<double>(pages * page));
  EXPECT_GT(mem->used_percent, 0.0);
  EXPECT_LT(mem->used_percent, 100.0);
  EXPECT_LE(mem->available_bytes, mem->total_bytes);
}

TEST(live_machine, disk_network_and_filesystems_are_readable) {
  auto disk = live_section<disk_sampler>();
  ASSERT_NE(disk, nullptr);
  EXPECT_GE(disk->read_bytes_per_second, 0.0);
  auto net = live_section<network_sampler>();
  ASSERT_NE(net, nullptr);
  EXPECT_GE(net->rx_bytes_per_second, 0.0);
  ASSERT_TRUE(net->tcp);
  auto fs = live_section<filesystem_sampler>();
  ASSERT_NE(fs, nullptr);
  for (auto& f : fs->filesystems)
    if (f.status == "ok") {
      EXPECT_GE(f.used_percent, 0.0) << f.mount_point;
      EXPECT_LE(f.used_percent, 100.0) << f.mount_point;
    }
}

TEST(live_machine, this_process_is_in_the_process_table) {
  settings s;
  s.telemetry.top_processes = 100000;
  process_sampler sampler{collector_options{}, s};
  ASSERT_EQ(sampler.sample(test::wall0, std::chrono::steady_clock::now()), nullptr);
  // Burn some CPU so that this process has a measurable share.
  auto until = std::chrono::steady_clock::now() + 300ms;
  volatile uint64_t x = 0;
  while (std::chrono::steady_clock::now() < until)
    x = x + 1;
  auto p = sampler.sample(test::wall1, std::chrono::steady_clock::now());
  ASSERT_NE(p, nullptr);
  EXPECT_GE(p->total, 2u);
  auto self = std::find_if(p->top_by_cpu.begin(), p->top_by_cpu.end(),
                           [](auto& e) { return e.pid == getpid(); });
  ASSERT_NE(self, p->top_by_cpu.end());
  EXPECT_GT(self->cpu_percent, 20.0);
  EXPECT_GT(self->rss_bytes, 0u);
}

TEST(live_machine, the_telemetry_tree_publishes_a_complete_snapshot) {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  settings st;
  st.node_id = "live-test";
  st.telemetry.interval = 200ms;
  st.telemetry.slow_interval = 400ms;
  auto s = std::make_shared<const settings>(st);
  auto children = telemetry_collector_specs();
  ASSERT_EQ(children.size(), 8u); // six /proc collectors, services, containers
  children.insert(children.begin(),
                  std::make_shared<child_spec>(
                      child_spec{"hub", [](caf::actor_system& sys, const settings_ptr& s) {
                                   auto hub = sys.spawn(telemetry_hub, s);
                                   sys.registry().put(caf::atom("telemetry"),
                                                      caf::actor_cast<caf::strong_actor_ptr>(hub));
                                   return caf::actor_cast<caf::actor>(hub);
                                 }}));
  auto sup = sys.spawn(supervisor, "telemetry", children, s);
  struct stop_at_exit {
    caf::actor handle;
    ~stop_at_exit() { caf::anon_send_exit(handle, caf::exit_reason::user_shutdown); }
  } guard{caf::actor_cast<caf::actor>(sup)};
  caf::scoped_actor self{sys};
  telemetry_hub_actor hub;
  for (int i = 0; i < 500 && !hub; ++i) { // children start asynchronously
    hub = find_telemetry_hub(sys);
    if (!hub)
      std::this_thread::sleep_for(10ms);
  }
  ASSERT_TRUE(hub);
  self->send(hub, atom::subscribe_v, caf::actor_cast<caf::actor>(self));
  telemetry_snapshot_ptr snap;
  auto until = std::chrono::steady_clock::now() + 10s;
  while (!snap && std::chrono::steady_clock::now() < until)
    self->receive(
        [&](atom::publish, const telemetry_snapshot_ptr& x) {
          if (x->cpu && x->memory && x->disk_io && x->network && x->filesystems && x->processes)
            snap = x;
        },
        caf::after(100ms) >> [] {});
  ASSERT_NE(snap, nullptr);
  for (auto& sec : snap->sections) {
    EXPECT_FALSE(sec.stale);
    EXPECT_TRUE(sec.error.empty()) << sec.error;
  }
  auto j = telemetry_to_json(*snap);
  EXPECT_EQ(j.at("node_id"), "live-test");
  auto cpu = j.at("cpu_usage_percent").get<double>();
  EXPECT_GE(cpu, 0.0);
  EXPECT_LE(cpu, 100.0);
  auto mem = j.at("memory_usage_percent").get<double>();
  EXPECT_GT(mem, 0.0);
  EXPECT_LT(mem, 100.0);
  EXPECT_GT(j.at("uptime_seconds").get<int64_t>(), 0);
  EXPECT_TRUE(j.at("load_average").at("one_minute").is_number());
  EXPECT_GE(j.at("processes").at("total").get<int>(), 2);
  EXPECT_FALSE(j.at("processes").at("top_by_memory").empty());
  EXPECT_TRUE(j.at("system_status").at("label").is_string());
  self->send_exit(sup, caf::exit_reason::user_shutdown);
  self->wait_for(sup);
  sys.registry().erase(caf::atom("telemetry"));
}

} // namespace
} // namespace vigil
