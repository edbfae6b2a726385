#pragma once

// Mounted filesystems and their usage, every telemetry.slow_interval. statvfs runs on
// io/proc's own worker threads with telemetry.statvfs_timeout: a hung network mount costs
// this actor at most that timeout once (the mount is then reported "stale" without waiting
// until its call returns), never a blocked scheduler thread.

#include "actors/telemetry_collector.hpp"
#include "io/proc/filesystems.hpp"

#include <filesystem>
#include <memory>

namespace vigil {

class filesystem_sampler {
public:
  static constexpr telemetry_section section = telemetry_section::filesystems;
  static constexpr const char* actor_name = "filesystem_collector";
  static duration interval(const settings& s) { return s.telemetry.slow_interval; }

  filesystem_sampler(const collector_options& options, const settings& current,
                     proc::statvfs_function stat = proc::system_statvfs);
  void configure(const settings& s);
  filesystems_section_ptr sample(wall_time now, std::chrono::steady_clock::time_point t);

private:
  std::filesystem::path root_;
  proc::statvfs_function stat_;
  std::chrono::milliseconds timeout_;
  std::unique_ptr<proc::filesystem_reader> reader_;
};

telemetry_collector_actor
spawn_filesystem_collector(caf::actor_system& sys, collector_options options, settings_ptr current);

} // namespace vigil
