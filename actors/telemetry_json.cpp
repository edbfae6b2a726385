#include "actors/telemetry_json.hpp"

#include "actors/telemetry_hub.hpp"
#include "io/logs/timestamp_parser.hpp"

#include <algorithm>
#include <cmath>

namespace vigil {

namespace {

using json = nlohmann::json;

// Two decimals: enough for percentages and rates, and a stable, compact document.
double r2(double x) {
  return std::round(x * 100.0) / 100.0;
}

json opt(const std::optional<double>& x) {
  return x ? json(r2(*x)) : json(nullptr);
}

template <class T>
json opt_int(const std::optional<T>& x) {
  return x ? json(*x) : json(nullptr);
}

json text_or_null(const std::string& s) {
  return s.empty() ? json(nullptr) : json(s);
}

double gib(std::uint64_t bytes) {
  return r2(static_cast<double>(bytes) / (1024.0 * 1024.0 * 1024.0));
}

// Seconds since the epoch as a time; 0 (unknown) is null.
json epoch_seconds_or_null(std::int64_t seconds) {
  return seconds > 0 ? json(format_wall_time(wall_time{std::chrono::seconds{seconds}}))
                     : json(nullptr);
}

json load_average_json(const cpu_section& c) {
  return {{"one_minute", r2(c.load_one)},
          {"five_minutes", r2(c.load_five)},
          {"fifteen_minutes", r2(c.load_fifteen)}};
}

json cpu_json(const cpu_section& c) {
  json modes = nullptr;
  if (c.modes)
    modes = {{"user", r2(c.modes->user)},     {"nice", r2(c.modes->nice)},
             {"system", r2(c.modes->system)}, {"irq", r2(c.modes->irq)},
             {"iowait", r2(c.modes->iowait)}, {"steal", r2(c.modes->steal)},
             {"guest", r2(c.modes->guest)},   {"idle", r2(c.modes->idle)}};
  json cores = json::array();
  for (auto& core : c.cores)
    cores.push_back({{"id", core.id}, {"usage_percent", opt(core.usage_percent)}});
  return {
      {"usage_percent", opt(c.usage_percent)},
      {"modes", std::move(modes)},
      {"per_core", std::move(cores)},
      {"cores", c.logical_cores},
      {"physical_cores", opt_int(c.physical_cores)},
      {"sockets", opt_int(c.sockets)},
      {"brand", text_or_null(c.model)},
      {"frequency", opt(c.frequency_mhz)},
      {"temperature_celsius", opt(c.temperature_celsius)},
      {"temperature_sensor", text_or_null(c.temperature_sensor)},
      {"context_switches_per_second", opt(c.context_switches_per_second)},
      {"processes_created_per_second", opt(c.processes_created_per_second)},
      {"procs_running", c.procs_running},
      {"procs_blocked", c.procs_blocked},
      {"load_average", load_average_json(c)},
      {"uptime_seconds", static_cast<std::int64_t>(c.uptime_seconds)},
      {"boot_time", epoch_seconds_or_null(c.boot_time)},
  };
}

json memory_json(const memory_section& m) {
  return {
      {"total_bytes", m.total_bytes},
      {"used_bytes", m.used_bytes},
      {"available_bytes", m.available_bytes},
      {"free_bytes", m.free_bytes},
      {"buffers_bytes", m.buffers_bytes},
      {"cached_bytes", m.cached_bytes},
      {"shared_bytes", m.shared_bytes},
      {"usage_percent", r2(m.used_percent)},
      {"total_gb", gib(m.total_bytes)},
      {"used_gb", gib(m.used_bytes)},
      {"available_gb", gib(m.available_bytes)},
      {"swap",
       {{"total_bytes", m.swap_total_bytes},
        {"used_bytes", m.swap_used_bytes},
        {"free_bytes", m.swap_free_bytes},
        {"usage_percent", r2(m.swap_used_percent)}}},
  };
}

json disk_io_json(const disk_io_section& d) {
  json devices = json::array();
  for (auto& x : d.devices)
    devices.push_back({{"name", x.name},
                       {"read_bytes_per_second", r2(x.read_bytes_per_second)},
                       {"write_bytes_per_second", r2(x.write_bytes_per_second)},
                       {"reads_per_second", r2(x.reads_per_second)},
                       {"writes_per_second", r2(x.writes_per_second)},
                       {"busy_percent", r2(x.busy_percent)},
                       {"average_read_ms", r2(x.average_read_ms)},
                       {"average_write_ms", r2(x.average_write_ms)}});
  return {{"read_bytes_per_second", r2(d.read_bytes_per_second)},
          {"write_bytes_per_second", r2(d.write_bytes_per_second)},
          {"iops", r2(d.iops)},
          {"devices", std::move(devices)}};
}

json network_json(const network_section& n) {
  json interfaces = json::array();
  for (auto& x : n.interfaces)
    interfaces.push_back({{"name", x.name},
                          {"rx_bytes_per_second", r2(x.rx_bytes_per_second)},
                          {"tx_bytes_per_second", r2(x.tx_bytes_per_second)},
                          {"rx_packets_per_second", r2(x.rx_packets_per_second)},
                          {"tx_packets_per_second", r2(x.tx_packets_per_second)},
                          {"rx_errors_per_second", r2(x.rx_errors_per_second)},
                          {"tx_errors_per_second", r2(x.tx_errors_per_second)},
                          {"rx_dropped_per_second", r2(x.rx_dropped_per_second)},
                          {"tx_dropped_per_second", r2(x.tx_dropped_per_second)},
                          {"bytes_received", x.rx_bytes},
                          {"bytes_sent", x.tx_bytes}});
  json connections = nullptr;
  if (n.tcp)
    connections = {{"total", n.tcp->total},           {"established", n.tcp->established},
                   {"listen", n.tcp->listen},         {"time_wait", n.tcp->time_wait},
                   {"close_wait", n.tcp->close_wait}, {"syn_sent", n.tcp->syn_sent},
                   {"syn_recv", n.tcp->syn_recv},     {"other", n.tcp->other}};
  return {{"rx_bytes_per_second", r2(n.rx_bytes_per_second)},
          {"tx_bytes_per_second", r2(n.tx_bytes_per_second)},
          {"bytes_received", n.rx_bytes},
          {"bytes_sent", n.tx_bytes},
          {"interfaces", std::move(interfaces)},
          {"connections", std::move(connections)}};
}

json filesystems_json(const filesystems_section& f) {
  json out = json::array();
  for (auto& x : f.filesystems)
    out.push_back({{"device", x.device},
                   {"mount_point", x.mount_point},
                   {"type", x.type},
                   {"read_only", x.read_only},
                   {"status", x.status},
                   {"error", text_or_null(x.error)},
                   {"total_bytes", x.total_bytes},
                   {"used_bytes", x.used_bytes},
                   {"available_bytes", x.available_bytes},
                   {"usage_percent", r2(x.used_percent)},
                   {"inodes_total", x.inodes_total},
                   {"inodes_used", x.inodes_used},
                   {"inodes_usage_percent", r2(x.inodes_used_percent)}});
  return out;
}

json process_json(const process_entry& p) {
  return {{"pid", p.pid},
          {"name", p.name},
          {"user", p.user},
          {"state", std::string(1, p.state)},
          {"cpu_percent", r2(p.cpu_percent)},
          {"memory_percent", r2(p.memory_percent)},
          {"rss_bytes", p.rss_bytes},
          {"threads", p.threads},
          {"cmdline", p.cmdline}};
}

json processes_json(const processes_section& p) {
  json by_cpu = json::array();
  for (auto& x : p.top_by_cpu)
    by_cpu.push_back(process_json(x));
  json by_memory = json::array();
  for (auto& x : p.top_by_memory)
    by_memory.push_back(process_json(x));
  auto& s = p.states;
  return {{"total", p.total},
          {"threads", p.threads},
          {"states",
           {{"running", s.running},
            {"sleeping", s.sleeping},
            {"disk_sleep", s.disk_sleep},
            {"stopped", s.stopped},
            {"zombie", s.zombie},
            {"idle", s.idle},
            {"other", s.other}}},
          {"top_by_cpu", std::move(by_cpu)},
          {"top_by_memory", std::move(by_memory)}};
}

json users_json(const processes_section& p) {
  json out = json::array();
  for (auto& u : p.users)
    out.push_back({{"user", u.user},
                   {"uid", u.uid},
                   {"cpu_percent", r2(u.cpu_percent)},
                   {"memory_percent", r2(u.memory_percent)},
                   {"rss_bytes", u.rss_bytes},
                   {"process_count", u.processes}});
  return out;
}

json user_pressure_json(const std::vector<user_pressure_entry>& xs) {
  json out = json::array();
  for (auto& u : xs) {
    auto duration = std::chrono::duration_cast<std::chrono::seconds>(u.last_seen - u.since);
    out.push_back({{"user", u.user},
                   {"metric", u.metric},
                   {"since", format_wall_time(u.since)},
                   {"last_seen", format_wall_time(u.last_seen)},
                   {"duration_seconds", duration.count()},
                   {"peak_percent", r2(u.peak_percent)},
                   {"average_percent", u.samples ? r2(u.sum_percent / u.samples) : 0.0},
                   {"samples", u.samples},
                   {"persistent", u.persistent}});
  }
  return out;
}

json services_json(const services_section& s) {
  json out = json::array();
  for (auto& x : s.services)
    out.push_back({{"name", x.name},
                   {"description", text_or_null(x.description)},
                   {"status", x.status},
                   {"load_state", x.load_state},
                   {"active_state", x.active_state},
                   {"sub_state", x.sub_state},
                   {"main_pid", opt_int(x.main_pid)}});
  return out;
}

json service_manager_json(const services_section& s) {
  return {{"available", s.available},
          {"reason", text_or_null(s.unavailable_reason)},
          {"units", s.discovered ? "discovered" : "configured"}};
}

json containers_json(const containers_section& s) {
  json out = json::array();
  for (auto& x : s.containers)
    out.push_back({{"id", x.id},
                   {"name", x.name},
                   {"image", x.image},
                   {"state", x.state},
                   {"status", x.status},
                   {"created", epoch_seconds_or_null(x.created)}});
  return out;
}

json container_engine_json(const containers_section& s) {
  return {{"available", s.available}, {"reason", text_or_null(s.unavailable_reason)}};
}

template <class Ptr, class F>
json section_or_null(const Ptr& p, F f) {
  return p ? f(*p) : json(nullptr);
}

} // namespace

std::string format_wall_time(wall_time t) {
  return format_iso8601_utc(t, timestamp_precision::milliseconds);
}

namespace {

// The headline fields every shape starts with (the seeds' top-level names).
json headline_json(const telemetry_snapshot& s) {
  json root_usage = nullptr;
  if (s.filesystems)
    for (auto& f : s.filesystems->filesystems)
      if (f.mount_point == "/" && f.status == "ok")
        root_usage = r2(f.used_percent);
  return {
      {"schema_version", telemetry_schema_version},
      {"sequence", s.sequence},
      {"timestamp", format_wall_time(s.timestamp)},
      {"node_id", s.node_id},
      {"hostname", s.hostname},
      {"cpu_usage_percent", s.cpu ? opt(s.cpu->usage_percent) : json(nullptr)},
      {"memory_usage_percent", s.memory ? json(r2(s.memory->used_percent)) : json(nullptr)},
      {"disk_usage_percent", std::move(root_usage)},
      {"load_average", section_or_null(s.cpu, load_average_json)},
      {"uptime_seconds",
       s.cpu ? json(static_cast<std::int64_t>(s.cpu->uptime_seconds)) : json(nullptr)},
      {"temperature", s.cpu ? opt(s.cpu->temperature_celsius) : json(nullptr)},
      {"system_status",
       {{"level", std::string{load_level_name(s.status.level)}},
        {"label", std::string{load_level_label(s.status.level)}},
        {"reasons", s.status.reasons}}},
  };
}

} // namespace

json telemetry_to_json(const telemetry_snapshot& s) {
  json sections = json::object();
  for (std::size_t i = 0; i < telemetry_section_count; ++i) {
    auto& x = s.sections[i];
    sections[std::string{telemetry_section_name(static_cast<telemetry_section>(i))}] = {
        {"updated_at", x.updated_at ? json(format_wall_time(*x.updated_at)) : json(nullptr)},
        {"interval_seconds", r2(x.interval.count() / 1000.0)},
        {"stale", x.stale},
        {"error", text_or_null(x.error)}};
  }
  auto out = headline_json(s);
  out.update({
      {"cpu", section_or_null(s.cpu, cpu_json)},
      {"memory", section_or_null(s.memory, memory_json)},
      {"disk_io", section_or_null(s.disk_io, disk_io_json)},
      {"network", section_or_null(s.network, network_json)},
      {"filesystems", section_or_null(s.filesystems, filesystems_json)},
      {"processes", section_or_null(s.processes, processes_json)},
      {"users", section_or_null(s.processes, users_json)},
      {"user_pressure", user_pressure_json(s.user_pressure)},
      {"services", section_or_null(s.services, services_json)},
      {"service_manager", section_or_null(s.services, service_manager_json)},
      {"containers", section_or_null(s.containers, containers_json)},
      {"container_engine", section_or_null(s.containers, container_engine_json)},
      {"sections", std::move(sections)},
  });
  return out;
}

json telemetry_summary_json(const telemetry_snapshot& s) {
  auto out = headline_json(s);
  if (s.services) {
    std::size_t running = 0, failed = 0;
    for (auto& x : s.services->services) {
      running += x.status == "running";
      failed += x.status == "failed";
    }
    out["services"] = {
        {"total", s.services->services.size()}, {"running", running}, {"failed", failed}};
  } else {
    out["services"] = nullptr;
  }
  if (s.containers) {
    auto running = std::count_if(s.containers->containers.begin(), s.containers->containers.end(),
                                 [](auto& x) { return x.state == "running"; });
    out["containers"] = {{"total", s.containers->containers.size()}, {"running", running}};
  } else {
    out["containers"] = nullptr;
  }
  json stale = json::array();
  for (std::size_t i = 0; i < telemetry_section_count; ++i)
    if (s.sections[i].stale)
      stale.push_back(telemetry_section_name(static_cast<telemetry_section>(i)));
  out["stale_sections"] = std::move(stale);
  return out;
}

json processes_to_json(const telemetry_snapshot& s) {
  return {
      {"timestamp", s.processes ? json(format_wall_time(s.processes->sampled_at)) : json(nullptr)},
      {"processes", section_or_null(s.processes, processes_json)},
      {"users", section_or_null(s.processes, users_json)},
      {"user_pressure", user_pressure_json(s.user_pressure)}};
}

} // namespace vigil
