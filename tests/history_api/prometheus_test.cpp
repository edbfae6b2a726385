// GET /metrics: the text exposition format 0.0.4 checked by a small parser (every sample line
// parses, HELP and TYPE once per family before its samples, families contiguous, label values
// escaped), then the endpoint over real HTTP with live telemetry and real actors.
#include "actors/outbox.hpp"
#include "actors/prometheus_exposition.hpp"
#include "tests/history_api/history_fixture.hpp"

#include <fstream>
#include <map>
#include <set>

namespace vigil {
namespace {

using namespace std::chrono_literals;

struct prom_sample {
  std::string name;
  std::map<std::string, std::string> labels; // unescaped values
  double value = 0;
};

struct prom_family {
  std::string help, type;
  int help_lines = 0, type_lines = 0;
  std::vector<prom_sample> samples;
};

struct parsed_exposition {
  std::map<std::string, prom_family> families;
  std::vector<std::string> errors;

  const prom_family* family(const std::string& name) const {
    auto it = families.find(name);
    return it == families.end() ? nullptr : &it->second;
  }

  // The value of the one sample of `name` whose labels include `labels`.
  std::optional<double> value(const std::string& name,
                              const std::map<std::string, std::string>& labels = {}) const {
    auto f = family(name);
    if (!f)
      return std::nullopt;
    for (const auto& s : f->samples)
      if (std::all_of(labels.begin(), labels.end(), [&](auto& kv) {
            auto it = s.labels.find(kv.first);
            return it != s.labels.end() && it->second == kv.second;
          }))
        return s.value;
    return std::nullopt;
  }
};

bool valid_name(const std::string& s, bool metric) {
  if (s.empty())
    return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool ok = std::isalpha(static_cast<unsigned char>(c)) || c == '_' || (metric && c == ':') ||
              (i > 0 && std::isdigit(static_cast<unsigned char>(c)));
    if (!ok)
      return false;
  }
  return true;
}

std::optional<double> parse_value(const std::string& s) {
  if (s == "NaN")
    return std::nan("");
  if (s == "+Inf")
    return HUGE_VAL;
  if (s == "-Inf")
    return -HUGE_VAL;
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0' || std::isalpha(static_cast<unsigned char>(s[0])))
    return std::nullopt;
  return v;
}

// Parses one sample line: name[{k="v",...}] value
std::optional<prom_sample> parse_sample(const std::string& line, std::string& error) {
  prom_sample s;
  std::size_t i = 0;
  while (i < line.size() && line[i] != '{' && line[i] != ' ')
    ++i;
  s.name = line.substr(0, i);
  if (!valid_name(s.name, true)) {
    error = "bad metric name";
    return std::nullopt;
  }
  if (i < line.size() && line[i] == '{') {
    ++i;
    while (i < line.size() && line[i] != '}') {
      auto eq = line.find('=', i);
      if (eq == std::string::npos) {
        error = "label without '='";
        return std::nullopt;
      }
      auto key = line.substr(i, eq - i);
      if (!valid_name(key, false) || key.rfind("__", 0) == 0) {
        error = "bad label name '" + key + "'";
        return std::nullopt;
      }
      i = eq + 1;
      if (i >= line.size() || line[i] != '"') {
        error = "label value not quoted";
        return std::nullopt;
      }
      ++i;
      std::string value;
      for (;; ++i) {
        if (i >= line.size()) {
          error = "unterminated label value";
          return std::nullopt;
        }
        char c = line[i];
        if (c == '"')
          break;
        if (c == '\\') {
          if (++i >= line.size()) {
            error = "dangling backslash";
            return std::nullopt;
          }
          char e = line[i];
          if (e == '\\')
            value += '\\';
          else if (e == '"')
            value += '"';
          else if (e == 'n')
            value += '\n';
          else {
            error = std::string{"bad escape \\"} + e;
            return std::nullopt;
          }
          continue;
        }
        value += c;
      }
      ++i; // closing quote
      if (!s.labels.emplace(key, value).second) {
        error = "label repeated";
        return std::nullopt;
      }
      if (i < line.size() && line[i] == ',')
        ++i;
    }
    if (i >= line.size()) {
      error = "unterminated label set";
      return std::nullopt;
    }
    ++i; // '}'
  }
  if (i >= line.size() || line[i] != ' ') {
    error = "no value";
    return std::nullopt;
  }
  auto rest = line.substr(i + 1);
  auto space = rest.find(' ');
  auto v = parse_value(rest.substr(0, space));
  if (!v) {
    error = "bad value '" + rest + "'";
    return std::nullopt;
  }
  if (space != std::string::npos) { // a timestamp: an integer
    auto ts = rest.substr(space + 1);
    if (ts.empty() || !std::all_of(ts.begin(), ts.end(), [](char c) {
          return std::isdigit(static_cast<unsigned char>(c)) || c == '-';
        })) {
      error = "bad timestamp";
      return std::nullopt;
    }
  }
  s.value = *v;
  return s;
}

parsed_exposition parse_exposition(const std::string& text) {
  parsed_exposition out;
  std::set<std::string> closed; // families whose samples ended
  std::set<std::string> series;
  std::string current;
  std::size_t pos = 0;
  int line_no = 0;
  auto fail = [&](const std::string& line, const std::string& why) {
    out.errors.push_back("line " + std::to_string(line_no) + " (" + why + "): " + line);
  };
  auto switch_to = [&](const std::string& name, const std::string& line) {
    if (name == current)
      return;
    if (closed.count(name))
      fail(line, "family " + name + " is not contiguous");
    if (!current.empty())
      closed.insert(current);
    current = name;
  };
  EXPECT_TRUE(text.empty() || text.back() == '\n') << "the exposition must end with a newline";
  while (pos < text.size()) {
    auto nl = text.find('\n', pos);
    auto line = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? text.size() : nl + 1;
    ++line_no;
    if (line.empty())
      continue;
    if (line[0] == '#') {
      std::istringstream in{line};
      std::string hash, kind, name;
      in >> hash >> kind >> name;
      if (kind != "HELP" && kind != "TYPE")
        continue; // a plain comment
      if (!valid_name(name, true)) {
        fail(line, "bad family name");
        continue;
      }
      switch_to(name, line);
      auto& f = out.families[name];
      auto rest = line.size() > hash.size() + kind.size() + name.size() + 3
                      ? line.substr(hash.size() + kind.size() + name.size() + 3)
                      : std::string{};
      if (!f.samples.empty())
        fail(line, kind + " after the family's samples");
      if (kind == "HELP") {
        ++f.help_lines;
        f.help = rest;
      } else {
        ++f.type_lines;
        f.type = rest;
        static const std::set<std::string> types{"counter", "gauge", "untyped", "summary",
                                                 "histogram"};
        if (!types.count(rest))
          fail(line, "unknown type '" + rest + "'");
      }
      continue;
    }
    std::string error;
    auto sample = parse_sample(line, error);
    if (!sample) {
      fail(line, error);
      continue;
    }
    switch_to(sample->name, line);
    auto& f = out.families[sample->name];
    if (f.type_lines == 0)
      fail(line, "sample before its TYPE line");
    std::string key = sample->name;
    for (auto& [k, v] : sample->labels)
      key += "\x1f" + k + "=" + v;
    if (!series.insert(key).second)
      fail(line, "duplicate series");
    f.samples.push_back(std::move(*sample));
  }
  for (auto& [name, f] : out.families) {
    if (f.help_lines != 1 || f.type_lines != 1)
      out.errors.push_back(name + ": " + std::to_string(f.help_lines) + " HELP and " +
                           std::to_string(f.type_lines) + " TYPE lines");
    if (f.type == "counter" && name.size() > 6 && name.substr(name.size() - 6) != "_total")
      out.errors.push_back(name + ": a counter without _total");
  }
  return out;
}

std::string errors_of(const parsed_exposition& p) {
  std::string out;
  for (auto& e : p.errors)
    out += e + "\n";
  return out;
}

wall_time at(int64_t ms) {
  return wall_time{std::chrono::milliseconds{ms}};
}

prometheus_inputs fixture_inputs() {
  prometheus_inputs in;
  in.version = "1.2.3";
  in.node_id = "node-1";
  in.uptime_seconds = 12.5;
  in.api_requests = 7;
  auto snap = std::make_shared<telemetry_snapshot>();
  snap->timestamp = at(1'700'000'000'000);
  auto cpu = std::make_shared<cpu_section>();
  cpu->load_one = 0.25;
  cpu->load_five = 0.5;
  cpu->load_fifteen = 1;
  cpu->usage_percent = 12.5;
  cpu->cores = {{0, 10.0}, {1, 15.0}};
  cpu->modes = cpu_modes_percent{5, 0, 7.5, 0, 0, 0, 0, 87.5};
  cpu->boot_time = 1'699'990'000;
  snap->cpu = cpu;
  auto mem = std::make_shared<memory_section>();
  mem->total_bytes = 8'000'000'000;
  mem->available_bytes = 6'000'000'000;
  snap->memory = mem;
  auto fs = std::make_shared<filesystems_section>();
  filesystem_entry weird;
  weird.device = "/dev/sda1";
  weird.mount_point = "/mnt/we\"ird\\dir\nx"; // quote, backslash, line feed
  weird.type = "ext4";
  weird.status = "ok";
  weird.total_bytes = 1000;
  weird.used_bytes = 400;
  weird.available_bytes = 550;
  filesystem_entry root = weird;
  root.mount_point = "/";
  root.available_bytes = 500;
  filesystem_entry hung = weird;
  hung.mount_point = "/nfs";
  hung.status = "stale";
  fs->filesystems = {weird, root, hung};
  snap->filesystems = fs;
  auto net = std::make_shared<network_section>();
  net->interfaces.push_back({"eth0", 10, 20, 1, 2, 0, 0, 0, 0, 123456789012, 42});
  net->interfaces.push_back({"wlan0", 1, 2, 1, 2, 0, 0, 0, 0, 5, 6});
  snap->network = net;
  auto procs = std::make_shared<processes_section>();
  procs->total = 100;
  procs->users.push_back({"bad\"user", 1001, 150.0, 3.5, 1 << 20, 4});
  snap->processes = procs;
  snap->user_pressure.push_back(
      {"bad\"user", "cpu", at(1'699'999'000'000), at(1'700'000'000'000), 150, 300, 2, false});
  in.snapshot = snap;
  in.actors = std::vector<child_status>{
      {"delivery", "running", 0, "", {{"outbox", "running", 2, "disk full", {}}}},
      {"telemetry", "running", 1, "", {{"hub", "restarting", 3, "", {}}}}};
  outbox_status o;
  o.lines = 1000;
  o.events = 40;
  o.streams = {{"logs", 3, 300, 1 << 20, 0, 0, 1500}, {"telemetry", 1, 10, 1 << 20, 5, 1, 0}};
  in.outbox = o;
  backend_status b;
  b.streams = {{"telemetry", 9, 1, 0, "", 0, 0}, {"heartbeat", 4, 0, 0, "", 0, 0}};
  in.backend = b;
  in.journal = journal_reader_status{"reading", 55, 3, 0, ""};
  history_status h;
  h.points = 999;
  in.history = h;
  return in;
}

TEST(prometheus_exposition, the_text_is_well_formed_and_label_values_are_escaped) {
  auto text = render_prometheus(fixture_inputs());
  auto p = parse_exposition(text);
  ASSERT_TRUE(p.errors.empty()) << errors_of(p) << "\n" << text;
  // The raw line carries the escapes; the parser gives the original value back.
  EXPECT_NE(text.find(R"(mountpoint="/mnt/we\"ird\\dir\nx")"), std::string::npos) << text;
  EXPECT_EQ(p.value("node_filesystem_avail_bytes", {{"mountpoint", "/mnt/we\"ird\\dir\nx"},
                                                    {"fstype", "ext4"},
                                                    {"device", "/dev/sda1"}}),
            550);
  EXPECT_EQ(p.value("node_filesystem_avail_bytes", {{"mountpoint", "/"}}), 500);
  EXPECT_EQ(p.value("node_filesystem_free_bytes", {{"mountpoint", "/"}}), 600);
  EXPECT_EQ(p.value("node_filesystem_device_error", {{"mountpoint", "/nfs"}}), 1);
  EXPECT_FALSE(p.value("node_filesystem_avail_bytes", {{"mountpoint", "/nfs"}}));
  EXPECT_EQ(p.value("vigil_user_cpu_percent", {{"user", "bad\"user"}}), 150);
  EXPECT_EQ(p.value("vigil_user_pressure_seconds", {{"user", "bad\"user"}, {"metric", "cpu"}}),
            1000);

  EXPECT_EQ(p.value("node_load1"), 0.25);
  EXPECT_EQ(p.value("node_load15"), 1);
  EXPECT_EQ(p.value("node_memory_MemTotal_bytes"), 8e9);
  EXPECT_EQ(p.value("node_memory_MemAvailable_bytes"), 6e9);
  EXPECT_EQ(p.value("node_network_receive_bytes_total", {{"device", "eth0"}}), 123456789012.0);
  EXPECT_EQ(p.family("node_network_receive_bytes_total")->type, "counter");
  EXPECT_EQ(p.family("node_network_receive_bytes_total")->samples.size(), 2u);
  EXPECT_EQ(p.value("vigil_cpu_mode_percent", {{"mode", "idle"}}), 87.5);
  EXPECT_EQ(p.value("vigil_cpu_core_usage_percent", {{"cpu", "1"}}), 15);
  EXPECT_EQ(p.family("vigil_cpu_usage_percent")->type, "gauge");
  // Only percentages: no pretend CPU-seconds counter.
  EXPECT_FALSE(p.family("node_cpu_seconds_total"));

  EXPECT_EQ(p.value("vigil_actor_restarts_total", {{"actor", "delivery/outbox"}}), 2);
  EXPECT_EQ(p.value("vigil_actor_up", {{"actor", "telemetry/hub"}}), 0);
  EXPECT_EQ(p.value("vigil_outbox_queue_records", {{"stream", "logs"}}), 3);
  EXPECT_EQ(p.value("vigil_outbox_dropped_total", {{"stream", "telemetry"}}), 5);
  EXPECT_EQ(p.value("vigil_outbox_oldest_age_seconds", {{"stream", "logs"}}), 1.5);
  EXPECT_EQ(p.value("vigil_log_lines_read_total"), 1000);
  EXPECT_EQ(p.value("vigil_backend_shipped_total", {{"stream", "telemetry"}}), 9);
  EXPECT_EQ(p.value("vigil_journal_entries_total"), 55);
  EXPECT_EQ(p.value("vigil_history_points_total"), 999);
  EXPECT_EQ(p.value("vigil_build_info", {{"version", "1.2.3"}, {"node_id", "node-1"}}), 1);
}

TEST(prometheus_exposition, without_telemetry_only_the_agent_figures_are_there) {
  prometheus_inputs in;
  in.version = "1";
  auto text = render_prometheus(in);
  auto p = parse_exposition(text);
  ASSERT_TRUE(p.errors.empty()) << errors_of(p) << "\n" << text;
  EXPECT_EQ(p.value("vigil_telemetry_up"), 0);
  EXPECT_FALSE(p.family("node_load1"));
}

TEST(prometheus_exposition, escape_label_value_escapes_exactly_three_characters) {
  EXPECT_EQ(escape_label_value("a\\b\"c\nd\te/"), "a\\\\b\\\"c\\nd\te/");
}

TEST(prometheus_exposition, the_test_parser_rejects_malformed_text) {
  for (auto bad : {"# HELP x a\n# TYPE x gauge\nx 1\nx 2\n",            // duplicate series
                   "# HELP x a\n# TYPE x gauge\nx{a=\"b\\q\"} 1\n",     // bad escape
                   "x 1\n",                                             // no TYPE
                   "# HELP x a\n# TYPE x gauge\n# TYPE x gauge\nx 1\n", // TYPE twice
                   "# HELP x a\n# TYPE x gauge\nx{a=\"1\"} 1\n# HELP y b\n# TYPE y gauge\ny 1\n"
                   "x{a=\"2\"} 1\n",                           // not contiguous
                   "# HELP x a\n# TYPE x gauge\nx{a=\"1} 1\n", // unterminated
                   "# HELP x a\n# TYPE x gauge\nx one\n"})     // bad value
    EXPECT_FALSE(parse_exposition(bad).errors.empty()) << bad;
}

uint64_t meminfo_total_bytes() {
  std::ifstream in{"/proc/meminfo"};
  std::string key;
  uint64_t kb = 0;
  while (in >> key >> kb) {
    if (key == "MemTotal:")
      return kb * 1024;
    in.ignore(4096, '\n');
  }
  return 0;
}

TEST(prometheus_endpoint, serves_live_host_metrics_and_agent_counters_over_http) {
  test::temp_directory dir;
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  test::registry_guard names{sys};
  settings st;
  st.node_id = "metrics-test";
  st.state_dir = dir.path().string();
  st.telemetry.interval = 200ms;
  st.telemetry.slow_interval = 400ms;
  st.history.flush_interval = 100ms;
  st.api.tokens.push_back({"metrics-token", {"read"}});
  auto s = std::make_shared<const settings>(st);
  auto outbox_actor_handle = test::register_as(sys, "outbox", sys.spawn<caf::detached>(outbox, s));
  auto h = test::register_as(sys, "history", sys.spawn<caf::detached>(history, s));
  auto tree = test::register_as(sys, "root", test::spawn_telemetry_tree(sys, s));
  {
    test::control_api_harness api{sys, s};
    ASSERT_NE(api.port(), 0);
    test::http_reply r;
    // Until every part has answered once (collectors take a baseline first).
    ASSERT_TRUE(test::eventually([&] {
      r = test::http_call(api.port(), "GET", "/metrics", "", "metrics-token");
      return r.status == 200 &&
             r.body.find("\nnode_filesystem_avail_bytes{") != std::string::npos &&
             r.body.find("\nnode_load1 ") != std::string::npos &&
             r.body.find("\nvigil_history_points_total ") != std::string::npos &&
             r.body.find("\nvigil_processes ") != std::string::npos;
    })) << r.status
        << "\n"
        << r.body;
    EXPECT_EQ(r.header("Content-Type").rfind("text/plain; version=0.0.4", 0), 0u)
        << r.header("Content-Type");
    auto p = parse_exposition(r.body);
    ASSERT_TRUE(p.errors.empty()) << errors_of(p) << "\n" << r.body;

    EXPECT_EQ(p.value("vigil_telemetry_up"), 1);
    EXPECT_EQ(p.value("node_memory_MemTotal_bytes"), static_cast<double>(meminfo_total_bytes()));
    auto avail = p.family("node_filesystem_avail_bytes");
    ASSERT_TRUE(avail);
    for (auto& sample : avail->samples) {
      EXPECT_EQ(sample.labels.size(), 3u);
      EXPECT_TRUE(sample.labels.count("mountpoint") && sample.labels.count("fstype") &&
                  sample.labels.count("device"));
    }
    EXPECT_TRUE(p.family("vigil_cpu_usage_percent"));
    EXPECT_FALSE(p.family("node_cpu_seconds_total"));
    EXPECT_EQ(p.value("vigil_actor_restarts_total", {{"actor", "hub"}}), 0);
    EXPECT_EQ(p.value("vigil_actor_up", {{"actor", "cpu_collector"}}), 1);
    EXPECT_TRUE(p.value("vigil_outbox_queue_records", {{"stream", "logs"}}));
    EXPECT_TRUE(p.family("vigil_log_lines_read_total"));
    EXPECT_GE(*p.value("vigil_api_requests_total"), 1);

    EXPECT_EQ(test::http_call(api.port(), "GET", "/metrics").status, 401);
    EXPECT_EQ(test::http_call(api.port(), "GET", "/metrics", "", "nope").status, 401);
  }
  test::stop_actor(sys, tree);
  test::stop_actor(sys, h);
  test::stop_actor(sys, outbox_actor_handle);
}

} // namespace
} // namespace vigil
