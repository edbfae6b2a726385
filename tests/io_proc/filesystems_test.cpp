#include "io/proc/filesystems.hpp"
#include "tests/io_proc/proc_fixture.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

namespace vigil::proc {
namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

constexpr std::string_view mounts_text =
    "proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\n"
    "sysfs /sys sysfs rw,nosuid,nodev,noexec,relatime 0 0\n"
    "devtmpfs /dev devtmpfs rw,nosuid,size=8k 0 0\n"
    "tmpfs /run tmpfs rw,nosuid,nodev 0 0\n"
    "cgroup2 /sys/fs/cgroup cgroup2 rw 0 0\n"
    "cgroup /sys/fs/cgroup/cpu cgroup rw,cpu 0 0\n"
    "overlay /var/lib/docker/overlay2/abc/merged overlay rw,lowerdir=/x 0 0\n"
    "/dev/loop0 /snap/core/1 squashfs ro,nodev 0 0\n"
    "/dev/sda1 /var/lib/kubelet/pods/x/volumes ext4 rw,relatime 0 0\n" // bind of / below
    "/dev/sda1 / ext4 rw,relatime 0 0\n"
    "/dev/sda2 /home xfs rw,relatime 0 0\n"
    "server:/export /mnt/nfs nfs4 rw,vers=4.2 0 0\n"
    "/dev/sdb1 /mnt/usb\\040disk vfat ro,relatime 0 0\n";

std::vector<std::string> mount_points(const std::vector<mount_entry>& mounts) {
  std::vector<std::string> out;
  for (const auto& m : mounts)
    out.push_back(m.mount_point);
  return out;
}

TEST(filesystems, parse_decodes_escapes_and_read_only) {
  auto mounts = parse_mounts(mounts_text);
  ASSERT_EQ(mounts.size(), 13u);
  const auto& usb = mounts.back();
  EXPECT_EQ(usb.device, "/dev/sdb1");
  EXPECT_EQ(usb.mount_point, "/mnt/usb disk");
  EXPECT_EQ(usb.type, "vfat");
  EXPECT_TRUE(usb.read_only);
  EXPECT_FALSE(mounts[9].read_only); // "rw,relatime": "relatime" is not "ro"
  auto odd = parse_mounts("a\\134b /x\\011y\\012z ext4 rw 0 0\nbroken-line\n");
  ASSERT_EQ(odd.size(), 1u);
  EXPECT_EQ(odd[0].device, "a\\b");
  EXPECT_EQ(odd[0].mount_point, "/x\ty\nz");
}

TEST(filesystems, default_exclusions_keep_real_filesystems_and_bind_mounts_are_merged) {
  auto kept = select_filesystems(parse_mounts(mounts_text), default_excluded_filesystem_types());
  // sda1 is kept once, under its shortest mount point, at its first position.
  EXPECT_EQ(mount_points(kept),
            (std::vector<std::string>{"/", "/home", "/mnt/nfs", "/mnt/usb disk"}));
  EXPECT_EQ(kept[0].device, "/dev/sda1");
}

TEST(filesystems, exclusion_list_is_configurable_with_prefix_patterns) {
  EXPECT_TRUE(filesystem_type_excluded("cgroup2", {"cgroup*"}));
  EXPECT_TRUE(filesystem_type_excluded("cgroup", {"cgroup*"}));
  EXPECT_FALSE(filesystem_type_excluded("ext4", {"cgroup*", "ext"}));
  auto kept = select_filesystems(parse_mounts(mounts_text), {"nfs*", "vfat", "proc", "sysfs"});
  EXPECT_EQ(mount_points(kept),
            (std::vector<std::string>{"/dev", "/run", "/sys/fs/cgroup", "/sys/fs/cgroup/cpu",
                                      "/var/lib/docker/overlay2/abc/merged", "/snap/core/1", "/",
                                      "/home"}));
}

// statvfs answers keyed by mount point (the path without the fixture root).
struct fake_stats {
  std::string root;
  std::map<std::string, struct ::statvfs> answers;
  std::map<std::string, int> errors;

  statvfs_function function() {
    return [this](const std::string& path, struct ::statvfs& out) {
      auto key = path.substr(root.size());
      if (key.empty())
        key = "/";
      if (auto e = errors.find(key); e != errors.end())
        return e->second;
      auto a = answers.find(key);
      if (a == answers.end())
        return ENOENT;
      out = a->second;
      return 0;
    };
  }
};

struct ::statvfs stats(unsigned long frsize, unsigned long blocks, unsigned long bfree,
                       unsigned long bavail, unsigned long files, unsigned long ffree) {
  struct ::statvfs s {};
  s.f_bsize = frsize;
  s.f_frsize = frsize;
  s.f_blocks = blocks;
  s.f_bfree = bfree;
  s.f_bavail = bavail;
  s.f_files = files;
  s.f_ffree = ffree;
  return s;
}

TEST(filesystems, reader_reports_usage_and_inodes_in_bytes_and_percent) {
  test::proc_fixture fx;
  fx.write("proc/self/mounts", mounts_text);
  fake_stats fake{fx.root().string(), {}, {}};
  fake.answers["/"] = stats(4096, 1000, 400, 300, 100, 25);
  fake.answers["/mnt/nfs"] = stats(1024, 10, 10, 10, 0, 0);
  fake.answers["/mnt/usb disk"] = stats(512, 4, 1, 1, 0, 0);
  fake.errors["/home"] = EACCES;
  filesystem_reader reader{fx.root(), {}, fake.function()};
  auto fs = reader.read();
  ASSERT_EQ(fs.size(), 4u);

  const auto& root = fs[0];
  EXPECT_EQ(root.mount_point, "/");
  EXPECT_EQ(root.device, "/dev/sda1");
  EXPECT_EQ(root.type, "ext4");
  EXPECT_EQ(root.status, filesystem_status::ok);
  EXPECT_EQ(root.total_bytes, 4096u * 1000);
  EXPECT_EQ(root.free_bytes, 4096u * 400);
  EXPECT_EQ(root.available_bytes, 4096u * 300);
  EXPECT_EQ(root.used_bytes, 4096u * 600);
  EXPECT_DOUBLE_EQ(root.used_percent, 100.0 * 600 / 900); // df: reserved blocks not counted
  EXPECT_EQ(root.inodes_total, 100u);
  EXPECT_EQ(root.inodes_free, 25u);
  EXPECT_EQ(root.inodes_used, 75u);
  EXPECT_DOUBLE_EQ(root.inodes_used_percent, 75.0);

  EXPECT_EQ(fs[1].mount_point, "/home");
  EXPECT_EQ(fs[1].status, filesystem_status::error);
  EXPECT_NE(fs[1].error.find("Permission denied"), std::string::npos) << fs[1].error;

  EXPECT_EQ(fs[2].status, filesystem_status::ok);
  EXPECT_EQ(fs[2].used_bytes, 0u);
  EXPECT_DOUBLE_EQ(fs[2].used_percent, 0.0);
  EXPECT_DOUBLE_EQ(fs[2].inodes_used_percent, 0.0); // no inode count (e.g. btrfs)

  EXPECT_EQ(fs[3].mount_point, "/mnt/usb disk");
  EXPECT_TRUE(fs[3].read_only);
  EXPECT_DOUBLE_EQ(fs[3].used_percent, 75.0);
}

TEST(filesystems, falls_back_to_proc_mounts_and_throws_naming_the_file_without_either) {
  test::proc_fixture fx;
  fx.write("proc/mounts", "/dev/sda1 / ext4 rw 0 0\n");
  fake_stats fake{fx.root().string(), {{"/", stats(4096, 10, 5, 5, 10, 5)}}, {}};
  EXPECT_EQ(filesystem_reader(fx.root(), {}, fake.function()).read().size(), 1u);
  fx.remove("proc/mounts");
  try {
    filesystem_reader(fx.root(), {}, fake.function()).read();
    FAIL() << "no exception";
  } catch (const std::system_error& e) {
    EXPECT_NE(std::string(e.what()).find("proc/self/mounts"), std::string::npos) << e.what();
  }
}

TEST(filesystems, real_statvfs_below_the_root) {
  test::proc_fixture fx;
  fx.write("proc/self/mounts", "/dev/fake / ext4 rw 0 0\n");
  auto fs = filesystem_reader{fx.root()}.read();
  ASSERT_EQ(fs.size(), 1u);
  ASSERT_EQ(fs[0].status, filesystem_status::ok) << fs[0].error;
  struct ::statvfs expected {};
  ASSERT_EQ(::statvfs(fx.root().c_str(), &expected), 0);
  EXPECT_EQ(fs[0].total_bytes, static_cast<std::uint64_t>(expected.f_blocks) * expected.f_frsize);
  EXPECT_GT(fs[0].total_bytes, 0u);
}

// A statvfs that blocks on chosen mount points until released, counting calls.
struct hanging_stat : std::enable_shared_from_this<hanging_stat> {
  std::mutex mutex;
  std::condition_variable released_cv;
  bool released = false;
  std::map<std::string, int> calls;
  std::map<std::string, int> returned;
  int in_flight = 0;
  int max_in_flight = 0;
  std::vector<std::string> hanging;
  std::string root;

  static statvfs_function function(std::shared_ptr<hanging_stat> self) {
    return [self](const std::string& path, struct ::statvfs& out) {
      auto key = path.substr(self->root.size());
      std::unique_lock lock{self->mutex};
      ++self->calls[key];
      ++self->in_flight;
      self->max_in_flight = std::max(self->max_in_flight, self->in_flight);
      if (std::find(self->hanging.begin(), self->hanging.end(), key) != self->hanging.end())
        self->released_cv.wait(lock, [&] { return self->released; });
      --self->in_flight;
      ++self->returned[key];
      out = stats(4096, 100, 50, 50, 10, 5);
      return 0;
    };
  }
  void release() {
    std::lock_guard lock{mutex};
    released = true;
    released_cv.notify_all();
  }
  int calls_of(const std::string& key) {
    std::lock_guard lock{mutex};
    return calls[key];
  }
  int returned_of(const std::string& key) {
    std::lock_guard lock{mutex};
    return returned[key];
  }
};

std::map<std::string, filesystem_status> statuses(const std::vector<filesystem_usage>& fs) {
  std::map<std::string, filesystem_status> out;
  for (const auto& f : fs)
    out[f.mount_point] = f.status;
  return out;
}

template <class Predicate>
bool eventually(Predicate p) {
  for (auto until = clock_type::now() + 5s; clock_type::now() < until;) {
    if (p())
      return true;
    std::this_thread::sleep_for(5ms);
  }
  return p();
}

TEST(filesystems, a_hung_mount_is_stale_within_the_timeout_and_not_queried_again_until_it_returns) {
  test::proc_fixture fx;
  fx.write("proc/self/mounts", "/dev/sda1 / ext4 rw 0 0\n"
                               "server:/export /mnt/nfs nfs4 rw 0 0\n"
                               "/dev/sda2 /home ext4 rw 0 0\n");
  auto stat = std::make_shared<hanging_stat>();
  stat->root = fx.root().string();
  stat->hanging = {"/mnt/nfs"};
  filesystem_options options;
  options.stat_timeout = 200ms;
  options.stat_workers = 2;
  filesystem_reader reader{fx.root(), options, hanging_stat::function(stat)};

  auto start = clock_type::now();
  auto first = reader.read();
  auto took = clock_type::now() - start;
  EXPECT_GE(took, 190ms);
  EXPECT_LT(took, 1500ms);
  auto s = statuses(first);
  EXPECT_EQ(s["/"], filesystem_status::ok);
  EXPECT_EQ(s["/mnt/nfs"], filesystem_status::stale);
  EXPECT_EQ(s["/home"], filesystem_status::ok);
  EXPECT_EQ(reader.stale_calls(), 1u);

  // Still hung: reported stale at once, the other mounts are answered by the free worker, and
  // no second call is piled onto the hung mount.
  for (int i = 0; i < 5; ++i) {
    start = clock_type::now();
    s = statuses(reader.read());
    EXPECT_LT(clock_type::now() - start, 150ms);
    EXPECT_EQ(s["/mnt/nfs"], filesystem_status::stale);
    EXPECT_EQ(s["/"], filesystem_status::ok);
    EXPECT_EQ(s["/home"], filesystem_status::ok);
  }
  EXPECT_EQ(stat->calls_of("/mnt/nfs"), 1);
  EXPECT_EQ(stat->calls_of("/"), 6);

  // The call returns: the mount is queried again and is fine.
  stat->release();
  ASSERT_TRUE(eventually([&] { return reader.stale_calls() == 0; }));
  s = statuses(reader.read());
  EXPECT_EQ(s["/mnt/nfs"], filesystem_status::ok);
  EXPECT_EQ(stat->calls_of("/mnt/nfs"), 2);
  EXPECT_LE(stat->max_in_flight, 2); // never more calls than workers
}

TEST(filesystems, with_every_worker_stuck_other_mounts_are_unavailable_not_blocking) {
  test::proc_fixture fx;
  fx.write("proc/self/mounts", "server:/a /mnt/a nfs rw 0 0\n"
                               "/dev/sda1 / ext4 rw 0 0\n"
                               "server:/b /mnt/b nfs rw 0 0\n");
  auto stat = std::make_shared<hanging_stat>();
  stat->root = fx.root().string();
  stat->hanging = {"/mnt/a", "/mnt/b"};
  filesystem_options options;
  options.stat_timeout = 100ms;
  options.stat_workers = 1;
  filesystem_reader reader{fx.root(), options, hanging_stat::function(stat)};

  for (int i = 0; i < 3; ++i) {
    auto start = clock_type::now();
    auto fs = reader.read();
    EXPECT_LT(clock_type::now() - start, 1000ms);
    auto s = statuses(fs);
    EXPECT_EQ(s["/mnt/a"], filesystem_status::stale);
    EXPECT_EQ(s["/"], filesystem_status::unavailable);
    EXPECT_EQ(s["/mnt/b"], filesystem_status::unavailable);
    EXPECT_FALSE(fs[1].error.empty());
  }
  EXPECT_EQ(stat->calls_of("/mnt/a"), 1);
  EXPECT_EQ(stat->calls_of("/"), 0);
  EXPECT_EQ(stat->calls_of("/mnt/b"), 0);
  EXPECT_EQ(stat->max_in_flight, 1);

  stat->release();
  ASSERT_TRUE(eventually([&] { return reader.stale_calls() == 0; }));
  auto s = statuses(reader.read());
  EXPECT_EQ(s["/mnt/a"], filesystem_status::ok);
  EXPECT_EQ(s["/"], filesystem_status::ok);
  EXPECT_EQ(s["/mnt/b"], filesystem_status::ok);
}

TEST(filesystems, destructor_does_not_wait_for_a_hung_call) {
  test::proc_fixture fx;
  fx.write("proc/self/mounts", "server:/a /mnt/a nfs rw 0 0\n");
  auto stat = std::make_shared<hanging_stat>();
  stat->root = fx.root().string();
  stat->hanging = {"/mnt/a"};
  filesystem_options options;
  options.stat_timeout = 100ms;
  auto start = clock_type::now();
  {
    filesystem_reader reader{fx.root(), options, hanging_stat::function(stat)};
    EXPECT_EQ(reader.read().at(0).status, filesystem_status::stale);
  }
  EXPECT_LT(clock_type::now() - start, 1500ms);
  // The detached worker still owns the stat function and finishes once the call returns.
  stat->release();
  EXPECT_TRUE(eventually([&] { return stat->returned_of("/mnt/a") == 1; }));
  EXPECT_TRUE(eventually([&] { return stat.use_count() == 1; })); // the worker let go
}

TEST(filesystems, real_mounts_have_sane_usage) {
  filesystem_reader reader;
  auto fs = reader.read();
  if (fs.empty())
    GTEST_SKIP() << "only pseudo filesystems mounted here";
  auto excluded = default_excluded_filesystem_types();
  int ok = 0;
  for (const auto& f : fs) {
    EXPECT_FALSE(filesystem_type_excluded(f.type, excluded)) << f.type;
    if (f.status != filesystem_status::ok)
      continue;
    ++ok;
    EXPECT_LE(f.used_bytes, f.total_bytes) << f.mount_point;
    EXPECT_LE(f.available_bytes, f.free_bytes) << f.mount_point;
    EXPECT_GE(f.used_percent, 0.0);
    EXPECT_LE(f.used_percent, 100.0);
  }
  EXPECT_GT(ok, 0);
}

} // namespace
} // namespace vigil::proc
