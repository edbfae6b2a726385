#pragma once

// Internal to vigil_io_http: the server's list of live connections, for max_connections,
// stop() and live_connections().

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace vigil {

class tracked_connection {
public:
  virtual ~tracked_connection() = default;
  // Any thread; the connection closes itself on its own strand.
  virtual void force_close() = 0;
};

class connection_registry {
public:
  // Returns an id, or 0 when the registry is stopped or already holds `limit` connections.
  std::uint64_t add(std::weak_ptr<tracked_connection> connection, std::size_t limit) {
    std::lock_guard lock{mutex_};
    if (stopped_ || live_.size() >= limit)
      return 0;
    auto id = ++next_id_;
    live_.emplace(id, std::move(connection));
    return id;
  }

  void remove(std::uint64_t id) {
    std::lock_guard lock{mutex_};
    live_.erase(id);
  }

  std::size_t size() const {
    std::lock_guard lock{mutex_};
    return live_.size();
  }

  bool stopped() const {
    std::lock_guard lock{mutex_};
    return stopped_;
  }

  // Refuses further adds and asks every live connection to close.
  void close_all() {
    std::vector<std::shared_ptr<tracked_connection>> to_close;
    {
      std::lock_guard lock{mutex_};
      stopped_ = true;
      for (auto& [id, weak] : live_)
        if (auto strong = weak.lock())
          to_close.push_back(std::move(strong));
    }
    // Outside the lock: force_close may end up calling remove().
    for (auto& connection : to_close)
      connection->force_close();
  }

private:
  mutable std::mutex mutex_;
  bool stopped_ = false;
  std::uint64_t next_id_ = 0;
  std::unordered_map<std::uint64_t, std::weak_ptr<tracked_connection>> live_;
};

} // namespace vigil
