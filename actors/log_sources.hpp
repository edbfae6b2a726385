#pragma once

// Finds the files to tail and keeps one log_tailer per file under the "tailers"
// supervisor: it expands the configured paths and globs at start, on inotify events
// (new files, renames) and on a periodic rescan, and nudges a tailer when its file
// changed: as inotify reports it, and from one stat sweep of every file each
// sources.poll_interval (the safety net for lost events and file systems without
// inotify), so quiet files cost no timer each. Files present at first sight start where
// sources.read_from says; files that appear later are read from their first byte.

#include "actors/log_tailer.hpp"
#include "io/logs/glob_expander.hpp"
#include "io/logs/inotify_watcher.hpp"
#include "io/logs/line_classifier.hpp"
#include "messages/supervision.hpp"

#include <caf/typed_event_based_actor.hpp>

#include <ctime>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace vigil {

struct inotify_waiter;

struct source_counters {
  uint64_t files = 0;
  uint64_t over_limit = 0; // matches ignored because sources.max_files was reached
};

using log_sources_actor =
    caf::typed_actor<caf::reacts_to<atom::tick>,   // INTERNAL: stat sweep, poll_interval
                     caf::reacts_to<atom::resume>, // INTERNAL: inotify has events
                     caf::reacts_to<atom::rescan>, // INTERNAL: expand the globs again
                     caf::replies_to<atom::status>::with<uint64_t, uint64_t>, // files, over limit
                     configurable>;

struct log_sources_state {
  settings_ptr current;
  struct source {
    glob_expander paths;
    std::string read_from;    // "end" or "beginning"
    log_tailer_params tailer; // path and start are set per file
  };
  std::vector<source> sources;
  struct file_stat { // what the stat sweep compares
    bool exists = false;
    uint64_t device = 0;
    uint64_t inode = 0;
    int64_t size = 0;
    timespec mtime{};
    timespec ctime{};
  };
  struct tailed {
    size_t source = 0;
    caf::actor tailer;
    std::optional<file_stat> last_seen; // at the last sweep
  };
  std::map<std::string, tailed> files; // by path
  std::optional<inotify_watcher> inotify;
  std::shared_ptr<inotify_waiter> inotify_wait; // the Asio thread's wait for inotify events
  std::map<int, std::string> watched_dirs;      // watch descriptor -> directory
  bool first_scan = true;
  source_counters counters;
  static inline const char* name = "log_sources";
};

// How a configured source classifies and joins its lines. Patterns are compiled by the
// caller; runtime/config_loader compiles them too, to reject a bad pattern at load time.
classifier_rules classifier_rules_for(const sources_settings& s, const log_source_settings& f);
std::optional<multiline_options> multiline_options_for(const log_source_settings& f);

log_sources_actor::behavior_type
log_sources(log_sources_actor::stateful_pointer<log_sources_state> self, settings_ptr current,
            boost::asio::io_context* io);

} // namespace vigil
