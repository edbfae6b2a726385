#include "io/proc/process_table.hpp"

#include "io/proc/command_line_scrubber.hpp"
#include "io/proc/cpu_stat.hpp"
#include "io/proc/text_scan.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <sys/resource.h>
#include <system_error>
#include <unistd.h>

namespace vigil::proc {

using namespace detail;

namespace {

// Read beyond the cap so that secrets cut by the cap are still recognised before cutting.
constexpr std::size_t cmdline_margin = 1024;

long page_size_or(long configured) {
  if (configured > 0)
    return configured;
  static const long size = [] {
    long s = ::sysconf(_SC_PAGESIZE);
    return s > 0 ? s : 4096L;
  }();
  return size;
}

long ticks_or(long configured) {
  return configured > 0 ? configured : clock_ticks_per_second();
}

bool all_digits(const char* s) {
  if (*s == '\0')
    return false;
  for (; *s; ++s)
    if (*s < '0' || *s > '9')
      return false;
  return true;
}

// "pid (comm) S ppid …": comm may hold spaces and ')', so the last ')' ends it.
bool parse_stat(std::string_view text, process_info& info) {
  auto open = text.find('(');
  auto close = text.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open)
    return false;
  if (!parse_integer(trim(text.substr(0, open)), info.pid))
    return false;
  info.name.assign(text.substr(open + 1, close - open - 1));
  auto rest = text.substr(close + 1);
  auto state = next_token(rest);
  if (state.size() != 1)
    return false;
  info.state = state[0];
  // Fields 4.. (1-based, as in proc(5)): ppid(4) … utime(14) stime(15) … num_threads(20)
  // … starttime(22) vsize(23) rss(24).
  std::uint64_t utime = 0, stime = 0, threads = 0, start = 0, vsize = 0;
  std::int64_t rss = 0;
  for (int field = 4; field <= 24; ++field) {
    auto token = next_token(rest);
    bool ok = true;
    switch (field) {
    case 4:
      ok = parse_integer(token, info.ppid);
      break;
    case 14:
      ok = parse_integer(token, utime);
      break;
    case 15:
      ok = parse_integer(token, stime);
      break;
    case 20:
      ok = parse_integer(token, threads);
      break;
    case 22:
      ok = parse_integer(token, start);
      break;
    case 23:
      ok = parse_integer(token, vsize);
      break;
    case 24:
      ok = parse_integer(token, rss);
      break;
    default:
      ok = !token.empty();
    }
    if (!ok)
      return false;
  }
  info.cpu_ticks = utime + stime;
  info.threads = static_cast<std::uint32_t>(threads);
  info.start_ticks = start;
  info.virtual_bytes = vsize;
  info.rss_bytes = rss > 0 ? static_cast<std::uint64_t>(rss) : 0; // scaled by the caller
  return true;
}

// The real uid from the "Uid:\treal\teffective\tsaved\tfs" line.
bool parse_status_uid(std::string_view text, std::uint32_t& uid) {
  std::size_t at = text.substr(0, 4) == "Uid:" ? 0 : text.find("\nUid:");
  if (at == std::string_view::npos)
    return false;
  auto line = text.substr(at + (text[at] == '\n' ? 5 : 4));
  line = line.substr(0, line.find('\n'));
  return next_integer(line, uid);
}

bool vanished(int error) {
  return error == ENOENT || error == ESRCH;
}

int open_at(int dir_fd, const char* relative) {
  int fd;
  do
    fd = ::openat(dir_fd, relative, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  while (fd < 0 && errno == EINTR);
  return fd < 0 ? -errno : fd;
}

// openat, pread until a short read, close: one syscall fewer than read_at.
int read_whole_at(proc_file_reader& file, int dir_fd, const char* relative, std::string_view& out) {
  int fd = open_at(dir_fd, relative);
  if (fd < 0)
    return -fd;
  int error = file.reread(fd, out);
  ::close(fd);
  return error;
}

} // namespace

process_table_reader::process_table_reader(const std::filesystem::path& root,
                                           process_table_options options)
    : proc_path_(path_under(root, "proc"))
    , uptime_path_(path_under(root, "proc/uptime"))
    , stat_path_(path_under(root, "proc/stat"))
    , options_(std::move(options)) {
  // Leaves most descriptors to the rest of the agent (sockets, files).
  max_open_stat_files_ = options_.max_open_stat_files;
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY)
    max_open_stat_files_ =
        std::min<std::size_t>(max_open_stat_files_, static_cast<std::size_t>(limit.rlim_cur / 4));
}

process_table_reader::~process_table_reader() {
  for (auto& [pid, cached] : cache_)
    close_stat(cached);
}

const std::string& process_table_reader::user_name(std::uint32_t uid) {
  if (auto it = users_.find(uid); it != users_.end())
    return it->second;
  if (users_.size() >= 4096)
    users_.clear(); // bounded: only pathological systems have that many users
  std::optional<std::string> name;
  if (options_.user_name) {
    name = options_.user_name(uid);
  } else {
    long hint = ::sysconf(_SC_GETPW_R_SIZE_MAX);
    std::vector<char> buffer(hint > 0 ? static_cast<std::size_t>(hint) : 1024);
    passwd entry{};
    passwd* found = nullptr;
    int error;
    while ((error = ::getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found)) == ERANGE &&
           buffer.size() < (1u << 20))
      buffer.resize(buffer.size() * 2);
    if (error == 0 && found && found->pw_name)
      name = found->pw_name;
  }
  return users_.emplace(uid, name ? std::move(*name) : std::to_string(uid)).first->second;
}

void process_table_reader::clean_command_line(std::string_view raw, bool truncated,
                                              process_info& info) {
  // The argument the read limit cut is dropped whole: a cut secret would not be recognised.
  if (truncated) {
    auto last_nul = raw.find_last_of('\0');
    raw = last_nul == std::string_view::npos ? std::string_view{} : raw.substr(0, last_nul + 1);
  }
  while (!raw.empty() && raw.back() == '\0')
    raw.remove_suffix(1);
  info.cmdline.assign(raw);
  scrub_command_line(info.cmdline);
  std::replace(info.cmdline.begin(), info.cmdline.end(), '\0', ' ');
  info.cmdline_truncated = truncated;
  if (info.cmdline.size() > options_.cmdline_max_bytes) {
    std::size_t cut = options_.cmdline_max_bytes;
    while (cut > 0 && (static_cast<unsigned char>(info.cmdline[cut]) & 0xC0) == 0x80)
      --cut; // not inside a UTF-8 sequence
    info.cmdline.resize(cut);
    info.cmdline_truncated = true;
  }
}

void process_table_reader::close_stat(cached_process& cached) {
  if (cached.stat_fd >= 0) {
    ::close(cached.stat_fd);
    cached.stat_fd = -1;
    --open_stat_files_;
  }
}

bool process_table_reader::read_stat(int proc_fd, const char* pid_name, cached_process& cached,
                                     process_info& info) {
  std::string_view text;
  if (cached.stat_fd >= 0) {
    // An open /proc file stays bound to its process: once that exits the read fails (ESRCH)
    // even if the pid is reused, so the file is reopened by name below.
    if (file_.reread(cached.stat_fd, text) == 0 && parse_stat(text, info))
      return true;
    close_stat(cached);
  }
  char path[64];
  std::snprintf(path, sizeof path, "%s/stat", pid_name);
  int fd = open_at(proc_fd, path);
  if (fd < 0)
    return false; // vanished (ENOENT/ESRCH) or unreadable
  bool ok = file_.reread(fd, text) == 0 && parse_stat(text, info); // empty: being torn down
  if (ok && open_stat_files_ < max_open_stat_files_) {
    cached.stat_fd = fd;
    ++open_stat_files_;
  } else {
    ::close(fd);
  }
  return ok;
}

bool process_table_reader::read_details(int proc_fd, const char* pid_name, process_info& info,
                                        bool command_line) {
  char path[64];
  std::string_view text;
  std::snprintf(path, sizeof path, "%s/status", pid_name);
  if (read_whole_at(file_, proc_fd, path, text) != 0 || !parse_status_uid(text, info.uid))
    return false;
  if (!command_line)
    return true;

  info.cmdline.clear();
  info.cmdline_truncated = false;
  if (options_.read_command_lines) {
    std::snprintf(path, sizeof path, "%s/cmdline", pid_name);
    bool truncated = false;
    int error =
        file_.read_at(proc_fd, path, text, options_.cmdline_max_bytes + cmdline_margin, &truncated);
    if (vanished(error))
      return false;
    if (error == 0)
      clean_command_line(text, truncated, info);
  }
  return true;
}

bool process_table_reader::read_process(int proc_fd, const char* pid_name, process_info& info) {
  std::int32_t pid = 0;
  if (!parse_integer(std::string_view{pid_name}, pid))
    return false;
  auto& cached = cache_[pid];
  cached.seen = walk_;
  if (!read_stat(proc_fd, pid_name, cached, info))
    return false;
  info.rss_bytes *= static_cast<std::uint64_t>(page_size_or(options_.page_size));
  long ticks = ticks_or(options_.clock_ticks_per_second);
  info.start_time = static_cast<double>(boot_time_ > 0 ? boot_time_ : 0) +
                    static_cast<double>(info.start_ticks) / static_cast<double>(ticks);

  bool fresh = !cached.valid || cached.start_ticks != info.start_ticks || cached.name != info.name;
  unsigned every = options_.detail_refresh_walks;
  bool due = every > 0 && (walk_ + static_cast<std::uint64_t>(pid)) % every == 0;
  if (fresh || due) {
    cached.valid = false;
    if (!read_details(proc_fd, pid_name, info, fresh))
      return false;
    cached.start_ticks = info.start_ticks;
    cached.name = info.name;
    cached.uid = info.uid;
    if (fresh) {
      cached.cmdline = info.cmdline;
      cached.cmdline_truncated = info.cmdline_truncated;
    }
    cached.valid = true;
  } else {
    info.uid = cached.uid;
  }
  if (!fresh) {
    info.cmdline = cached.cmdline;
    info.cmdline_truncated = cached.cmdline_truncated;
  }
  info.user = user_name(info.uid);
  return true;
}

bool process_table_reader::refresh(process_info& info) {
  auto it = cache_.find(info.pid);
  if (it == cache_.end() || !it->second.valid || it->second.start_ticks != info.start_ticks)
    return false;
  // Files opened below the directory's descriptor belong to the process it was opened for
  // (or fail once that exits), so the start time checked in stat holds for status and cmdline.
  auto dir_path = proc_path_ + '/' + std::to_string(info.pid);
  int dir_fd = ::open(dir_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0)
    return false;
  process_info fresh;
  std::string_view text;
  bool ok = read_whole_at(file_, dir_fd, "stat", text) == 0 && parse_stat(text, fresh) &&
            fresh.start_ticks == info.start_ticks && read_details(dir_fd, ".", fresh, true);
  ::close(dir_fd);
  if (!ok)
    return false;
  auto& cached = it->second;
  cached.uid = info.uid = fresh.uid;
  info.user = user_name(info.uid);
  info.cmdline = std::move(fresh.cmdline);
  info.cmdline_truncated = fresh.cmdline_truncated;
  cached.cmdline = info.cmdline;
  cached.cmdline_truncated = info.cmdline_truncated;
  return true;
}

void process_table_reader::read(process_snapshot& out) {
  if (boot_time_ < 0) {
    boot_time_ = 0;
    if (auto text = file_.read_if_exists(stat_path_)) {
      cpu_stat_sample sample;
      try {
        parse_cpu_stat(*text, sample, stat_path_);
        boot_time_ = sample.boot_time;
      } catch (const std::exception&) {
        // start_time is then relative to boot
      }
    }
  }
  out.uptime_seconds = 0;
  if (auto text = file_.read_if_exists(uptime_path_)) {
    auto rest = *text;
    parse_double(next_token(rest), out.uptime_seconds);
  }

  DIR* dir = ::opendir(proc_path_.c_str());
  if (!dir)
    throw std::system_error(errno, std::generic_category(), "cannot list " + proc_path_);
  ++walk_;
  int proc_fd = ::dirfd(dir);
  std::size_t count = 0;
  try {
    while (dirent* entry = ::readdir(dir)) {
      if (!all_digits(entry->d_name))
        continue;
      if (count == out.processes.size())
        out.processes.emplace_back();
      if (read_process(proc_fd, entry->d_name, out.processes[count]))
        ++count;
    }
  } catch (...) {
    ::closedir(dir);
    throw;
  }
  ::closedir(dir);
  // Processes no longer listed are gone: bounded by the live processes.
  for (auto it = cache_.begin(); it != cache_.end();) {
    if (it->second.seen != walk_) {
      close_stat(it->second);
      it = cache_.erase(it);
    } else {
      ++it;
    }
  }
  out.processes.resize(count);
  auto by_pid = [](const process_info& a, const process_info& b) { return a.pid < b.pid; };
  if (!std::is_sorted(out.processes.begin(), out.processes.end(), by_pid))
    std::sort(out.processes.begin(), out.processes.end(), by_pid);
}

process_snapshot process_table_reader::read() {
  process_snapshot snapshot;
  read(snapshot);
  return snapshot;
}

std::vector<std::optional<double>> compute_process_cpu(const process_snapshot& previous,
                                                       const process_snapshot& current,
                                                       std::chrono::duration<double> elapsed,
                                                       long clock_ticks) {
  std::vector<std::optional<double>> cpu(current.processes.size());
  double seconds = elapsed.count();
  if (seconds <= 0)
    return cpu;
  double ticks = static_cast<double>(ticks_or(clock_ticks));
  const auto& prev = previous.processes;
  std::size_t j = 0;
  for (std::size_t i = 0; i < current.processes.size(); ++i) {
    const auto& p = current.processes[i];
    while (j < prev.size() && prev[j].pid < p.pid)
      ++j;
    std::optional<std::uint64_t> delta;
    if (j < prev.size() && prev[j].pid == p.pid && prev[j].start_ticks == p.start_ticks) {
      delta = p.cpu_ticks >= prev[j].cpu_ticks ? p.cpu_ticks - prev[j].cpu_ticks : 0;
    } else if (previous.uptime_seconds > 0 &&
               static_cast<double>(p.start_ticks) / ticks >= previous.uptime_seconds) {
      delta = p.cpu_ticks; // born during the interval: all its time is in it
    }
    if (delta)
      cpu[i] = static_cast<double>(*delta) / ticks / seconds * 100.0;
  }
  return cpu;
}

process_summary summarize_processes(const process_snapshot& previous,
                                    const process_snapshot& current,
                                    std::chrono::duration<double> elapsed,
                                    std::uint64_t memory_total_bytes,
                                    const process_summary_options& options) {
  process_summary summary;
  const auto& procs = current.processes;
  auto cpu = compute_process_cpu(previous, current, elapsed, options.clock_ticks_per_second);
  auto memory_percent = [&](std::uint64_t rss) {
    return memory_total_bytes > 0
               ? 100.0 * static_cast<double>(rss) / static_cast<double>(memory_total_bytes)
               : 0.0;
  };

  summary.processes = static_cast<std::uint32_t>(procs.size());
  struct user_total {
    const std::string* name = nullptr;
    double cpu = 0;
    std::uint64_t rss = 0;
    std::uint32_t count = 0;
  };
  std::unordered_map<std::uint32_t, user_total> users;
  for (std::size_t i = 0; i < procs.size(); ++i) {
    const auto& p = procs[i];
    summary.threads += p.threads;
    auto& s = summary.states;
    switch (p.state) {
    case 'R':
      ++s.running;
      break;
    case 'S':
      ++s.sleeping;
      break;
    case 'D':
      ++s.disk_sleep;
      break;
    case 'T':
    case 't':
      ++s.stopped;
      break;
    case 'Z':
      ++s.zombie;
      break;
    case 'I':
      ++s.idle;
      break;
    default:
      ++s.other;
    }
    auto& u = users[p.uid];
    u.name = &p.user;
    u.cpu += cpu[i].value_or(0.0);
    u.rss += p.rss_bytes;
    ++u.count;
  }

  auto usage_of = [&](std::size_t i) {
    const auto& p = procs[i];
    return process_usage{p.pid,
                         p.name,
                         p.user,
                         p.state,
                         cpu[i].value_or(0.0),
                         p.rss_bytes,
                         memory_percent(p.rss_bytes),
                         p.threads,
                         p.cmdline};
  };
  std::vector<std::size_t> order;
  order.reserve(procs.size());
  for (std::size_t i = 0; i < procs.size(); ++i)
    if (cpu[i])
      order.push_back(i);
  auto n = std::min(options.top_n, order.size());
  std::partial_sort(order.begin(), order.begin() + n, order.end(), [&](auto a, auto b) {
    return *cpu[a] != *cpu[b] ? *cpu[a] > *cpu[b] : procs[a].pid < procs[b].pid;
  });
  for (std::size_t k = 0; k < n; ++k)
    summary.top_by_cpu.push_back(usage_of(order[k]));

  order.clear();
  for (std::size_t i = 0; i < procs.size(); ++i)
    order.push_back(i);
  n = std::min(options.top_n, order.size());
  std::partial_sort(order.begin(), order.begin() + n, order.end(), [&](auto a, auto b) {
    return procs[a].rss_bytes != procs[b].rss_bytes ? procs[a].rss_bytes > procs[b].rss_bytes
                                                    : procs[a].pid < procs[b].pid;
  });
  for (std::size_t k = 0; k < n; ++k)
    summary.top_by_memory.push_back(usage_of(order[k]));

  for (const auto& [uid, total] : users) {
    if (uid < options.min_uid)
      continue;
    if (std::find(options.excluded_users.begin(), options.excluded_users.end(), *total.name) !=
        options.excluded_users.end())
      continue;
    double mem = memory_percent(total.rss);
    bool has_minimum = options.min_user_cpu_percent || options.min_user_memory_percent;
    bool reaches = (options.min_user_cpu_percent && total.cpu >= *options.min_user_cpu_percent) ||
                   (options.min_user_memory_percent && mem >= *options.min_user_memory_percent);
    if (has_minimum && !reaches)
      continue;
    summary.users.push_back({*total.name, uid, total.cpu, mem, total.rss, total.count});
  }
  std::sort(summary.users.begin(), summary.users.end(), [](const auto& a, const auto& b) {
    if (a.cpu_percent != b.cpu_percent)
      return a.cpu_percent > b.cpu_percent;
    if (a.memory_percent != b.memory_percent)
      return a.memory_percent > b.memory_percent;
    return a.uid < b.uid;
  });
  return summary;
}

} // namespace vigil::proc
