#include "actors/filesystem_collector.hpp"

#include <caf/all.hpp>

#include <utility>

namespace vigil {

namespace {

std::unique_ptr<proc::filesystem_reader> make_reader(const std::filesystem::path& root,
                                                     std::chrono::milliseconds timeout,
                                                     const proc::statvfs_function& stat) {
  proc::filesystem_options options;
  options.stat_timeout = timeout;
  return std::make_unique<proc::filesystem_reader>(root, std::move(options), stat);
}

} // namespace

filesystem_sampler::filesystem_sampler(const collector_options& options, const settings& current,
                                       proc::statvfs_function stat)
    : root_(options.root)
    , stat_(std::move(stat))
    , timeout_(current.telemetry.statvfs_timeout)
    , reader_(make_reader(root_, timeout_, stat_)) {}

void filesystem_sampler::configure(const settings& s) {
  if (s.telemetry.statvfs_timeout == timeout_)
    return;
  timeout_ = s.telemetry.statvfs_timeout;
  reader_ = make_reader(root_, timeout_, stat_); // a call still hung is left to its worker
}

filesystems_section_ptr filesystem_sampler::sample(wall_time now,
                                                   std::chrono::steady_clock::time_point) {
  auto usages = reader_->read();
  auto out = std::make_shared<filesystems_section>();
  out->sampled_at = now;
  out->filesystems.reserve(usages.size());
  for (auto& u : usages) {
    filesystem_entry e;
    e.device = std::move(u.device);
    e.mount_point = std::move(u.mount_point);
    e.type = std::move(u.type);
    e.read_only = u.read_only;
    e.status = std::string{proc::filesystem_status_name(u.status)};
    e.error = std::move(u.error);
    e.total_bytes = u.total_bytes;
    e.used_bytes = u.used_bytes;
    e.available_bytes = u.available_bytes;
    e.used_percent = u.used_percent;
    e.inodes_total = u.inodes_total;
    e.inodes_used = u.inodes_used;
    e.inodes_used_percent = u.inodes_used_percent;
    out->filesystems.push_back(std::move(e));
  }
  return out;
}

telemetry_collector_actor spawn_filesystem_collector(caf::actor_system& sys,
                                                     collector_options options,
                                                     settings_ptr current) {
  return sys.spawn(telemetry_collector<filesystem_sampler>, std::move(options), std::move(current));
}

} // namespace vigil
