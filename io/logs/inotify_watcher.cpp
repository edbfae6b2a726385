#include "io/logs/inotify_watcher.hpp"

#include <cerrno>
#include <cstring>
#include <poll.h>
#include <system_error>
#include <unistd.h>
#include <utility>

namespace vigil {

inotify_watcher::inotify_watcher()
    : fd_(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) {
  if (fd_ < 0)
    throw std::system_error(errno, std::generic_category(), "inotify_init1");
}

inotify_watcher::~inotify_watcher() {
  if (fd_ >= 0)
    ::close(fd_);
}

inotify_watcher::inotify_watcher(inotify_watcher&& other) noexcept
    : fd_(std::exchange(other.fd_, -1))
    , watches_(std::move(other.watches_)) {}

inotify_watcher& inotify_watcher::operator=(inotify_watcher&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0)
      ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    watches_ = std::move(other.watches_);
  }
  return *this;
}

int inotify_watcher::add(const std::filesystem::path& directory, std::uint32_t mask) {
  int watch = ::inotify_add_watch(fd_, directory.c_str(), mask);
  if (watch < 0)
    throw std::system_error(errno, std::generic_category(), "inotify watch " + directory.string());
  watches_[watch] = directory;
  return watch;
}

void inotify_watcher::remove(int watch) {
  if (watches_.erase(watch) > 0)
    ::inotify_rm_watch(fd_, watch); // fails harmlessly if the kernel already dropped it
}

std::vector<watch_event> inotify_watcher::read_events() {
  std::vector<watch_event> events;
  alignas(struct inotify_event) char buffer[64 * 1024];
  for (;;) {
    ssize_t n = ::read(fd_, buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      if (errno == EAGAIN)
        break;
      throw std::system_error(errno, std::generic_category(), "read inotify events");
    }
    if (n == 0)
      break;
    for (std::size_t at = 0; at + sizeof(struct inotify_event) <= static_cast<std::size_t>(n);) {
      struct inotify_event header;
      std::memcpy(&header, buffer + at, sizeof header);
      watch_event event;
      event.watch = header.wd;
      event.mask = header.mask;
      event.cookie = header.cookie;
      if (header.len > 0)
        event.name.assign(buffer + at + sizeof header,
                          ::strnlen(buffer + at + sizeof header, header.len));
      if (auto it = watches_.find(header.wd); it != watches_.end()) {
        event.directory = it->second;
        if (header.mask & IN_IGNORED)
          watches_.erase(it);
      }
      events.push_back(std::move(event));
      at += sizeof header + header.len;
    }
  }
  return events;
}

bool inotify_watcher::wait(std::chrono::milliseconds timeout) const {
  struct pollfd entry {
    fd_, POLLIN, 0
  };
  int rc;
  do {
    rc = ::poll(&entry, 1, static_cast<int>(timeout.count()));
  } while (rc < 0 && errno == EINTR);
  return rc > 0 && (entry.revents & POLLIN);
}

} // namespace vigil
