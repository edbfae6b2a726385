#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <sys/inotify.h>
#include <unordered_map>
#include <vector>

namespace vigil {

struct watch_event {
  int watch = -1;                  // -1 for IN_Q_OVERFLOW (events were lost: rescan)
  std::filesystem::path directory; // the watched directory
  std::string name;                // entry inside it; empty for events on the directory itself
  std::uint32_t mask = 0;          // IN_* bits
  std::uint32_t cookie = 0;        // pairs IN_MOVED_FROM with IN_MOVED_TO

  std::filesystem::path path() const { return name.empty() ? directory : directory / name; }
  bool has(std::uint32_t bits) const noexcept { return (mask & bits) != 0; }
};

// Non-blocking inotify descriptor; the owner polls fd() (or calls wait()) and then drains
// read_events(). Watches directories, so files appearing, being renamed or removed are seen.
class inotify_watcher {
public:
  static constexpr std::uint32_t default_mask = IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM |
                                                IN_DELETE | IN_MODIFY | IN_CLOSE_WRITE | IN_ATTRIB |
                                                IN_DELETE_SELF | IN_MOVE_SELF;

  // Throws std::system_error when no inotify instance can be created.
  inotify_watcher();
  ~inotify_watcher();
  inotify_watcher(inotify_watcher&& other) noexcept;
  inotify_watcher& operator=(inotify_watcher&& other) noexcept;
  inotify_watcher(const inotify_watcher&) = delete;
  inotify_watcher& operator=(const inotify_watcher&) = delete;

  int fd() const noexcept { return fd_; }
  // Returns the watch id (the same one again for an already watched directory). Throws
  // std::system_error naming the directory.
  int add(const std::filesystem::path& directory, std::uint32_t mask = default_mask);
  void remove(int watch);
  std::size_t watch_count() const noexcept { return watches_.size(); }

  // Decoded pending events; empty when none (never blocks). A watch whose directory vanished
  // reports IN_IGNORED and is forgotten.
  std::vector<watch_event> read_events();
  // Waits up to `timeout` for events (poll); true when read_events() has something.
  bool wait(std::chrono::milliseconds timeout) const;

private:
  int fd_ = -1;
  std::unordered_map<int, std::filesystem::path> watches_;
};

} // namespace vigil
