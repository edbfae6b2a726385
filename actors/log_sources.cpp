#include "actors/log_sources.hpp"

#include "actors/log_tailer.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>
#include <set>
#include <sys/stat.h>
#include <unistd.h>

namespace vigil {

// An Asio thread waits until the inotify fd is readable and tells the actor: no timer runs
// while nothing changes. Everything here runs on one strand. The fd (a dup) is registered with
// Asio only while waiting: Asio's epoll is edge-triggered and would wake its thread for every
// event in between.
struct inotify_waiter {
  int fd;
  boost::asio::posix::stream_descriptor waiting;
  boost::asio::steady_timer pause;
  caf::actor_addr owner;
};

namespace {

using namespace std::chrono_literals;
using sources_pointer = log_sources_actor::stateful_pointer<log_sources_state>;

// Events that arrive within this long after a read are read together: a busy file wakes its
// tailer a few times a second with more lines each, not once per write.
constexpr auto inotify_batching = 200ms;

// One wait at a time: the actor arms the next after reading the events.
void await_inotify(const std::shared_ptr<inotify_waiter>& w) {
  boost::asio::post(w->pause.get_executor(), [w] {
    w->pause.expires_after(inotify_batching);
    w->pause.async_wait([w](const boost::system::error_code& ec) {
      if (ec)
        return;
      w->waiting.assign(w->fd);
      w->waiting.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                            [w](const boost::system::error_code& ec) {
                              if (ec)
                                return;
                              w->waiting.release();
                              if (auto owner = caf::actor_cast<log_sources_actor>(w->owner))
                                caf::anon_send(owner, atom::resume_v);
                            });
    });
  });
}

void start_inotify_wait(sources_pointer self, boost::asio::io_context& io) {
  auto& st = self->state;
  int fd = ::dup(st.inotify->fd());
  if (fd < 0) {
    spdlog::warn("log_sources: cannot wait for inotify events ({}); relying on polling",
                 std::strerror(errno));
    st.inotify.reset();
    return;
  }
  auto strand = boost::asio::make_strand(io);
  st.inotify_wait = std::make_shared<inotify_waiter>(
      inotify_waiter{fd, boost::asio::posix::stream_descriptor{strand},
                     boost::asio::steady_timer{strand}, self->address()});
  self->attach_functor([w = st.inotify_wait] {
    boost::asio::post(w->pause.get_executor(), [w] {
      w->pause.cancel();
      if (w->waiting.is_open())
        w->waiting.close(); // closes fd, cancelling the wait
      else
        ::close(w->fd);
    });
  });
  await_inotify(st.inotify_wait);
}

log_sources_state::file_stat stat_file(const std::string& path) {
  struct stat s {};
  if (::stat(path.c_str(), &s) != 0)
    return {};
  return {true,
          static_cast<uint64_t>(s.st_dev),
          static_cast<uint64_t>(s.st_ino),
          s.st_size,
          s.st_mtim,
          s.st_ctim};
}

bool same_stat(const log_sources_state::file_stat& a, const log_sources_state::file_stat& b) {
  auto same_time = [](const timespec& x, const timespec& y) {
    return x.tv_sec == y.tv_sec && x.tv_nsec == y.tv_nsec;
  };
  return a.exists == b.exists && a.device == b.device && a.inode == b.inode && a.size == b.size &&
         same_time(a.mtime, b.mtime) && same_time(a.ctime, b.ctime);
}

// The safety net besides inotify (lost events, file systems without it): wakes the tailers
// whose file changed since the last sweep.
void sweep(sources_pointer self) {
  for (auto& [path, f] : self->state.files) {
    if (!f.tailer)
      continue;
    auto now = stat_file(path);
    if (!f.last_seen || !same_stat(*f.last_seen, now)) {
      f.last_seen = now;
      caf::anon_send(f.tailer, atom::resume_v);
    }
  }
}

supervisor_actor find_tailers(sources_pointer self) {
  return caf::actor_cast<supervisor_actor>(
      self->home_system().registry().get(caf::atom("tailers")));
}

// Compiles one rule set per distinct vocabulary: compiling is costly, matching databases
// are immutable and shared by every tailer using them.
void build_sources(sources_pointer self) {
  auto& st = self->state;
  auto& s = st.current->sources;
  std::map<std::string, std::shared_ptr<const hyperscan_rule_set>> compiled;
  st.sources.clear();
  for (auto& f : s.files) {
    auto vocabulary = classifier_rules_for(s, f);
    std::string key;
    for (auto& k : vocabulary.error_keywords)
      key.append(k).push_back('\0');
    for (auto& w : vocabulary.severity_words)
      key.append(w.pattern).append(1, '\1').append(to_string(w.level)).push_back('\0');
    auto& rules = compiled[key];
    if (!rules)
      rules = hyperscan_rule_set::compile(vocabulary);
    log_tailer_params tailer;
    tailer.application = f.application;
    tailer.rules = rules;
    if (!f.severity.empty())
      tailer.fixed_severity = severity_from_string(f.severity);
    tailer.multiline = multiline_options_for(f);
    st.sources.push_back(
        {glob_expander{{f.path}}, f.read_from.empty() ? s.read_from : f.read_from, tailer});
  }
}

void start_tailer(sources_pointer self, const std::string& path, size_t source_index) {
  auto& st = self->state;
  if (st.files.size() >= st.current->sources.max_files) {
    if (st.counters.over_limit++ == 0)
      spdlog::error("log_sources: sources.max_files ({}) reached; not tailing {} and further "
                    "matches (counted in /status)",
                    st.current->sources.max_files, path);
    return;
  }
  auto tailers = find_tailers(self);
  if (!tailers)
    return; // the tailers supervisor is restarting; the next rescan tries again
  auto& src = st.sources[source_index];
  auto params = src.tailer;
  params.path = path;
  params.start =
      st.first_scan && src.read_from == "end" ? start_position::end : start_position::beginning;
  child_spec_ptr spec = std::make_shared<child_spec>(child_spec{
      "tailer:" + path,
      [params](caf::actor_system& sys, const settings_ptr& s) {
        return caf::actor_cast<caf::actor>(sys.spawn(log_tailer, params, s));
      },
      restart_policy::transient}); // a tailer that stops after its file was deleted stays stopped
  st.files[path] = {source_index, {}, {}};
  self->request(tailers, 10s, atom::add_child_v, spec)
      .then(
          [=](caf::actor& a) {
            self->state.files[path].tailer = a;
            self->monitor(a); // to notice a tailer that finished a deleted file
          },
          [=](caf::error& err) {
            self->state.files.erase(path);
            spdlog::warn("log_sources: cannot start a tailer for {}: {}", path,
                         self->home_system().render(err));
          });
  spdlog::info("log_sources: tailing {}", path);
}

void watch_directories(sources_pointer self) {
  auto& st = self->state;
  if (!st.inotify)
    return;
  std::set<std::string> wanted;
  for (auto& src : st.sources)
    for (auto& d : src.paths.watch_directories())
      wanted.insert(d.string());
  for (auto& [wd, dir] : st.watched_dirs)
    wanted.erase(dir);
  for (auto& dir : wanted) {
    try {
      st.watched_dirs[st.inotify->add(dir)] = dir;
    } catch (const std::exception& e) {
      spdlog::warn("log_sources: cannot watch {}: {}", dir, e.what());
    }
  }
}

// Expands every source: starts tailers for new files, forgets tailers that ended.
void rescan(sources_pointer self) {
  auto& st = self->state;
  std::set<std::string> seen;
  for (size_t i = 0; i < st.sources.size(); ++i) {
    std::vector<std::filesystem::path> matches;
    try {
      matches = st.sources[i].paths.expand();
    } catch (const std::exception& e) {
      spdlog::warn("log_sources: cannot expand {}: {}", st.sources[i].paths.patterns().front(),
                   e.what());
      continue;
    }
    for (auto& p : matches) {
      auto path = p.string();
      if (!seen.insert(path).second)
        continue; // the first source that matches a file owns it
      if (!st.files.contains(path))
        start_tailer(self, path, i);
    }
  }
  // A file that no source matches any more (config changed) stops being tailed. A
  // deleted file is not stopped here: its tailer drains it and stops by itself.
  auto tailers = find_tailers(self);
  for (auto i = st.files.begin(); i != st.files.end();) {
    bool still_wanted = false;
    for (auto& src : st.sources)
      still_wanted |= src.paths.matches(i->first);
    if (!still_wanted && tailers) {
      self->send(tailers, atom::stop_child_v, "tailer:" + i->first);
      i = st.files.erase(i);
    } else {
      ++i;
    }
  }
  st.first_scan = false;
  st.counters.files = st.files.size();
  watch_directories(self);
}

void read_inotify(sources_pointer self) {
  auto& st = self->state;
  if (!st.inotify)
    return;
  bool need_rescan = false;
  // Each tailer is woken once per read, however many events its file had since the last one.
  std::set<caf::actor> changed;
  for (auto& ev : st.inotify->read_events()) {
    if (ev.watch < 0) // the queue overflowed: any file may have changed
      for (auto& [path, f] : st.files)
        if (f.tailer)
          changed.insert(f.tailer);
    if (ev.watch < 0 || ev.has(IN_CREATE) || ev.has(IN_MOVED_TO) || ev.has(IN_DELETE_SELF) ||
        ev.has(IN_MOVE_SELF)) {
      need_rescan = true;
      continue;
    }
    if (ev.has(IN_MODIFY) || ev.has(IN_MOVED_FROM) || ev.has(IN_DELETE)) {
      auto i = st.files.find(ev.path().string());
      if (i != st.files.end() && i->second.tailer)
        changed.insert(i->second.tailer);
    }
  }
  for (auto& tailer : changed)
    caf::anon_send(tailer, atom::resume_v);
  if (need_rescan)
    rescan(self);
}

} // namespace

classifier_rules classifier_rules_for(const sources_settings& s, const log_source_settings& f) {
  auto rules = classifier_rules::defaults();
  rules.error_keywords = f.keywords.empty() ? s.keywords : f.keywords;
  if (!f.severity_words.empty()) {
    rules.severity_words.clear();
    for (auto& w : f.severity_words)
      rules.severity_words.push_back({w.pattern, severity_from_string(w.severity).value()});
  }
  return rules;
}

std::optional<multiline_options> multiline_options_for(const log_source_settings& f) {
  if (f.multiline.empty())
    return std::nullopt;
  multiline_options o;
  o.mode =
      f.multiline == "start_pattern" ? multiline_mode::start_pattern : multiline_mode::stack_trace;
  o.start_pattern = f.multiline_start;
  o.max_lines = f.multiline_max_lines;
  o.max_bytes = f.multiline_max_bytes;
  o.timeout = f.multiline_timeout;
  return o;
}

log_sources_actor::behavior_type
log_sources(log_sources_actor::stateful_pointer<log_sources_state> self, settings_ptr current,
            boost::asio::io_context* io) {
  auto& st = self->state;
  st.current = std::move(current);
  build_sources(self);
  try {
    st.inotify.emplace();
    start_inotify_wait(self, *io);
  } catch (const std::exception& e) {
    spdlog::warn("log_sources: inotify unavailable ({}); relying on polling", e.what());
  }
  // A tailer that stopped normally has drained a deleted file: forget it, so a file
  // created again under that path gets a new tailer at the next scan.
  self->set_down_handler([=](caf::down_msg& dm) {
    if (dm.reason && dm.reason != caf::exit_reason::user_shutdown)
      return; // crashed: its supervisor restarts it
    auto& files = self->state.files;
    for (auto i = files.begin(); i != files.end(); ++i)
      if (i->second.tailer && i->second.tailer.address() == dm.source) {
        if (auto tailers = find_tailers(self))
          self->send(tailers, atom::stop_child_v, "tailer:" + i->first);
        files.erase(i);
        break;
      }
  });
  rescan(self);
  self->delayed_send(self, st.current->sources.poll_interval, atom::tick_v);
  self->delayed_send(self, st.current->sources.rescan_interval, atom::rescan_v);
  return {
      [=](atom::tick) {
        sweep(self);
        self->delayed_send(self, self->state.current->sources.poll_interval, atom::tick_v);
      },
      [=](atom::resume) {
        read_inotify(self);
        if (self->state.inotify_wait)
          await_inotify(self->state.inotify_wait);
      },
      [=](atom::rescan) {
        rescan(self);
        self->delayed_send(self, self->state.current->sources.rescan_interval, atom::rescan_v);
      },
      [=](atom::status) -> caf::result<uint64_t, uint64_t> {
        return {self->state.counters.files, self->state.counters.over_limit};
      },
      [=](atom::configure, settings_ptr& s) {
        self->state.current = std::move(s);
        build_sources(self);
        rescan(self);
      },
  };
}

} // namespace vigil
