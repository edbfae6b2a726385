#include "actors/journal_reader.hpp"

#include "actors/outbox.hpp"
#include "io/logs/event_json.hpp"
#include "io/logs/timestamp_parser.hpp"
#include "io/system/host_info.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <poll.h>

namespace vigil {

namespace {

using namespace std::chrono_literals;
using reader_pointer = journal_reader_actor::stateful_pointer<journal_reader_state>;

// The checkpoint key and every event's log_path. Files are absolute paths: no clash.
constexpr const char* source_name = "journal";
constexpr auto tick_interval = 1s;
// A journal that could not be opened (no permission yet, directory not there) is retried.
constexpr auto reopen_interval = 30s;
constexpr auto query_timeout = 60s;
constexpr size_t max_entries_per_batch = 4096;

bool fd_readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return fd >= 0 && ::poll(&p, 1, 0) > 0 && (p.revents & POLLIN);
}

// syslog's mapping: emerg/alert/crit are critical, err is error, warning is warn.
severity severity_of_priority(int priority) {
  if (priority <= 2)
    return severity::critical;
  if (priority == 3)
    return severity::error;
  return priority == 4 ? severity::warn : severity::info;
}

// "identifier[pid]: message", as rsyslog writes the journal to /var/log/syslog.
std::string syslog_line(const journal_entry& e) {
  std::string line;
  line.reserve(e.identifier.size() + e.message.size() + 24);
  if (!e.identifier.empty()) {
    line += e.identifier;
    if (e.pid > 0)
      line.append("[").append(std::to_string(e.pid)).append("]");
    line += ": ";
  }
  line += e.message;
  return line;
}

log_batch make_batch(reader_pointer self) {
  auto& st = self->state;
  auto& s = *st.current;
  auto& j = s.sources.journal;
  auto& host = st.host.get();
  log_batch b;
  b.source = source_name;
  b.application = j.application;
  b.hostname = host.hostname;
  b.system_ip = host.primary_ip;
  b.lines_read = st.entries.size();
  for (auto& entry : st.entries) {
    bool urgent = entry.priority <= static_cast<int>(j.max_priority);
    line_class c;
    if (j.keywords)
      c = st.matcher->classify(entry.message);
    if (!urgent && !c.is_error)
      continue;
    auto level = std::max(c.level, urgent ? severity_of_priority(entry.priority) : severity::info);
    log_event e;
    e.id = st.id_prefix + std::to_string(st.next_sequence++);
    e.timestamp_ms = entry.realtime_us / 1000;
    e.severity = std::string{to_string(level)};
    e.log_line = syslog_line(entry);
    auto ts = format_iso8601_utc(log_time{std::chrono::milliseconds{e.timestamp_ms}});
    append_event_json(e.payload, {.id = e.id,
                                  .timestamp = ts,
                                  .system_ip = b.system_ip,
                                  .log_path = source_name,
                                  .application = j.application,
                                  .log_line = e.log_line,
                                  .severity = e.severity,
                                  .node_id = s.node_id,
                                  .hostname = b.hostname,
                                  .line_number = 0,
                                  .offset = 0});
    b.events.push_back(std::move(e));
  }
  b.end.cursor = st.follower->cursor().value_or("");
  b.end.next_sequence = st.next_sequence;
  st.status.entries += st.entries.size();
  st.status.events += b.events.size();
  return b;
}

void pump(reader_pointer self);

void send_unacknowledged(reader_pointer self) {
  send_to_outbox(self, "journal_reader", pump);
}

void unavailable(reader_pointer self, const std::string& why) {
  auto& st = self->state;
  if (st.status.last_error != why)
    spdlog::error("journal_reader: journal unavailable, retrying every {}s: {}",
                  reopen_interval.count(), why);
  st.follower.reset();
  st.status.state = "unavailable";
  st.status.last_error = why;
  st.retry_open_at = std::chrono::steady_clock::now() + reopen_interval;
}

void pump(reader_pointer self) {
  auto& st = self->state;
  if (st.in_flight || !st.follower)
    return;
  if (st.unacknowledged) {
    send_unacknowledged(self);
    return;
  }
  st.entries.clear();
  try {
    st.follower->read(st.entries, max_entries_per_batch, st.current->sources.batch_bytes);
  } catch (const std::exception& e) {
    unavailable(self, e.what());
    return;
  }
  if (st.entries.empty())
    return;
  st.unacknowledged = make_batch(self);
  send_unacknowledged(self);
}

journal_options options_of(const journal_settings& j) {
  journal_options o;
  o.directory = j.directory;
  o.units = j.units;
  // With keywords every entry is looked at; else the journal's index filters by priority.
  if (!j.keywords)
    o.max_priority = static_cast<int>(j.max_priority);
  return o;
}

void open_follower(reader_pointer self, std::optional<std::string> cursor) {
  auto& st = self->state;
  auto& s = *st.current;
  // A saved position without a cursor was taken from an empty journal: all that came
  // since is new. Without any saved position, sources.read_from decides.
  auto start =
      cursor || s.sources.read_from == "beginning" ? journal_start::beginning : journal_start::end;
  if (cursor && cursor->empty())
    cursor.reset();
  try {
    st.follower.emplace(options_of(s.sources.journal), cursor, start, s.sources.max_line_bytes);
  } catch (const std::exception& e) {
    unavailable(self, e.what());
    return;
  }
  if (st.follower->counters().gaps > 0)
    spdlog::error("journal_reader: the saved journal position is gone (journal vacuumed?); "
                  "reading from the oldest entry, entries in between may be lost");
  st.status.state = "reading";
  st.status.last_error.clear();
  if (!cursor) { // record the starting point, so a restart resumes here
    st.unacknowledged = log_batch{};
    st.unacknowledged->source = source_name;
    st.unacknowledged->end.cursor = st.follower->cursor().value_or("");
    st.unacknowledged->end.next_sequence = st.next_sequence;
  }
  pump(self);
}

// Asks the outbox for the saved cursor; retried by the tick until the outbox answers.
void ask_position(reader_pointer self) {
  auto& st = self->state;
  auto outbox = find_outbox(self->home_system());
  // Not while a batch is in flight: the saved cursor is about to change.
  if (!outbox || st.opening || st.in_flight || std::chrono::steady_clock::now() < st.retry_open_at)
    return;
  st.opening = true;
  st.status.state = "opening";
  self->request(outbox, query_timeout, atom::query_v, std::string{source_name})
      .then(
          [=](bool found, const file_position& pos) {
            auto& st = self->state;
            st.opening = false;
            st.unacknowledged.reset(); // read again from the saved cursor
            if (found)
              st.next_sequence = pos.next_sequence;
            open_follower(self, found ? std::optional{pos.cursor} : std::nullopt);
          },
          [=](caf::error& err) {
            self->state.opening = false;
            spdlog::warn("journal_reader: cannot read the saved position: {}",
                         self->home_system().render(err));
          });
}

void on_tick(reader_pointer self) {
  auto& st = self->state;
  if (!st.current->sources.journal.enabled)
    return;
  if (!st.follower)
    ask_position(self);
  else if (st.unacknowledged || !st.follower->at_end() || fd_readable(st.follower->wait_fd()))
    pump(self);
}

// Idle, a tick costs one poll(2) on the journal's inotify descriptor per
// second (the latency of journal events); a disabled journal costs nothing.
void schedule_tick(reader_pointer self) {
  auto& st = self->state;
  if (st.ticking || !st.current->sources.journal.enabled)
    return;
  on_tick(self);
  st.ticking = true;
  self->delayed_send(self, tick_interval, atom::tick_v);
}

bool same_journal(const journal_settings& a, const journal_settings& b) {
  return a.enabled == b.enabled && a.directory == b.directory && a.units == b.units &&
         a.max_priority == b.max_priority && a.keywords == b.keywords;
}

void compile_matcher(reader_pointer self) {
  auto& s = *self->state.current;
  auto rules = classifier_rules::defaults();
  rules.error_keywords = s.sources.keywords;
  self->state.matcher = make_line_matcher(rules);
}

} // namespace

journal_reader_actor::behavior_type
journal_reader(journal_reader_actor::stateful_pointer<journal_reader_state> self,
               settings_ptr current) {
  auto& st = self->state;
  st.current = std::move(current);
  st.id_prefix = st.current->node_id + ":journal:";
  st.status.state = st.current->sources.journal.enabled ? "opening" : "disabled";
  compile_matcher(self);
  self->set_down_handler([=](caf::down_msg& dm) { outbox_down(self, dm); });
  schedule_tick(self);
  return {
      [=](atom::resume) { pump(self); },
      [=](atom::tick) {
        self->state.ticking = false;
        schedule_tick(self);
      },
      [=](atom::status) { return self->state.status; },
      [=](atom::configure, settings_ptr& s) {
        auto& st = self->state;
        bool reopen = !same_journal(st.current->sources.journal, s->sources.journal);
        st.current = std::move(s);
        compile_matcher(self);
        if (!reopen)
          return;
        // Filters changed: continue from the committed cursor under the new ones. A batch
        // in flight is committed first; its answer finds no follower and the tick reopens.
        st.follower.reset();
        st.retry_open_at = {};
        st.status.state = st.current->sources.journal.enabled ? "opening" : "disabled";
        schedule_tick(self);
      },
  };
}

} // namespace vigil
