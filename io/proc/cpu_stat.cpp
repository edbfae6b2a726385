#include "io/proc/cpu_stat.hpp"

#include "io/proc/text_scan.hpp"

#include <algorithm>
#include <stdexcept>
#include <unistd.h>

namespace vigil::proc {

using namespace detail;

namespace {

// Fields after the "cpu"/"cpuN" label; older kernels print fewer (missing ones stay 0).
bool parse_times(std::string_view fields, cpu_times& out) {
  std::uint64_t* slots[] = {&out.user, &out.nice,    &out.system, &out.idle,  &out.iowait,
                            &out.irq,  &out.softirq, &out.steal,  &out.guest, &out.guest_nice};
  out = {};
  std::size_t parsed = 0;
  for (auto* slot : slots) {
    auto token = next_token(fields);
    if (token.empty())
      break;
    if (!parse_integer(token, *slot))
      return false;
    ++parsed;
  }
  return parsed >= 4;
}

std::runtime_error malformed(std::string_view origin, std::string_view what) {
  return std::runtime_error(std::string(origin) + ": " + std::string(what));
}

} // namespace

void parse_cpu_stat(std::string_view text, cpu_stat_sample& out, std::string_view origin) {
  out.cores.clear();
  out.total = {};
  out.context_switches = out.processes_created = 0;
  out.procs_running = out.procs_blocked = 0;
  out.boot_time = 0;
  bool have_total = false;
  while (!text.empty()) {
    auto line = next_line(text);
    auto label = next_token(line);
    if (label.size() >= 3 && label.substr(0, 3) == "cpu") {
      if (label.size() == 3) {
        if (!parse_times(line, out.total))
          throw malformed(origin, "malformed 'cpu' line");
        have_total = true;
      } else {
        cpu_core_times core;
        if (!parse_integer(label.substr(3), core.id) || !parse_times(line, core.times))
          throw malformed(origin, "malformed '" + std::string(label) + "' line");
        out.cores.push_back(core);
      }
    } else if (label == "ctxt") {
      next_integer(line, out.context_switches);
    } else if (label == "processes") {
      next_integer(line, out.processes_created);
    } else if (label == "procs_running") {
      next_integer(line, out.procs_running);
    } else if (label == "procs_blocked") {
      next_integer(line, out.procs_blocked);
    } else if (label == "btime") {
      next_integer(line, out.boot_time);
    }
  }
  if (!have_total)
    throw malformed(origin, "no 'cpu' line");
}

cpu_stat_reader::cpu_stat_reader(const std::filesystem::path& root)
    : path_(path_under(root, "proc/stat")) {}

void cpu_stat_reader::read(cpu_stat_sample& out) {
  parse_cpu_stat(file_.read(path_), out, path_);
}

cpu_stat_sample cpu_stat_reader::read() {
  cpu_stat_sample sample;
  read(sample);
  return sample;
}

std::optional<cpu_percentages> cpu_percentages_between(const cpu_times& a, const cpu_times& b) {
  // Every counter but iowait must not go backwards.
  if (b.user < a.user || b.nice < a.nice || b.system < a.system || b.idle < a.idle ||
      b.irq < a.irq || b.softirq < a.softirq || b.steal < a.steal || b.guest < a.guest ||
      b.guest_nice < a.guest_nice)
    return std::nullopt;
  auto d = [](std::uint64_t x, std::uint64_t y) { return static_cast<double>(y - x); };
  double user = d(a.user, b.user), nice = d(a.nice, b.nice);
  double guest = d(a.guest, b.guest), guest_nice = d(a.guest_nice, b.guest_nice);
  double system = d(a.system, b.system), idle = d(a.idle, b.idle);
  double iowait = b.iowait >= a.iowait ? d(a.iowait, b.iowait) : 0.0;
  double irq = d(a.irq, b.irq) + d(a.softirq, b.softirq), steal = d(a.steal, b.steal);
  double total = user + nice + system + idle + iowait + irq + steal;
  if (total <= 0)
    return std::nullopt;
  // Guest time is inside user/nice; the two files are not read atomically, so clamp.
  double user_only = user > guest ? user - guest : 0.0;
  double nice_only = nice > guest_nice ? nice - guest_nice : 0.0;
  double guest_all = (user > guest ? guest : user) + (nice > guest_nice ? guest_nice : nice);
  cpu_percentages p;
  double scale = 100.0 / total;
  p.user = user_only * scale;
  p.nice = nice_only * scale;
  p.system = system * scale;
  p.irq = irq * scale;
  p.iowait = iowait * scale;
  p.steal = steal * scale;
  p.guest = guest_all * scale;
  p.idle = idle * scale;
  // Rounding can put a fully busy interval a hair above 100 (3 * (100 / 3)).
  p.usage = std::min(100.0, (total - idle - iowait) * scale);
  return p;
}

cpu_usage compute_cpu_usage(const cpu_stat_sample& previous, const cpu_stat_sample& current,
                            std::chrono::duration<double> elapsed) {
  cpu_usage usage;
  usage.total = cpu_percentages_between(previous.total, current.total);
  usage.cores.reserve(current.cores.size());
  // Both lists are in ascending id order in practice; fall back to a scan otherwise.
  std::size_t hint = 0;
  for (const auto& core : current.cores) {
    const cpu_core_times* match = nullptr;
    if (hint < previous.cores.size() && previous.cores[hint].id == core.id) {
      match = &previous.cores[hint];
    } else {
      for (std::size_t i = 0; i < previous.cores.size(); ++i)
        if (previous.cores[i].id == core.id) {
          match = &previous.cores[i];
          hint = i;
          break;
        }
    }
    core_usage entry{core.id, std::nullopt};
    if (match) {
      entry.usage = cpu_percentages_between(match->times, core.times);
      ++hint;
    }
    usage.cores.push_back(entry);
  }
  double seconds = elapsed.count();
  if (seconds > 0) {
    if (current.context_switches >= previous.context_switches)
      usage.context_switches_per_second =
          static_cast<double>(current.context_switches - previous.context_switches) / seconds;
    if (current.processes_created >= previous.processes_created)
      usage.processes_created_per_second =
          static_cast<double>(current.processes_created - previous.processes_created) / seconds;
  }
  return usage;
}

long clock_ticks_per_second() {
  static const long ticks = [] {
    long t = ::sysconf(_SC_CLK_TCK);
    return t > 0 ? t : 100L;
  }();
  return ticks;
}

} // namespace vigil::proc
