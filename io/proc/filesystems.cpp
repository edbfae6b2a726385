#include "io/proc/filesystems.hpp"

#include "io/proc/proc_file.hpp"
#include "io/proc/text_scan.hpp"

#include <cerrno>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <system_error>

namespace vigil::proc {

using namespace detail;

namespace {

// fstab escapes: \040 space, \011 tab, \012 newline, \134 backslash.
std::string unescape(std::string_view field) {
  std::string out;
  out.reserve(field.size());
  for (std::size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size()) {
      auto digits = field.substr(i + 1, 3);
      bool octal = true;
      for (char c : digits)
        octal = octal && c >= '0' && c <= '7';
      if (octal) {
        out +=
            static_cast<char>((digits[0] - '0') * 64 + (digits[1] - '0') * 8 + (digits[2] - '0'));
        i += 3;
        continue;
      }
    }
    out += field[i];
  }
  return out;
}

bool has_option(std::string_view options, std::string_view wanted) {
  while (!options.empty()) {
    auto comma = options.find(',');
    if (options.substr(0, comma) == wanted)
      return true;
    if (comma == std::string_view::npos)
      break;
    options.remove_prefix(comma + 1);
  }
  return false;
}

} // namespace

std::vector<mount_entry> parse_mounts(std::string_view text) {
  std::vector<mount_entry> mounts;
  while (!text.empty()) {
    auto line = next_line(text);
    auto device = next_token(line);
    auto mount_point = next_token(line);
    auto type = next_token(line);
    auto options = next_token(line);
    if (device.empty() || mount_point.empty() || type.empty())
      continue;
    mounts.push_back(
        {unescape(device), unescape(mount_point), unescape(type), has_option(options, "ro")});
  }
  return mounts;
}

std::vector<std::string> default_excluded_filesystem_types() {
  return {"autofs",          "binfmt_misc", "bpf",         "cgroup*",    "configfs",
          "debugfs",         "devfs",       "devpts",      "devtmpfs",   "efivarfs",
          "fuse.gvfsd-fuse", "fuse.lxcfs",  "fuse.portal", "fusectl",    "hugetlbfs",
          "mqueue",          "nsfs",        "nfsd",        "overlay",    "proc",
          "pstore",          "ramfs",       "rootfs",      "rpc_pipefs", "securityfs",
          "selinuxfs",       "squashfs",    "sysfs",       "tmpfs",      "tracefs"};
}

bool filesystem_type_excluded(std::string_view type, const std::vector<std::string>& patterns) {
  for (const auto& pattern : patterns) {
    std::string_view p{pattern};
    if (!p.empty() && p.back() == '*') {
      p.remove_suffix(1);
      if (type.substr(0, p.size()) == p)
        return true;
    } else if (type == p) {
      return true;
    }
  }
  return false;
}

std::vector<mount_entry> select_filesystems(std::vector<mount_entry> mounts,
                                            const std::vector<std::string>& excluded_types) {
  std::vector<mount_entry> kept;
  std::unordered_map<std::string_view, std::size_t> by_device; // views into `mounts`
  for (auto& m : mounts) {
    if (filesystem_type_excluded(m.type, excluded_types))
      continue;
    if (m.device.empty() || m.device == "none") {
      kept.push_back(std::move(m));
      continue;
    }
    auto [it, inserted] = by_device.emplace(m.device, kept.size());
    if (inserted) {
      kept.push_back(m); // copy: `by_device` keeps viewing m.device
    } else if (m.mount_point.size() < kept[it->second].mount_point.size()) {
      kept[it->second] = m;
    }
  }
  return kept;
}

std::string_view filesystem_status_name(filesystem_status status) {
  switch (status) {
  case filesystem_status::ok:
    return "ok";
  case filesystem_status::stale:
    return "stale";
  case filesystem_status::unavailable:
    return "unavailable";
  case filesystem_status::error:
    return "error";
  }
  return "unknown";
}

int system_statvfs(const std::string& path, struct ::statvfs& out) {
  return ::statvfs(path.c_str(), &out) == 0 ? 0 : errno;
}

// One statvfs request, shared by the reader and the worker that runs it. Guarded by pool::mutex.
struct filesystem_reader::stat_call {
  std::string path;
  bool started = false;
  bool done = false;
  int error = 0;
  struct ::statvfs result {};
};

// Everything the workers touch: they keep it alive, so a worker detached in a hung call never
// uses a destroyed reader.
struct filesystem_reader::pool {
  std::mutex mutex;
  std::condition_variable work_ready;
  std::condition_variable call_done;
  std::deque<std::shared_ptr<stat_call>> queue;
  std::vector<bool> exited;
  bool stopping = false;
  statvfs_function stat;

  void run(std::size_t index) {
    std::unique_lock lock{mutex};
    for (;;) {
      work_ready.wait(lock, [&] { return stopping || !queue.empty(); });
      if (stopping)
        break;
      auto call = std::move(queue.front());
      queue.pop_front();
      call->started = true;
      lock.unlock();
      struct ::statvfs result {};
      int error;
      try {
        error = stat(call->path, result);
      } catch (...) {
        error = EIO;
      }
      lock.lock();
      call->result = result;
      call->error = error;
      call->done = true;
      call_done.notify_all();
    }
    exited[index] = true;
    call_done.notify_all();
  }
};

filesystem_reader::filesystem_reader(const std::filesystem::path& root, filesystem_options options,
                                     statvfs_function stat)
    : root_(root)
    , mounts_path_(path_under(root, "proc/self/mounts"))
    , fallback_mounts_path_(path_under(root, "proc/mounts"))
    , options_(std::move(options))
    , pool_(std::make_shared<pool>()) {
  if (options_.stat_workers == 0)
    options_.stat_workers = 1;
  pool_->stat = std::move(stat);
  pool_->exited.assign(options_.stat_workers, false);
  for (unsigned i = 0; i < options_.stat_workers; ++i)
    workers_.emplace_back([p = pool_, i] { p->run(i); });
}

filesystem_reader::~filesystem_reader() {
  std::vector<bool> exited;
  {
    std::unique_lock lock{pool_->mutex};
    pool_->stopping = true;
    pool_->queue.clear();
    pool_->work_ready.notify_all();
    pool_->call_done.wait_for(lock, options_.stat_timeout, [&] {
      for (bool e : pool_->exited)
        if (!e)
          return false;
      return true;
    });
    exited = pool_->exited;
  }
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    if (exited[i])
      workers_[i].join();
    else
      workers_[i].detach();
  }
}

std::size_t filesystem_reader::stale_calls() const {
  std::lock_guard lock{pool_->mutex};
  std::size_t n = 0;
  for (const auto& [mount_point, call] : pending_)
    n += call->done ? 0 : 1;
  return n;
}

std::vector<filesystem_usage> filesystem_reader::read() {
  proc_file_reader file;
  auto content = file.read_if_exists(mounts_path_);
  if (!content)
    content = file.read_if_exists(fallback_mounts_path_);
  if (!content)
    throw std::system_error(ENOENT, std::generic_category(), "cannot read " + mounts_path_);
  auto mounts = select_filesystems(parse_mounts(*content), options_.excluded_types);
  std::vector<filesystem_usage> usages(mounts.size());
  for (std::size_t i = 0; i < mounts.size(); ++i) {
    usages[i].device = std::move(mounts[i].device);
    usages[i].mount_point = std::move(mounts[i].mount_point);
    usages[i].type = std::move(mounts[i].type);
    usages[i].read_only = mounts[i].read_only;
  }
  bool system_root = root_ == "/";
  std::vector<std::shared_ptr<stat_call>> calls(usages.size());
  auto deadline = std::chrono::steady_clock::now() + options_.stat_timeout;
  std::unique_lock lock{pool_->mutex};
  // Forget calls that came back (also those of mounts that are gone).
  for (auto it = pending_.begin(); it != pending_.end();)
    it = it->second->done ? pending_.erase(it) : std::next(it);
  for (std::size_t i = 0; i < usages.size(); ++i) {
    auto& u = usages[i];
    if (pending_.count(u.mount_point)) {
      u.status = filesystem_status::stale;
      u.error = "statvfs still has not returned";
      continue;
    }
    auto call = std::make_shared<stat_call>();
    call->path = system_root ? u.mount_point : path_under(root_, u.mount_point);
    pool_->queue.push_back(call);
    calls[i] = std::move(call);
  }
  pool_->work_ready.notify_all();
  pool_->call_done.wait_until(lock, deadline, [&] {
    for (const auto& call : calls)
      if (call && !call->done)
        return false;
    return true;
  });
  for (std::size_t i = 0; i < usages.size(); ++i) {
    auto& call = calls[i];
    if (!call)
      continue;
    auto& u = usages[i];
    if (!call->done) {
      if (call->started) {
        u.status = filesystem_status::stale;
        u.error = "statvfs did not return within " + std::to_string(options_.stat_timeout.count()) +
                  " ms";
        pending_.emplace(u.mount_point, call);
      } else {
        u.status = filesystem_status::unavailable;
        u.error = "no stat worker free: all are stuck on stale mounts";
        for (auto it = pool_->queue.begin(); it != pool_->queue.end(); ++it)
          if (*it == call) {
            pool_->queue.erase(it);
            break;
          }
      }
      continue;
    }
    if (call->error != 0) {
      u.status = filesystem_status::error;
      u.error = "statvfs " + call->path + ": " + std::generic_category().message(call->error);
      continue;
    }
    const auto& st = call->result;
    std::uint64_t block = st.f_frsize ? st.f_frsize : st.f_bsize;
    u.total_bytes = static_cast<std::uint64_t>(st.f_blocks) * block;
    u.free_bytes = static_cast<std::uint64_t>(st.f_bfree) * block;
    u.available_bytes = static_cast<std::uint64_t>(st.f_bavail) * block;
    u.used_bytes = u.total_bytes > u.free_bytes ? u.total_bytes - u.free_bytes : 0;
    if (auto base = u.used_bytes + u.available_bytes; base > 0)
      u.used_percent = 100.0 * static_cast<double>(u.used_bytes) / static_cast<double>(base);
    u.inodes_total = st.f_files;
    u.inodes_free = st.f_ffree;
    u.inodes_used = u.inodes_total > u.inodes_free ? u.inodes_total - u.inodes_free : 0;
    if (u.inodes_total > 0)
      u.inodes_used_percent =
          100.0 * static_cast<double>(u.inodes_used) / static_cast<double>(u.inodes_total);
  }
  return usages;
}

} // namespace vigil::proc
