#include "actors/prometheus_exposition.hpp"

#include "actors/backend_poster.hpp"
#include "actors/history_store.hpp"
#include "actors/journal_reader.hpp"
#include "actors/outbox.hpp"
#include "actors/telemetry_hub.hpp"

#include <caf/all.hpp>
#include <spdlog/fmt/fmt.h>

#include <cmath>
#include <functional>
#include <memory>
#include <unordered_map>
#include <utility>

namespace vigil {

namespace {

using namespace std::chrono_literals;
using label = std::pair<std::string_view, std::string_view>;
using label_list = std::initializer_list<label>;

std::string format_value(double v) {
  if (std::isnan(v))
    return "NaN";
  if (std::isinf(v))
    return v > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", v);
}

std::string format_value(uint64_t v) {
  return std::to_string(v);
}

// Backslash and line feed escaped, and the double quote too when `quote` (label values; HELP
// text keeps its quotes).
std::string escape(std::string_view text, bool quote) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\')
      out += "\\\\";
    else if (quote && c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string escape_help(std::string_view text) {
  return escape(text, false);
}

// Families in first-use order; a family's samples are kept together whatever order they are
// added in, so HELP and TYPE appear once, right before them.
class exposition {
public:
  template <class Value>
  void gauge(std::string_view name, std::string_view help, label_list labels, Value value) {
    add(name, help, "gauge", labels, format_value(value));
  }

  template <class Value>
  void counter(std::string_view name, std::string_view help, label_list labels, Value value) {
    add(name, help, "counter", labels, format_value(value));
  }

  std::string text() const {
    std::string out;
    for (const auto& f : families_) {
      out += "# HELP " + f.name + " " + escape_help(f.help) + "\n";
      out += "# TYPE " + f.name + " " + f.type + "\n";
      out += f.samples;
    }
    return out;
  }

private:
  struct family {
    std::string name, help, type, samples;
  };

  void add(std::string_view name, std::string_view help, std::string_view type, label_list labels,
           const std::string& value) {
    auto [it, added] = index_.try_emplace(std::string{name}, families_.size());
    if (added)
      families_.push_back({std::string{name}, std::string{help}, std::string{type}, {}});
    auto& s = families_[it->second].samples;
    s.append(name);
    if (labels.size() > 0) {
      s += '{';
      bool first = true;
      for (const auto& [k, v] : labels) {
        if (!first)
          s += ',';
        first = false;
        s.append(k).append("=\"").append(escape_label_value(v)).append("\"");
      }
      s += '}';
    }
    s.append(" ").append(value).append("\n");
  }

  std::vector<family> families_;
  std::unordered_map<std::string, std::size_t> index_;
};

double seconds_since_epoch(wall_time t) {
  return static_cast<double>(t.time_since_epoch().count()) / 1000.0;
}

void add_cpu(exposition& x, const cpu_section& cpu) {
  x.gauge("node_load1", "1m load average.", {}, cpu.load_one);
  x.gauge("node_load5", "5m load average.", {}, cpu.load_five);
  x.gauge("node_load15", "15m load average.", {}, cpu.load_fifteen);
  x.gauge("node_procs_running", "Number of processes in runnable state.", {},
          static_cast<uint64_t>(cpu.procs_running));
  x.gauge("node_procs_blocked", "Number of processes blocked waiting for I/O to complete.", {},
          static_cast<uint64_t>(cpu.procs_blocked));
  if (cpu.boot_time > 0)
    x.gauge("node_boot_time_seconds", "Node boot time, in unixtime.", {},
            static_cast<double>(cpu.boot_time));
  x.gauge("vigil_cpu_logical_cores", "Logical CPUs online.", {},
          static_cast<uint64_t>(cpu.logical_cores));
  if (cpu.usage_percent)
    x.gauge("vigil_cpu_usage_percent",
            "CPU busy over the collector's last interval, all CPUs (100 - idle - iowait).", {},
            *cpu.usage_percent);
  if (cpu.modes) {
    const auto& m = *cpu.modes;
    const char* help = "Share of CPU time per mode over the collector's last interval.";
    for (auto [mode, v] :
         {std::pair{"user", m.user}, std::pair{"nice", m.nice}, std::pair{"system", m.system},
          std::pair{"irq", m.irq}, std::pair{"iowait", m.iowait}, std::pair{"steal", m.steal},
          std::pair{"guest", m.guest}, std::pair{"idle", m.idle}})
      x.gauge("vigil_cpu_mode_percent", help, {{"mode", mode}}, v);
  }
  for (const auto& core : cpu.cores)
    if (core.usage_percent)
      x.gauge("vigil_cpu_core_usage_percent", "CPU busy per logical CPU over the last interval.",
              {{"cpu", std::to_string(core.id)}}, *core.usage_percent);
  if (cpu.frequency_mhz)
    x.gauge("vigil_cpu_frequency_mhz", "Average CPU frequency.", {}, *cpu.frequency_mhz);
  if (cpu.temperature_celsius)
    x.gauge("vigil_cpu_temperature_celsius", "CPU temperature (package when available).",
            {{"sensor", cpu.temperature_sensor}}, *cpu.temperature_celsius);
  if (cpu.context_switches_per_second)
    x.gauge("vigil_cpu_context_switches_per_second", "Context switches per second.", {},
            *cpu.context_switches_per_second);
  if (cpu.processes_created_per_second)
    x.gauge("vigil_processes_created_per_second", "Processes (forks) created per second.", {},
            *cpu.processes_created_per_second);
}

void add_memory(exposition& x, const memory_section& m) {
  x.gauge("node_memory_MemTotal_bytes", "Memory information field MemTotal_bytes.", {},
          m.total_bytes);
  x.gauge("node_memory_MemAvailable_bytes", "Memory information field MemAvailable_bytes.", {},
          m.available_bytes);
  x.gauge("node_memory_MemFree_bytes", "Memory information field MemFree_bytes.", {}, m.free_bytes);
  x.gauge("node_memory_Buffers_bytes", "Memory information field Buffers_bytes.", {},
          m.buffers_bytes);
  x.gauge("node_memory_Shmem_bytes", "Memory information field Shmem_bytes.", {}, m.shared_bytes);
  x.gauge("node_memory_SwapTotal_bytes", "Memory information field SwapTotal_bytes.", {},
          m.swap_total_bytes);
  x.gauge("node_memory_SwapFree_bytes", "Memory information field SwapFree_bytes.", {},
          m.swap_free_bytes);
  x.gauge("vigil_memory_cached_bytes",
          "Page cache including reclaimable slab (Cached + "
          "SReclaimable).",
          {}, m.cached_bytes);
  x.gauge("vigil_memory_used_percent", "Memory in use: (total - available) / total.", {},
          m.used_percent);
  x.gauge("vigil_swap_used_percent", "Swap in use.", {}, m.swap_used_percent);
}

void add_disk_io(exposition& x, const disk_io_section& d) {
  for (const auto& dev : d.devices) {
    label_list l = {{"device", dev.name}};
    x.gauge("vigil_disk_read_bytes_per_second", "Bytes read per second over the last interval.", l,
            dev.read_bytes_per_second);
    x.gauge("vigil_disk_written_bytes_per_second",
            "Bytes written per second over the last interval.", l, dev.write_bytes_per_second);
    x.gauge("vigil_disk_reads_per_second", "Reads completed per second.", l, dev.reads_per_second);
    x.gauge("vigil_disk_writes_per_second", "Writes completed per second.", l,
            dev.writes_per_second);
    x.gauge("vigil_disk_busy_percent", "Share of the interval the device was busy (%util).", l,
            dev.busy_percent);
  }
}

void add_network(exposition& x, const network_section& n) {
  for (const auto& i : n.interfaces) {
    label_list l = {{"device", i.name}};
    x.counter("node_network_receive_bytes_total", "Network device statistic receive_bytes.", l,
              i.rx_bytes);
    x.counter("node_network_transmit_bytes_total", "Network device statistic transmit_bytes.", l,
              i.tx_bytes);
    x.gauge("vigil_network_receive_bytes_per_second", "Bytes received per second.", l,
            i.rx_bytes_per_second);
    x.gauge("vigil_network_transmit_bytes_per_second", "Bytes sent per second.", l,
            i.tx_bytes_per_second);
    x.gauge("vigil_network_receive_packets_per_second", "Packets received per second.", l,
            i.rx_packets_per_second);
    x.gauge("vigil_network_transmit_packets_per_second", "Packets sent per second.", l,
            i.tx_packets_per_second);
    x.gauge("vigil_network_receive_errors_per_second", "Receive errors per second.", l,
            i.rx_errors_per_second);
    x.gauge("vigil_network_transmit_errors_per_second", "Transmit errors per second.", l,
            i.tx_errors_per_second);
  }
  if (n.tcp) {
    const auto& t = *n.tcp;
    const char* help = "TCP sockets (IPv4 and IPv6) by state.";
    for (auto [state, v] :
         {std::pair{"established", t.established}, std::pair{"listen", t.listen},
          std::pair{"time_wait", t.time_wait}, std::pair{"close_wait", t.close_wait},
          std::pair{"syn_sent", t.syn_sent}, std::pair{"syn_recv", t.syn_recv},
          std::pair{"other", t.other}})
      x.gauge("vigil_tcp_connections", help, {{"state", state}}, v);
  }
}

void add_filesystems(exposition& x, const filesystems_section& fs) {
  for (const auto& f : fs.filesystems) {
    label_list l = {{"device", f.device}, {"fstype", f.type}, {"mountpoint", f.mount_point}};
    bool ok = f.status == "ok";
    x.gauge("node_filesystem_device_error",
            "Whether an error occurred while getting statistics for the given device.", l,
            ok ? 0.0 : 1.0);
    x.gauge("node_filesystem_readonly", "Filesystem read-only status.", l, f.read_only ? 1.0 : 0.0);
    if (!ok)
      continue;
    x.gauge("node_filesystem_size_bytes", "Filesystem size in bytes.", l, f.total_bytes);
    x.gauge("node_filesystem_avail_bytes", "Filesystem space available to non-root users in bytes.",
            l, f.available_bytes);
    x.gauge("node_filesystem_free_bytes", "Filesystem free space in bytes.", l,
            f.total_bytes - f.used_bytes);
    x.gauge("node_filesystem_files", "Filesystem total file nodes.", l, f.inodes_total);
    x.gauge("node_filesystem_files_free", "Filesystem total free file nodes.", l,
            f.inodes_total - f.inodes_used);
    x.gauge("vigil_filesystem_used_percent",
            "Space in use as df shows it: used / (used + "
            "available).",
            l, f.used_percent);
  }
}

void add_processes(exposition& x, const processes_section& p) {
  x.gauge("vigil_processes", "Processes on the host.", {}, static_cast<uint64_t>(p.total));
  x.gauge("vigil_threads", "Threads on the host.", {}, p.threads);
  const auto& s = p.states;
  for (auto [state, v] :
       {std::pair{"running", s.running}, std::pair{"sleeping", s.sleeping},
        std::pair{"disk_sleep", s.disk_sleep}, std::pair{"stopped", s.stopped},
        std::pair{"zombie", s.zombie}, std::pair{"idle", s.idle}, std::pair{"other", s.other}})
    x.gauge("vigil_processes_by_state", "Processes by state.", {{"state", state}},
            static_cast<uint64_t>(v));
  for (const auto& u : p.users) {
    label_list l = {{"user", u.user}};
    x.gauge("vigil_user_cpu_percent", "CPU of the user's processes (100 = one core).", l,
            u.cpu_percent);
    x.gauge("vigil_user_memory_percent", "Memory of the user's processes.", l, u.memory_percent);
    x.gauge("vigil_user_resident_bytes", "Resident memory of the user's processes.", l,
            u.rss_bytes);
    x.gauge("vigil_user_processes", "Processes of the user.", l,
            static_cast<uint64_t>(u.processes));
  }
}

void add_snapshot(exposition& x, const telemetry_snapshot& s) {
  if (s.cpu)
    add_cpu(x, *s.cpu);
  if (s.memory)
    add_memory(x, *s.memory);
  if (s.disk_io)
    add_disk_io(x, *s.disk_io);
  if (s.network)
    add_network(x, *s.network);
  if (s.filesystems)
    add_filesystems(x, *s.filesystems);
  if (s.processes)
    add_processes(x, *s.processes);
  for (const auto& u : s.user_pressure) {
    label_list l = {{"user", u.user}, {"metric", u.metric}};
    x.gauge("vigil_user_pressure_seconds", "How long the user has been at or above its threshold.",
            l, static_cast<double>((u.last_seen - u.since).count()) / 1000.0);
    x.gauge("vigil_user_pressure_persistent",
            "1 when the user has been above its threshold for telemetry.users.persistent_after.", l,
            u.persistent ? 1.0 : 0.0);
  }
  x.gauge("vigil_system_status_level", "System status: 0 light, 1 medium, 2 heavy.", {},
          static_cast<uint64_t>(s.status.level));
  for (std::size_t i = 0; i < telemetry_section_count; ++i) {
    const auto& st = s.sections[i];
    auto name = telemetry_section_name(static_cast<telemetry_section>(i));
    x.gauge("vigil_telemetry_section_stale",
            "1 when the section was not refreshed within 3 intervals.", {{"section", name}},
            st.stale ? 1.0 : 0.0);
    if (st.updated_at)
      x.gauge("vigil_telemetry_section_updated_seconds",
              "When the section's collector last sampled, in unixtime.", {{"section", name}},
              seconds_since_epoch(*st.updated_at));
  }
  x.gauge("vigil_telemetry_snapshot_timestamp_seconds", "When the snapshot was built, in unixtime.",
          {}, seconds_since_epoch(s.timestamp));
}

void add_actors(exposition& x, const std::vector<child_status>& children,
                const std::string& parent) {
  for (const auto& c : children) {
    auto path = parent.empty() ? c.name : parent + "/" + c.name;
    x.counter("vigil_actor_restarts_total", "Restarts of a supervised actor.", {{"actor", path}},
              static_cast<uint64_t>(c.restarts));
    x.gauge("vigil_actor_up", "1 while the supervised actor runs.",
            {{"actor", path}, {"state", c.state}}, c.state == "running" ? 1.0 : 0.0);
    add_actors(x, c.children, path);
  }
}

void add_outbox(exposition& x, const outbox_status& o) {
  x.counter("vigil_log_lines_read_total", "Log lines read by the tailers and the journal reader.",
            {}, o.lines);
  x.counter("vigil_log_events_total", "Events accepted into the outbox.", {}, o.events);
  x.counter("vigil_outbox_batches_total", "Batches accepted by the outbox.", {}, o.batches);
  x.counter("vigil_outbox_commits_total", "Outbox transactions.", {}, o.commits);
  x.counter("vigil_outbox_refused_full_total", "Batches refused because the logs stream was full.",
            {}, o.refused_full);
  x.counter("vigil_outbox_storage_errors_total", "Outbox SQLite failures.", {}, o.storage_errors);
  x.gauge("vigil_event_store_events", "Events in the local event store.", {}, o.stored_events);
  for (const auto& s : o.streams) {
    label_list l = {{"stream", s.name}};
    x.gauge("vigil_outbox_queue_records", "Records waiting in an outbox stream.", l, s.records);
    x.gauge("vigil_outbox_queue_bytes", "Bytes waiting in an outbox stream.", l, s.bytes);
    x.gauge("vigil_outbox_queue_max_bytes", "Bound of an outbox stream.", l, s.max_bytes);
    x.counter("vigil_outbox_dropped_total", "Oldest records dropped to stay within the bound.", l,
              s.dropped);
    x.gauge("vigil_outbox_dead_letters", "Records refused by the sink for good, kept.", l,
            s.dead_letters);
    x.gauge("vigil_outbox_oldest_age_seconds", "Age of the oldest waiting record.", l,
            static_cast<double>(s.oldest_age_ms) / 1000.0);
  }
}

void add_backend(exposition& x, const backend_status& b) {
  for (const auto& s : b.streams) {
    label_list l = {{"stream", s.name}};
    x.counter("vigil_backend_shipped_total", "Records delivered to the backend (2xx).", l, s.sent);
    x.counter("vigil_backend_failures_total", "Backend attempts that will be retried.", l,
              s.failures);
    x.counter("vigil_backend_dead_lettered_total", "Records the backend refused for good.", l,
              s.dead_lettered);
  }
}

void add_journal(exposition& x, const journal_reader_status& j) {
  x.counter("vigil_journal_entries_total", "systemd journal entries read.", {}, j.entries);
  x.counter("vigil_journal_events_total", "Events made from journal entries.", {}, j.events);
  x.counter("vigil_journal_gaps_total", "Journal cursors no longer held (entries missed).", {},
            j.gaps);
}

void add_history(exposition& x, const history_status& h) {
  x.counter("vigil_history_points_total", "Values written to the telemetry history.", {}, h.points);
  x.gauge("vigil_history_pending_points", "Values waiting for the next history flush.", {},
          h.pending_points);
  x.counter("vigil_history_dropped_points_total",
            "Values dropped while the history database failed.", {}, h.dropped_points);
  x.counter("vigil_history_errors_total", "History database failures.", {}, h.errors);
  x.gauge("vigil_history_used_bytes", "Pages in use in history.db.", {}, h.used_bytes);
  x.gauge("vigil_history_max_bytes", "Bound of history.db.", {}, h.max_bytes);
}

// Asks one registered actor for its status, stores it, continues (also when it is absent,
// restarting or slow).
template <class Handle, class Status, class Next>
void gather(control_api_actor::stateful_pointer<control_api_state> self, const char* name,
            std::optional<Status> prometheus_inputs::*slot, std::shared_ptr<prometheus_inputs> in,
            Next next) {
  auto handle =
      caf::actor_cast<Handle>(self->home_system().registry().get(caf::atom_from_string(name)));
  if (!handle)
    return next();
  self->request(handle, 2s, atom::status_v)
      .then(
          [=](const Status& x) {
            (*in).*slot = x;
            next();
          },
          [=](caf::error&) { next(); });
}

} // namespace

std::string escape_label_value(std::string_view value) {
  return escape(value, true);
}

std::string render_prometheus(const prometheus_inputs& in) {
  exposition x;
  x.gauge("vigil_build_info", "vigil's version and node id.",
          {{"version", in.version}, {"node_id", in.node_id}}, 1.0);
  x.gauge("vigil_uptime_seconds", "Seconds since the control API started.", {}, in.uptime_seconds);
  x.counter("vigil_api_requests_total", "Control API requests.", {}, in.api_requests);
  x.counter("vigil_api_rejected_total", "Control API requests refused for authentication.", {},
            in.api_rejected);
  x.gauge("vigil_telemetry_up", "1 when the telemetry hub answered with a snapshot.", {},
          in.snapshot ? 1.0 : 0.0);
  if (in.snapshot)
    add_snapshot(x, *in.snapshot);
  if (in.actors)
    add_actors(x, *in.actors, "");
  if (in.outbox)
    add_outbox(x, *in.outbox);
  if (in.backend)
    add_backend(x, *in.backend);
  if (in.journal)
    add_journal(x, *in.journal);
  if (in.history)
    add_history(x, *in.history);
  return x.text();
}

void answer_metrics(control_api_actor::stateful_pointer<control_api_state> self,
                    http_responder respond) {
  auto in = std::make_shared<prometheus_inputs>();
  const auto& st = self->state;
  in->version = VIGIL_VERSION;
  in->node_id = st.current->node_id;
  in->uptime_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - st.started).count();
  in->api_requests = st.requests;
  in->api_rejected = st.rejected;
  auto finish = [=] {
    respond({200, std::string{prometheus_content_type}, render_prometheus(*in), {}});
  };
  auto components = [=] {
    gather<outbox_actor, outbox_status>(self, "outbox", &prometheus_inputs::outbox, in, [=] {
      gather<backend_poster_actor, backend_status>(
          self, "backend", &prometheus_inputs::backend, in, [=] {
            gather<journal_reader_actor, journal_reader_status>(
                self, "journal", &prometheus_inputs::journal, in, [=] {
                  gather<history_actor, history_status>(self, "history",
                                                        &prometheus_inputs::history, in, finish);
                });
          });
    });
  };
  auto tree = [=] {
    gather<supervisor_actor, std::vector<child_status>>(self, "root", &prometheus_inputs::actors,
                                                        in, components);
  };
  auto hub = find_telemetry_hub(self->home_system());
  if (!hub)
    return tree();
  self->request(hub, 2s, atom::query_v)
      .then(
          [=](const telemetry_snapshot_ptr& snapshot) {
            in->snapshot = snapshot;
            tree();
          },
          [=](caf::error&) { tree(); });
}

} // namespace vigil
