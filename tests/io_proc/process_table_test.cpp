#include "io/proc/process_table.hpp"
#include "tests/io_proc/proc_fixture.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace vigil::proc {
namespace {

using namespace std::chrono_literals;

using test::add_process;
using test::stat_line;
using test::status_text;

process_table_options fixture_options() {
  process_table_options o;
  o.clock_ticks_per_second = 100;
  o.page_size = 4096;
  o.user_name = [](std::uint32_t uid) -> std::optional<std::string> {
    static const std::map<std::uint32_t, std::string> names{{0, "root"}, {1000, "alice"}};
    auto it = names.find(uid);
    if (it == names.end())
      return std::nullopt;
    return it->second;
  };
  return o;
}

using namespace std::string_literals;
using namespace std::string_view_literals;

TEST(process_table, walks_pids_in_order_and_parses_each_process) {
  test::proc_fixture fx;
  fx.write("proc/stat", "cpu 1 2 3 4\nbtime 1700000000\n");
  fx.write("proc/uptime", "5000.25 9000.00\n");
  add_process(fx, 1, "systemd", 'S', 0, 150, 50, 1, 5, 3000, "/sbin/init\0splash\0"sv);
  add_process(fx, 42, "my (odd) name", 'R', 1000, 10, 5, 4, 250000, 100,
              "python3\0app.py\0--token\0abc123\0"sv);
  add_process(fx, 2, "kthreadd", 'S', 0, 0, 0, 1, 2, 0, "");
  add_process(fx, 300, "worker", 'D', 4242, 1, 1, 2, 300000, 10, "worker\0"sv);
  fx.make_directory("proc/self");
  fx.make_directory("proc/sys");
  fx.write("proc/version", "Linux\n");

  process_table_reader reader{fx.root(), fixture_options()};
  auto snap = reader.read();
  EXPECT_DOUBLE_EQ(snap.uptime_seconds, 5000.25);
  ASSERT_EQ(snap.processes.size(), 4u);
  EXPECT_EQ(snap.processes[0].pid, 1);
  EXPECT_EQ(snap.processes[1].pid, 2);
  EXPECT_EQ(snap.processes[2].pid, 42);
  EXPECT_EQ(snap.processes[3].pid, 300);

  const auto& init = snap.processes[0];
  EXPECT_EQ(init.name, "systemd");
  EXPECT_EQ(init.state, 'S');
  EXPECT_EQ(init.ppid, 1);
  EXPECT_EQ(init.uid, 0u);
  EXPECT_EQ(init.user, "root");
  EXPECT_EQ(init.threads, 1u);
  EXPECT_EQ(init.rss_bytes, 3000u * 4096);
  EXPECT_EQ(init.virtual_bytes, 123456789u);
  EXPECT_EQ(init.cpu_ticks, 200u);
  EXPECT_EQ(init.start_ticks, 5u);
  EXPECT_DOUBLE_EQ(init.start_time, 1700000000.05);
  EXPECT_EQ(init.cmdline, "/sbin/init splash");
  EXPECT_FALSE(init.cmdline_truncated);

  const auto& kthread = snap.processes[1];
  EXPECT_EQ(kthread.cmdline, "");
  EXPECT_EQ(kthread.rss_bytes, 0u);

  const auto& app = snap.processes[2];
  EXPECT_EQ(app.name, "my (odd) name");
  EXPECT_EQ(app.state, 'R');
  EXPECT_EQ(app.user, "alice");
  EXPECT_EQ(app.threads, 4u);
  EXPECT_EQ(app.cpu_ticks, 15u);
  EXPECT_EQ(app.cmdline, "python3 app.py --token ***");

  EXPECT_EQ(snap.processes[3].user, "4242"); // no passwd entry
  EXPECT_EQ(snap.processes[3].state, 'D');
}

TEST(process_table, processes_vanishing_mid_walk_are_skipped) {
  test::proc_fixture fx;
  fx.write("proc/uptime", "100.0 100.0\n");
  add_process(fx, 10, "alive", 'S', 0, 1, 1, 1, 1, 1, "alive\0"sv);
  fx.make_directory("proc/11"); // gone between readdir and open: no files at all
  fx.write("proc/12/stat", stat_line(12, "half", 'S', 1, 1, 1, 1, 1, 1, 1)); // status gone
  fx.write("proc/13/stat", "");                                              // torn down
  fx.write("proc/13/status", status_text("x", 0));
  add_process(fx, 14, "nocmd", 'S', 0, 1, 1, 1, 1, 1, "");
  fx.remove("proc/14/cmdline"); // cmdline gone after stat/status: the process is gone
  add_process(fx, 15, "alive2", 'S', 0, 1, 1, 1, 1, 1, "alive2\0"sv);
  process_table_reader reader{fx.root(), fixture_options()};
  auto snap = reader.read();
  ASSERT_EQ(snap.processes.size(), 2u);
  EXPECT_EQ(snap.processes[0].pid, 10);
  EXPECT_EQ(snap.processes[1].pid, 15);

  // A reused snapshot shrinks and its entries are overwritten.
  fx.remove("proc/15");
  reader.read(snap);
  ASSERT_EQ(snap.processes.size(), 1u);
  EXPECT_EQ(snap.processes[0].name, "alive");
}

TEST(process_table, missing_proc_throws_naming_it) {
  test::proc_fixture fx;
  try {
    process_table_reader{fx.root(), fixture_options()}.read();
    FAIL() << "no exception";
  } catch (const std::system_error& e) {
    EXPECT_NE(std::string(e.what()).find(fx.root().string() + "/proc"), std::string::npos)
        << e.what();
  }
}

TEST(process_table, command_lines_are_scrubbed_and_capped) {
  test::proc_fixture fx;
  fx.write("proc/uptime", "100.0 100.0\n");
  add_process(fx, 1, "mysql", 'S', 0, 1, 1, 1, 1, 1, "mysql\0-phunter2\0--password=abc def\0"sv);
  add_process(fx, 2, "long", 'S', 0, 1, 1, 1, 1, 1, "aaaaaaaaaa\0bbbbbbbbbb\0cccccccccc\0"sv);
  add_process(fx, 3, "utf8", 'S', 0, 1, 1, 1, 1, 1, "abcdefghijklmnopqrstuvwxyz01234\xc3\xa9"sv);
  // A URL whose password runs past the read limit (cap + 1 KiB) would not be recognised: the
  // argument cut by the limit is dropped whole.
  add_process(fx, 4, "cut", 'S', 0, 1, 1, 1, 1, 1,
              "prog\0https://user:"s + std::string(3000, 'p') + "@host/x\0"s);
  auto options = fixture_options();
  options.cmdline_max_bytes = 32;
  auto snap = process_table_reader{fx.root(), options}.read();
  ASSERT_EQ(snap.processes.size(), 4u);
  EXPECT_EQ(snap.processes[0].cmdline, "mysql -p*** --password=***");
  EXPECT_EQ(snap.processes[1].cmdline, "aaaaaaaaaa bbbbbbbbbb cccccccccc"); // exactly 32
  EXPECT_FALSE(snap.processes[1].cmdline_truncated);
  EXPECT_EQ(snap.processes[2].cmdline, "abcdefghijklmnopqrstuvwxyz01234"); // not half an 'é'
  EXPECT_TRUE(snap.processes[2].cmdline_truncated);
  EXPECT_EQ(snap.processes[3].cmdline, "prog");
  EXPECT_TRUE(snap.processes[3].cmdline_truncated);
}

TEST(process_table, a_secret_is_never_shown_whatever_the_cap) {
  test::proc_fixture fx;
  fx.write("proc/uptime", "100.0 100.0\n");
  add_process(fx, 1, "app", 'S', 0, 1, 1, 1, 1, 1,
              "app\0--password=supersecretvalue\0postgres://bob:supersecretvalue@db/x\0"sv);
  for (std::size_t cap = 1; cap < 80; ++cap) {
    auto options = fixture_options();
    options.cmdline_max_bytes = cap;
    auto snap = process_table_reader{fx.root(), options}.read();
    ASSERT_EQ(snap.processes.size(), 1u);
    const auto& c = snap.processes[0].cmdline;
    EXPECT_LE(c.size(), cap);
    EXPECT_EQ(c.find("supersec"), std::string::npos) << cap << ": " << c;
  }
}

const process_info* find_pid(const process_snapshot& snap, int pid) {
  for (const auto& p : snap.processes)
    if (p.pid == pid)
      return &p;
  return nullptr;
}

// Three processes; the uid and cmdline of each are cached after the first walk.
struct cache_fixture {
  test::proc_fixture fx;
  process_table_options options = fixture_options();
  cache_fixture() {
    fx.write("proc/uptime", "100.0 100.0\n");
    add_process(fx, 5, "app", 'S', 1000, 1, 1, 1, 50, 1, "app\0--mode=a\0"sv);
    add_process(fx, 6, "db", 'S', 0, 1, 1, 1, 60, 1, "db\0"sv);
    add_process(fx, 7, "web", 'S', 0, 1, 1, 1, 70, 1, "web\0"sv);
    options.detail_refresh_walks = 0;
  }
  // The same process (same start time and comm) with another uid and command line.
  void rewrite_details(int pid, std::uint32_t uid, std::string_view cmdline) const {
    auto dir = "proc/" + std::to_string(pid) + "/";
    fx.write(dir + "status", status_text("x", uid));
    fx.write(dir + "cmdline", cmdline);
  }
};

TEST(process_table_cache, a_steady_walk_keeps_the_uid_and_cmdline_first_read) {
  cache_fixture c;
  process_table_reader reader{c.fx.root(), c.options};
  auto snap = reader.read();
  ASSERT_EQ(snap.processes.size(), 3u);
  c.rewrite_details(5, 0, "other\0"sv);
  add_process(c.fx, 6, "db", 'R', 0, 90, 9, 3, 60, 7, "db\0"sv); // stat changes are read
  reader.read(snap);
  ASSERT_EQ(snap.processes.size(), 3u);
  EXPECT_EQ(snap.processes[0].uid, 1000u);
  EXPECT_EQ(snap.processes[0].user, "alice");
  EXPECT_EQ(snap.processes[0].cmdline, "app --mode=a");
  EXPECT_EQ(snap.processes[1].state, 'R');
  EXPECT_EQ(snap.processes[1].cpu_ticks, 99u);
  EXPECT_EQ(snap.processes[1].threads, 3u);
  EXPECT_EQ(snap.processes[1].rss_bytes, 7u * 4096);

  // Only stat is read: a process whose status and cmdline are gone is still listed.
  c.fx.remove("proc/7/status");
  c.fx.remove("proc/7/cmdline");
  reader.read(snap);
  ASSERT_EQ(snap.processes.size(), 3u);
  EXPECT_EQ(snap.processes[2].cmdline, "web");
  EXPECT_EQ(reader.cached_processes(), 3u);
}

TEST(process_table_cache, a_reused_pid_with_another_start_time_is_read_afresh) {
  cache_fixture c;
  process_table_reader reader{c.fx.root(), c.options};
  auto snap = reader.read();
  // Same pid and comm, new start time: a new process.
  add_process(c.fx, 5, "app", 'S', 0, 1, 1, 1, 999, 1, "app\0--mode=b\0"sv);
  reader.read(snap);
  ASSERT_EQ(snap.processes.size(), 3u);
  EXPECT_EQ(snap.processes[0].start_ticks, 999u);
  EXPECT_EQ(snap.processes[0].uid, 0u);
  EXPECT_EQ(snap.processes[0].user, "root");
  EXPECT_EQ(snap.processes[0].cmdline, "app --mode=b");

  // Gone and back between walks under a new start time: the same.
  c.fx.remove("proc/6");
  reader.read(snap);
  add_process(c.fx, 6, "db", 'S', 1000, 1, 1, 1, 1234, 1, "db\0--new\0"sv);
  reader.read(snap);
  ASSERT_EQ(snap.processes.size(), 3u);
  EXPECT_EQ(snap.processes[1].user, "alice");
  EXPECT_EQ(snap.processes[1].cmdline, "db --new");
}

TEST(process_table_cache, a_changed_comm_reads_uid_and_cmdline_again) {
  cache_fixture c;
  process_table_reader reader{c.fx.root(), c.options};
  auto snap = reader.read();
  // exec keeps the pid and start time but sets comm.
  add_process(c.fx, 7, "nginx", 'S', 1000, 1, 1, 1, 70, 1, "nginx\0-g\0daemon off;\0"sv);
  reader.read(snap);
  EXPECT_EQ(snap.processes[2].name, "nginx");
  EXPECT_EQ(snap.processes[2].user, "alice");
  EXPECT_EQ(snap.processes[2].cmdline, "nginx -g daemon off;");
}

TEST(process_table_cache, pids_gone_from_the_walk_are_pruned_and_their_files_closed) {
  cache_fixture c;
  process_table_reader reader{c.fx.root(), c.options};
  auto snap = reader.read();
  EXPECT_EQ(reader.cached_processes(), 3u);
  EXPECT_EQ(reader.open_stat_files(), 3u);
  c.fx.remove("proc/6");
  reader.read(snap);
  ASSERT_EQ(snap.processes.size(), 2u);
  EXPECT_EQ(reader.cached_processes(), 2u);
  EXPECT_EQ(reader.open_stat_files(), 2u);
  c.fx.remove("proc/5");
  c.fx.remove("proc/7");
  reader.read(snap);
  EXPECT_TRUE(snap.processes.empty());
  EXPECT_EQ(reader.cached_processes(), 0u);
  EXPECT_EQ(reader.open_stat_files(), 0u);
}

TEST(process_table_cache, open_stat_files_are_bounded) {
  for (std::size_t limit : {0u, 1u, 2u}) {
    cache_fixture c;
    c.options.max_open_stat_files = limit;
    process_table_reader reader{c.fx.root(), c.options};
    process_snapshot snap;
    for (int walk = 0; walk < 3; ++walk) {
      add_process(c.fx, 6, "db", 'S', 0, 1, static_cast<std::uint64_t>(walk), 1, 60, 1, "db\0"sv);
      reader.read(snap);
      ASSERT_EQ(snap.processes.size(), 3u);
      EXPECT_EQ(snap.processes[1].cpu_ticks, 1u + static_cast<std::uint64_t>(walk));
      EXPECT_EQ(reader.open_stat_files(), limit);
    }
  }
}

TEST(process_table_cache, the_uid_is_read_again_every_n_walks_the_cmdline_is_not) {
  cache_fixture c;
  c.options.detail_refresh_walks = 3;
  process_table_reader reader{c.fx.root(), c.options};
  auto snap = reader.read(); // walk 1
  c.rewrite_details(5, 0, "rewritten\0"sv);
  // pid 5 is due on the walks where (walk + 5) % 3 == 0: 4, 7, …
  reader.read(snap); // 2
  EXPECT_EQ(snap.processes[0].user, "alice");
  reader.read(snap); // 3
  EXPECT_EQ(snap.processes[0].user, "alice");
  reader.read(snap); // 4
  EXPECT_EQ(snap.processes[0].uid, 0u);
  EXPECT_EQ(snap.processes[0].user, "root");
  EXPECT_EQ(snap.processes[0].cmdline, "app --mode=a");
}

TEST(process_table_cache, refresh_reads_one_process_again_and_updates_the_cache) {
  cache_fixture c;
  process_table_reader reader{c.fx.root(), c.options};
  auto snap = reader.read();
  c.rewrite_details(5, 0, "app\0--password=hunter2\0"sv);
  auto app = snap.processes[0];
  ASSERT_TRUE(reader.refresh(app));
  EXPECT_EQ(app.uid, 0u);
  EXPECT_EQ(app.user, "root");
  EXPECT_EQ(app.cmdline, "app --password=***"); // still scrubbed
  reader.read(snap);
  EXPECT_EQ(snap.processes[0].user, "root");
  EXPECT_EQ(snap.processes[0].cmdline, "app --password=***");

  // Another process under the pid now, or none: nothing is read.
  add_process(c.fx, 6, "db", 'S', 1000, 1, 1, 1, 61, 1, "db2\0"sv);
  auto db = snap.processes[1];
  EXPECT_FALSE(reader.refresh(db));
  EXPECT_EQ(db.cmdline, "db");
  auto web = snap.processes[2];
  c.fx.remove("proc/7");
  EXPECT_FALSE(reader.refresh(web));
  process_info unknown;
  unknown.pid = 99;
  EXPECT_FALSE(reader.refresh(unknown));
}

process_info proc_entry(int pid, std::uint64_t cpu, std::uint64_t start, std::uint32_t uid,
                        std::string user, char state, std::uint64_t rss, std::uint32_t threads) {
  process_info p;
  p.pid = pid;
  p.name = "p" + std::to_string(pid);
  p.cpu_ticks = cpu;
  p.start_ticks = start;
  p.uid = uid;
  p.user = std::move(user);
  p.state = state;
  p.rss_bytes = rss;
  p.threads = threads;
  return p;
}

// Previous walk at uptime 1000 s; the current one 2 s later. 100 ticks per second.
process_snapshot previous_walk() {
  process_snapshot s;
  s.uptime_seconds = 1000;
  s.processes = {proc_entry(1, 1000, 5, 0, "root", 'S', 0, 1),
                 proc_entry(10, 500, 100, 1000, "alice", 'R', 0, 8),
                 proc_entry(20, 300, 200, 1000, "alice", 'S', 0, 1), // exits
                 proc_entry(30, 50, 300, 1001, "bob", 'S', 0, 1)};   // exits, pid reused
  return s;
}

process_snapshot current_walk() {
  process_snapshot s;
  s.uptime_seconds = 1002;
  s.processes = {proc_entry(1, 1100, 5, 0, "root", 'S', 100000, 1),           // +100 ticks
                 proc_entry(10, 900, 100, 1000, "alice", 'R', 300000, 8),     // +400 ticks
                 proc_entry(30, 20, 100100, 1000, "alice", 'Z', 50000, 1),    // new, 20 ticks
                 proc_entry(40, 40, 100050, 1001, "bob", 'D', 200000, 4),     // new, 40 ticks
                 proc_entry(50, 9999, 50000, 33, "www-data", 'I', 10000, 2)}; // missed before
  return s;
}

TEST(process_table, cpu_percent_from_two_walks) {
  auto cpu = compute_process_cpu(previous_walk(), current_walk(), 2s, 100);
  ASSERT_EQ(cpu.size(), 5u);
  EXPECT_DOUBLE_EQ(cpu[0].value_or(-1), 50.0);  // 1 s of CPU in 2 s
  EXPECT_DOUBLE_EQ(cpu[1].value_or(-1), 200.0); // two CPUs' worth
  EXPECT_DOUBLE_EQ(cpu[2].value_or(-1), 10.0);  // reused pid: a new process born in the interval
  EXPECT_DOUBLE_EQ(cpu[3].value_or(-1), 20.0);
  EXPECT_FALSE(cpu[4]); // started before the previous walk but not in it: unknown

  auto first = compute_process_cpu(process_snapshot{}, current_walk(), 2s, 100);
  for (const auto& c : first)
    EXPECT_FALSE(c); // no previous walk: no CPU time is attributed to the interval
}

TEST(process_table, summary_tops_states_threads_and_users) {
  process_summary_options options;
  options.top_n = 2;
  options.clock_ticks_per_second = 100;
  auto s = summarize_processes(previous_walk(), current_walk(), 2s, 1'000'000, options);
  EXPECT_EQ(s.processes, 5u);
  EXPECT_EQ(s.threads, 16u);
  EXPECT_EQ(s.states.running, 1u);
  EXPECT_EQ(s.states.sleeping, 1u);
  EXPECT_EQ(s.states.zombie, 1u);
  EXPECT_EQ(s.states.disk_sleep, 1u);
  EXPECT_EQ(s.states.idle, 1u);
  EXPECT_EQ(s.states.stopped, 0u);

  ASSERT_EQ(s.top_by_cpu.size(), 2u);
  EXPECT_EQ(s.top_by_cpu[0].pid, 10);
  EXPECT_DOUBLE_EQ(s.top_by_cpu[0].cpu_percent, 200.0);
  EXPECT_EQ(s.top_by_cpu[0].user, "alice");
  EXPECT_EQ(s.top_by_cpu[1].pid, 1);

  ASSERT_EQ(s.top_by_memory.size(), 2u);
  EXPECT_EQ(s.top_by_memory[0].pid, 10);
  EXPECT_DOUBLE_EQ(s.top_by_memory[0].memory_percent, 30.0);
  EXPECT_EQ(s.top_by_memory[1].pid, 40);
  EXPECT_EQ(s.top_by_memory[1].rss_bytes, 200000u);

  ASSERT_EQ(s.users.size(), 4u);
  EXPECT_EQ(s.users[0].user, "alice");
  EXPECT_DOUBLE_EQ(s.users[0].cpu_percent, 210.0);
  EXPECT_DOUBLE_EQ(s.users[0].memory_percent, 35.0);
  EXPECT_EQ(s.users[0].rss_bytes, 350000u);
  EXPECT_EQ(s.users[0].processes, 2u);
  EXPECT_EQ(s.users[1].user, "root");
  EXPECT_EQ(s.users[2].user, "bob");
  EXPECT_DOUBLE_EQ(s.users[2].memory_percent, 20.0);
  EXPECT_EQ(s.users[3].user, "www-data");
  EXPECT_DOUBLE_EQ(s.users[3].cpu_percent, 0.0);
}

std::vector<std::string> user_names(const process_summary& s) {
  std::vector<std::string> out;
  for (const auto& u : s.users)
    out.push_back(u.user);
  return out;
}

TEST(process_table, user_filters_minimum_uid_exclusions_and_minimum_usage) {
  process_summary_options o;
  o.clock_ticks_per_second = 100;
  o.min_uid = 1000;
  auto s = summarize_processes(previous_walk(), current_walk(), 2s, 1'000'000, o);
  EXPECT_EQ(user_names(s), (std::vector<std::string>{"alice", "bob"}));

  o.excluded_users = {"bob"};
  s = summarize_processes(previous_walk(), current_walk(), 2s, 1'000'000, o);
  EXPECT_EQ(user_names(s), (std::vector<std::string>{"alice"}));

  o = {};
  o.clock_ticks_per_second = 100;
  o.min_user_cpu_percent = 30;
  s = summarize_processes(previous_walk(), current_walk(), 2s, 1'000'000, o);
  EXPECT_EQ(user_names(s), (std::vector<std::string>{"alice", "root"}));

  o.min_user_cpu_percent = 100;
  o.min_user_memory_percent = 15; // either minimum is enough
  s = summarize_processes(previous_walk(), current_walk(), 2s, 1'000'000, o);
  EXPECT_EQ(user_names(s), (std::vector<std::string>{"alice", "bob"}));
}

TEST(process_table, real_proc_contains_this_process) {
  process_table_reader reader;
  auto snap = reader.read();
  ASSERT_GT(snap.processes.size(), 0u);
  EXPECT_GT(snap.uptime_seconds, 0.0);
  const process_info* self = nullptr;
  for (const auto& p : snap.processes)
    if (p.pid == ::getpid())
      self = &p;
  ASSERT_NE(self, nullptr);
  EXPECT_EQ(self->uid, ::getuid());
  EXPECT_FALSE(self->user.empty());
  EXPECT_GE(self->threads, 1u);
  EXPECT_GT(self->rss_bytes, 0u);
  EXPECT_NE(self->cmdline.find("io_proc_tests"), std::string::npos) << self->cmdline;
  EXPECT_GT(self->start_time, 946684800.0);
  EXPECT_TRUE(std::is_sorted(snap.processes.begin(), snap.processes.end(),
                             [](const auto& a, const auto& b) { return a.pid < b.pid; }));
}

TEST(process_table, real_walks_keep_stat_files_open_and_refresh_self) {
  process_table_reader reader;
  auto snap = reader.read();
  reader.read(snap);
  EXPECT_GT(reader.open_stat_files(), 0u);
  EXPECT_LE(reader.open_stat_files(), reader.cached_processes());
  const process_info* self = find_pid(snap, ::getpid());
  ASSERT_NE(self, nullptr);
  auto copy = *self;
  ASSERT_TRUE(reader.refresh(copy));
  EXPECT_EQ(copy.uid, ::getuid());
  EXPECT_NE(copy.cmdline.find("io_proc_tests"), std::string::npos) << copy.cmdline;
}

TEST(process_table, real_cpu_percent_of_a_busy_process) {
  process_table_reader reader;
  auto before = reader.read();
  auto start = std::chrono::steady_clock::now();
  volatile std::uint64_t sink = 0;
  while (std::chrono::steady_clock::now() - start < 300ms)
    sink = sink + 1;
  auto after = reader.read();
  auto elapsed = std::chrono::steady_clock::now() - start;
  auto cpu = compute_process_cpu(before, after, elapsed);
  std::optional<double> self;
  for (std::size_t i = 0; i < after.processes.size(); ++i)
    if (after.processes[i].pid == ::getpid())
      self = cpu[i];
  ASSERT_TRUE(self);
  EXPECT_GT(*self, 5.0);   // it spun for the whole interval (on a shared machine)
  EXPECT_LT(*self, 250.0); // one spinning thread
}

TEST(process_table, real_walks_survive_processes_exiting_meanwhile) {
  std::atomic<bool> stop{false};
  std::thread spawner{[&] {
    while (!stop) {
      pid_t pid = ::fork();
      if (pid == 0)
        ::_exit(0);
      if (pid > 0)
        ::waitpid(pid, nullptr, 0);
    }
  }};
  process_table_reader reader;
  process_snapshot snap;
  bool always_found_self = true;
  for (int i = 0; i < 30; ++i) {
    reader.read(snap);
    bool found = false;
    for (const auto& p : snap.processes)
      found |= p.pid == ::getpid();
    always_found_self &= found;
  }
  stop = true;
  spawner.join();
  EXPECT_TRUE(always_found_self);
}

TEST(process_table, user_names_are_cached) {
  int lookups = 0;
  process_table_options o;
  o.user_name = [&](std::uint32_t uid) -> std::optional<std::string> {
    ++lookups;
    return "u" + std::to_string(uid);
  };
  test::proc_fixture fx;
  process_table_reader reader{fx.root(), o};
  EXPECT_EQ(reader.user_name(5), "u5");
  EXPECT_EQ(reader.user_name(5), "u5");
  EXPECT_EQ(reader.user_name(6), "u6");
  EXPECT_EQ(lookups, 2);
  EXPECT_EQ(process_table_reader{}.user_name(0), "root"); // getpwuid_r
}

} // namespace
} // namespace vigil::proc
