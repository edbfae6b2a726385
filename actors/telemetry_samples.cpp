#include "actors/telemetry_samples.hpp"

#include <string>
#include <string_view>
#include <utility>

namespace vigil {

namespace {

int64_t epoch_ms(wall_time t) {
  return t.time_since_epoch().count();
}

// Collects the points of one section.
class sample_builder {
public:
  explicit sample_builder(wall_time at) { sample_.timestamp_ms = epoch_ms(at); }

  void add(std::string name, double value) {
    sample_.points.push_back({std::move(name), std::string{}, value});
  }

  void add(std::string name, const std::optional<double>& value) {
    if (value)
      add(std::move(name), *value);
  }

  // prefix + "." + entity + "." + field, e.g. "disk." "/boot" ".used_percent".
  void add(std::string_view prefix, std::string_view entity, std::string_view field, double value) {
    std::string name;
    name.reserve(prefix.size() + entity.size() + field.size() + 2);
    name.append(prefix).append(".").append(entity).append(".").append(field);
    add(std::move(name), value);
  }

  metric_sample take() { return std::move(sample_); }

private:
  metric_sample sample_;
};

void add_cpu(sample_builder& b, const cpu_section& cpu) {
  b.add("cpu.usage_percent", cpu.usage_percent);
  if (cpu.modes) {
    const auto& m = *cpu.modes;
    b.add("cpu.user_percent", m.user);
    b.add("cpu.nice_percent", m.nice);
    b.add("cpu.system_percent", m.system);
    b.add("cpu.irq_percent", m.irq);
    b.add("cpu.iowait_percent", m.iowait);
    b.add("cpu.steal_percent", m.steal);
    b.add("cpu.guest_percent", m.guest);
    b.add("cpu.idle_percent", m.idle);
  }
  for (const auto& core : cpu.cores)
    if (core.usage_percent)
      b.add("cpu.core", std::to_string(core.id), "usage_percent", *core.usage_percent);
  b.add("cpu.frequency_mhz", cpu.frequency_mhz);
  b.add("cpu.temperature_celsius", cpu.temperature_celsius);
  b.add("cpu.context_switches_per_s", cpu.context_switches_per_second);
  b.add("cpu.processes_created_per_s", cpu.processes_created_per_second);
  b.add("cpu.procs_running", static_cast<double>(cpu.procs_running));
  b.add("cpu.procs_blocked", static_cast<double>(cpu.procs_blocked));
  b.add("load.1m", cpu.load_one);
  b.add("load.5m", cpu.load_five);
  b.add("load.15m", cpu.load_fifteen);
  if (cpu.logical_cores > 0)
    b.add("load.1m_per_core", cpu.load_one / cpu.logical_cores);
  b.add("system.uptime_seconds", cpu.uptime_seconds);
}

void add_memory(sample_builder& b, const memory_section& m) {
  b.add("memory.used_percent", m.used_percent);
  b.add("memory.total_bytes", static_cast<double>(m.total_bytes));
  b.add("memory.used_bytes", static_cast<double>(m.used_bytes));
  b.add("memory.available_bytes", static_cast<double>(m.available_bytes));
  b.add("memory.free_bytes", static_cast<double>(m.free_bytes));
  b.add("memory.buffers_bytes", static_cast<double>(m.buffers_bytes));
  b.add("memory.cached_bytes", static_cast<double>(m.cached_bytes));
  b.add("memory.shared_bytes", static_cast<double>(m.shared_bytes));
  b.add("swap.used_percent", m.swap_used_percent);
  b.add("swap.total_bytes", static_cast<double>(m.swap_total_bytes));
  b.add("swap.used_bytes", static_cast<double>(m.swap_used_bytes));
}

void add_disk_io(sample_builder& b, const disk_io_section& d) {
  b.add("disk_io.read_bytes_per_s", d.read_bytes_per_second);
  b.add("disk_io.write_bytes_per_s", d.write_bytes_per_second);
  b.add("disk_io.iops", d.iops);
  for (const auto& dev : d.devices) {
    b.add("disk_io", dev.name, "read_bytes_per_s", dev.read_bytes_per_second);
    b.add("disk_io", dev.name, "write_bytes_per_s", dev.write_bytes_per_second);
    b.add("disk_io", dev.name, "reads_per_s", dev.reads_per_second);
    b.add("disk_io", dev.name, "writes_per_s", dev.writes_per_second);
    b.add("disk_io", dev.name, "busy_percent", dev.busy_percent);
    b.add("disk_io", dev.name, "average_read_ms", dev.average_read_ms);
    b.add("disk_io", dev.name, "average_write_ms", dev.average_write_ms);
  }
}

void add_network(sample_builder& b, const network_section& n) {
  b.add("net.rx_bytes_per_s", n.rx_bytes_per_second);
  b.add("net.tx_bytes_per_s", n.tx_bytes_per_second);
  for (const auto& i : n.interfaces) {
    b.add("net", i.name, "rx_bytes_per_s", i.rx_bytes_per_second);
    b.add("net", i.name, "tx_bytes_per_s", i.tx_bytes_per_second);
    b.add("net", i.name, "rx_packets_per_s", i.rx_packets_per_second);
    b.add("net", i.name, "tx_packets_per_s", i.tx_packets_per_second);
    b.add("net", i.name, "rx_errors_per_s", i.rx_errors_per_second);
    b.add("net", i.name, "tx_errors_per_s", i.tx_errors_per_second);
    b.add("net", i.name, "rx_dropped_per_s", i.rx_dropped_per_second);
    b.add("net", i.name, "tx_dropped_per_s", i.tx_dropped_per_second);
  }
  if (n.tcp) {
    const auto& t = *n.tcp;
    b.add("net.tcp.total", static_cast<double>(t.total));
    b.add("net.tcp.established", static_cast<double>(t.established));
    b.add("net.tcp.listen", static_cast<double>(t.listen));
    b.add("net.tcp.time_wait", static_cast<double>(t.time_wait));
    b.add("net.tcp.close_wait", static_cast<double>(t.close_wait));
    b.add("net.tcp.syn_sent", static_cast<double>(t.syn_sent));
    b.add("net.tcp.syn_recv", static_cast<double>(t.syn_recv));
  }
}

void add_filesystems(sample_builder& b, const filesystems_section& fs) {
  for (const auto& f : fs.filesystems) {
    if (f.status != "ok") // a hung or failed statvfs has no figures to keep
      continue;
    b.add("disk", f.mount_point, "used_percent", f.used_percent);
    b.add("disk", f.mount_point, "used_bytes", static_cast<double>(f.used_bytes));
    b.add("disk", f.mount_point, "available_bytes", static_cast<double>(f.available_bytes));
    b.add("disk", f.mount_point, "total_bytes", static_cast<double>(f.total_bytes));
    b.add("disk", f.mount_point, "inodes_used_percent", f.inodes_used_percent);
  }
}

void add_processes(sample_builder& b, const processes_section& p) {
  b.add("processes.total", static_cast<double>(p.total));
  b.add("processes.threads", static_cast<double>(p.threads));
  b.add("processes.running", static_cast<double>(p.states.running));
  b.add("processes.sleeping", static_cast<double>(p.states.sleeping));
  b.add("processes.disk_sleep", static_cast<double>(p.states.disk_sleep));
  b.add("processes.stopped", static_cast<double>(p.states.stopped));
  b.add("processes.zombie", static_cast<double>(p.states.zombie));
  for (const auto& u : p.users) {
    b.add("user", u.user, "cpu_percent", u.cpu_percent);
    b.add("user", u.user, "memory_percent", u.memory_percent);
    b.add("user", u.user, "rss_bytes", static_cast<double>(u.rss_bytes));
    b.add("user", u.user, "processes", static_cast<double>(u.processes));
  }
}

// Emits the section when its collector sampled it after the last emitted sample.
template <class Section, class Add>
void emit(const std::shared_ptr<const Section>& section, telemetry_section which,
          telemetry_sample_cursor& cursor, std::vector<metric_sample>& out, Add add) {
  if (!section)
    return;
  auto& last = cursor.emitted[static_cast<std::size_t>(which)];
  if (last && section->sampled_at <= *last)
    return;
  last = section->sampled_at;
  sample_builder b{section->sampled_at};
  add(b, *section);
  out.push_back(b.take());
}

} // namespace

std::vector<metric_sample> telemetry_metric_samples(const telemetry_snapshot& snapshot,
                                                    telemetry_sample_cursor& cursor) {
  std::vector<metric_sample> out;
  emit(snapshot.cpu, telemetry_section::cpu, cursor, out, add_cpu);
  emit(snapshot.memory, telemetry_section::memory, cursor, out, add_memory);
  emit(snapshot.disk_io, telemetry_section::disk_io, cursor, out, add_disk_io);
  emit(snapshot.network, telemetry_section::network, cursor, out, add_network);
  emit(snapshot.filesystems, telemetry_section::filesystems, cursor, out, add_filesystems);
  emit(snapshot.processes, telemetry_section::processes, cursor, out, add_processes);
  sample_builder status{snapshot.timestamp};
  status.add("system.status_level", static_cast<double>(snapshot.status.level));
  out.push_back(status.take());
  return out;
}

} // namespace vigil
