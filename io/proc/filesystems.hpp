#pragma once

// Mounted filesystems (/proc/self/mounts) and their usage (statvfs). statvfs on a dead network
// mount blocks in the kernel, so it runs on a small fixed pool of worker threads with a
// deadline: the caller never blocks longer than the timeout, and a mount whose call did not
// return is reported `stale` and not queried again until that call comes back.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <sys/statvfs.h>
#include <thread>
#include <unordered_map>
#include <vector>

namespace vigil::proc {

struct mount_entry {
  std::string device;      // source: "/dev/sda1", "server:/export", "tmpfs"
  std::string mount_point; // octal escapes (\040 …) decoded
  std::string type;        // "ext4", "nfs4", ...
  bool read_only = false;  // "ro" among the options
};

// Lines of /proc/self/mounts (fstab format); malformed lines are skipped.
std::vector<mount_entry> parse_mounts(std::string_view text);

// Pseudo, memory-backed and image filesystems that hold no user data on a disk.
std::vector<std::string> default_excluded_filesystem_types();

// Exact type names, or a prefix when the pattern ends in '*' ("cgroup*", "fuse.*").
bool filesystem_type_excluded(std::string_view type, const std::vector<std::string>& patterns);

// Drops excluded types and bind mounts: when one device (source) is mounted several times only
// the shortest mount point is kept (ties: the first). Sources "none" and "" are never merged.
std::vector<mount_entry> select_filesystems(std::vector<mount_entry> mounts,
                                            const std::vector<std::string>& excluded_types);

enum class filesystem_status {
  ok,          // statvfs answered in time
  stale,       // statvfs did not return within the timeout (hung NFS/CIFS?); still pending
  unavailable, // not queried this time: every stat worker is stuck on other mounts
  error,       // statvfs failed (see `error`)
};

std::string_view filesystem_status_name(filesystem_status status);

struct filesystem_usage {
  std::string device;
  std::string mount_point;
  std::string type;
  bool read_only = false;
  filesystem_status status = filesystem_status::ok;
  std::string error; // why, when status is not ok

  // Sizes in bytes; valid when status is ok.
  std::uint64_t total_bytes = 0;
  std::uint64_t used_bytes = 0;      // total − free
  std::uint64_t free_bytes = 0;      // free blocks, including those reserved for root
  std::uint64_t available_bytes = 0; // free blocks usable by unprivileged users
  double used_percent = 0;           // used / (used + available), 0–100, as df shows it
  std::uint64_t inodes_total = 0;    // 0 on filesystems without fixed inodes (btrfs, vfat)
  std::uint64_t inodes_used = 0;
  std::uint64_t inodes_free = 0;
  double inodes_used_percent = 0; // 0–100; 0 when inodes_total is 0
};

// Returns 0 and fills `out`, or returns an errno value. May block (that is the point).
using statvfs_function = std::function<int(const std::string& path, struct ::statvfs& out)>;

// ::statvfs.
int system_statvfs(const std::string& path, struct ::statvfs& out);

struct filesystem_options {
  std::vector<std::string> excluded_types = default_excluded_filesystem_types();
  std::chrono::milliseconds stat_timeout{2000}; // per read(), for all its statvfs calls
  unsigned stat_workers = 2;                    // threads; at least 1
};

class filesystem_reader {
public:
  // `root`: mounts come from root/proc/self/mounts (else root/proc/mounts) and a mount point M
  // is queried as root/M. `stat` replaces statvfs (tests inject slow or failing ones).
  explicit filesystem_reader(const std::filesystem::path& root = "/",
                             filesystem_options options = {},
                             statvfs_function stat = system_statvfs);
  // Joins the workers that return within stat_timeout; one stuck in a hung call is detached
  // (it owns what it uses and ends when the call returns).
  ~filesystem_reader();
  filesystem_reader(const filesystem_reader&) = delete;
  filesystem_reader& operator=(const filesystem_reader&) = delete;

  // Returns within about stat_timeout. Throws std::system_error naming the mounts file when it
  // cannot be read.
  std::vector<filesystem_usage> read();

  // statvfs calls that timed out and have not returned yet.
  std::size_t stale_calls() const;

  struct stat_call;
  struct pool;

private:
  std::filesystem::path root_;
  std::string mounts_path_;
  std::string fallback_mounts_path_;
  filesystem_options options_;
  std::shared_ptr<pool> pool_;
  std::vector<std::thread> workers_;
  std::unordered_map<std::string, std::shared_ptr<stat_call>> pending_; // by mount point
};

} // namespace vigil::proc
