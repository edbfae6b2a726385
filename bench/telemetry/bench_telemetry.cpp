// Idle cost of the telemetry collectors.
//
//   bench_telemetry [SECONDS]              an actor system like vigil's (sharing scheduler,
//                                          2 threads) with the telemetry supervisor: hub + all
//                                          six collectors at 1 s, one subscriber turning each
//                                          snapshot into JSON; measures this process
//   bench_telemetry --pid PID [SECONDS]    measures another process (the real vigil, see
//                                          run_telemetry_bench.sh)
//   bench_telemetry --samplers [N]         CPU time of one sample() of each collector on this
//                                          machine (median of N, default 200)
//
// Every second it reads utime+stime from /proc/PID/stat and VmRSS from /proc/PID/status, then
// prints the median CPU % of one core over 10 s windows, the overall average, and RSS
// min/median/max. SECONDS defaults to 300.

#include "actors/cpu_collector.hpp"
#include "actors/disk_collector.hpp"
#include "actors/filesystem_collector.hpp"
#include "actors/memory_collector.hpp"
#include "actors/network_collector.hpp"
#include "actors/process_collector.hpp"
#include "actors/supervisor.hpp"
#include "actors/telemetry_collector.hpp"
#include "actors/telemetry_hub.hpp"
#include "actors/telemetry_json.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace std::chrono_literals;

namespace {

struct usage {
  double cpu_seconds = 0;
  double rss_mib = 0;
};

usage read_usage(int pid) {
  usage u;
  std::ifstream stat{"/proc/" + std::to_string(pid) + "/stat"};
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  auto close = text.rfind(')');
  if (close == std::string::npos)
    return u;
  std::istringstream rest{text.substr(close + 2)};
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14)
      utime = std::stoull(field);
    if (i == 15)
      stime = std::stoull(field);
  }
  u.cpu_seconds = static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
  std::ifstream status{"/proc/" + std::to_string(pid) + "/status"};
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmRSS:", 0) == 0)
      u.rss_mib = std::stod(line.substr(6)) / 1024.0;
  return u;
}

double median(std::vector<double> xs) {
  if (xs.empty())
    return 0;
  std::sort(xs.begin(), xs.end());
  auto n = xs.size();
  return n % 2 ? xs[n / 2] : (xs[n / 2 - 1] + xs[n / 2]) / 2;
}

// CPU time moves in clock ticks (10 ms): a 1 s window of an agent that needs a few ms per
// second reads 0 or 1 %, so the median is taken over 10 s windows (1 s when shorter).
void measure(int pid, int seconds, const char* what) {
  const int window = seconds >= 20 ? 10 : 1;
  std::vector<double> cpu_percent;
  std::vector<double> rss;
  auto first = read_usage(pid);
  auto window_start = first;
  auto start = std::chrono::steady_clock::now();
  auto window_at = start;
  auto last = first;
  for (int i = 1; i <= seconds; ++i) {
    std::this_thread::sleep_until(start + std::chrono::seconds{i});
    last = read_usage(pid);
    rss.push_back(last.rss_mib);
    if (i % window == 0) {
      auto now = std::chrono::steady_clock::now();
      double elapsed = std::chrono::duration<double>(now - window_at).count();
      cpu_percent.push_back(100.0 * (last.cpu_seconds - window_start.cpu_seconds) / elapsed);
      window_start = last;
      window_at = now;
    }
  }
  double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  auto [lo, hi] = std::minmax_element(rss.begin(), rss.end());
  auto [clo, chi] = std::minmax_element(cpu_percent.begin(), cpu_percent.end());
  std::printf("%s, pid %d, %d s\n", what, pid, seconds);
  std::printf("cpu %% of one core: median %.3f over %d s windows (min %.3f, max %.3f); "
              "average %.3f (%.2f cpu-s in %.0f s)\n",
              median(cpu_percent), window, *clo, *chi,
              100.0 * (last.cpu_seconds - first.cpu_seconds) / total,
              last.cpu_seconds - first.cpu_seconds, total);
  std::printf("rss MiB: min %.1f, median %.1f, max %.1f\n", *lo, median(rss), *hi);
}

double process_cpu_us() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

template <class Sampler>
void time_sampler(const char* name, int n) {
  vigil::settings s;
  Sampler sampler{vigil::collector_options{}, s};
  std::vector<double> us;
  for (int i = 0; i <= n; ++i) {
    auto now =
        std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
    auto t0 = process_cpu_us();
    auto section = sampler.sample(now, std::chrono::steady_clock::now());
    auto t1 = process_cpu_us();
    if (i > 0) // the first is a baseline
      us.push_back(t1 - t0);
    std::this_thread::sleep_for(10ms);
  }
  std::printf("%-22s median %8.1f us cpu per sample\n", name, median(us));
}

// Turns every snapshot into JSON, as the WebSocket and the backend poster will.
caf::behavior json_subscriber(caf::event_based_actor*, std::atomic<uint64_t>* snapshots,
                              std::atomic<uint64_t>* bytes) {
  return {[=](vigil::atom::publish, const vigil::telemetry_snapshot_ptr& snap) {
    *bytes += vigil::telemetry_to_json(*snap).dump().size();
    ++*snapshots;
  }};
}

} // namespace

int main(int argc, char** argv) {
  int pid = 0;
  int seconds = 300;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--pid" && i + 1 < argc) {
      pid = std::stoi(argv[++i]);
    } else if (a == "--samplers") {
      int n = i + 1 < argc ? std::stoi(argv[i + 1]) : 200;
      time_sampler<vigil::cpu_sampler>("cpu_collector", n);
      time_sampler<vigil::memory_sampler>("memory_collector", n);
      time_sampler<vigil::disk_sampler>("disk_collector", n);
      time_sampler<vigil::network_sampler>("network_collector", n);
      time_sampler<vigil::filesystem_sampler>("filesystem_collector", n);
      time_sampler<vigil::process_sampler>("process_collector", n);
      return 0;
    } else
      seconds = std::stoi(a);
  }
  if (pid) {
    measure(pid, seconds, "external process");
    return 0;
  }
  caf::actor_system_config cfg;
  cfg.set("scheduler.policy", caf::atom("sharing"));
  cfg.set("scheduler.max-threads", size_t{2});
  caf::actor_system sys{cfg};
  vigil::settings st;
  st.node_id = "bench";
  st.telemetry.interval = 1s;
  st.telemetry.slow_interval = 1s;
  auto s = std::make_shared<const vigil::settings>(st);
  auto children = vigil::telemetry_collector_specs();
  children.insert(children.begin(),
                  std::make_shared<vigil::child_spec>(vigil::child_spec{
                      "hub", [](caf::actor_system& sys, const vigil::settings_ptr& s) {
                        auto hub = sys.spawn(vigil::telemetry_hub, s);
                        sys.registry().put(caf::atom("telemetry"),
                                           caf::actor_cast<caf::strong_actor_ptr>(hub));
                        return caf::actor_cast<caf::actor>(hub);
                      }}));
  auto sup = sys.spawn(vigil::supervisor, "telemetry", children, s);
  std::atomic<uint64_t> snapshots{0};
  std::atomic<uint64_t> json_bytes{0};
  auto sink = sys.spawn(json_subscriber, &snapshots, &json_bytes);
  std::this_thread::sleep_for(200ms); // the supervisor starts the hub
  auto hub = vigil::find_telemetry_hub(sys);
  caf::anon_send(hub, vigil::atom::subscribe_v, sink);
  measure(getpid(), seconds, "in-process telemetry (hub + 6 collectors, JSON subscriber)");
  std::printf("snapshots received: %llu, average JSON size %llu bytes\n",
              static_cast<unsigned long long>(snapshots.load()),
              static_cast<unsigned long long>(snapshots ? json_bytes / snapshots : 0));
  caf::anon_send_exit(sup, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(sink, caf::exit_reason::user_shutdown);
  sys.registry().erase(caf::atom("telemetry"));
  return 0;
}
