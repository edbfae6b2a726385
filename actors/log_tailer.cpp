#include "actors/log_tailer.hpp"

#include "actors/outbox.hpp"
#include "io/logs/event_json.hpp"
#include "io/system/host_info.hpp"
#include "messages/errors.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <cstdio>

namespace vigil {

namespace {

using namespace std::chrono_literals;
using tailer_pointer = log_tailer_actor::stateful_pointer<log_tailer_state>;

// A lookup takes milliseconds; far longer means the outbox is gone.
constexpr auto query_timeout = 60s;

std::string hex(uint64_t x) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(x));
  return buf;
}

uint64_t fnv1a(std::string_view s) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : s)
    h = (h ^ c) * 1099511628211ull;
  return h;
}

file_position to_position(const follower_checkpoint& cp, uint64_t next_sequence) {
  // file_follower counts the *next* line; the checkpoint keeps the lines before offset.
  return {
      cp.identity.device, cp.identity.inode, cp.identity.fingerprint, cp.identity.fingerprint_bytes,
      cp.offset,          cp.next_line - 1,  next_sequence,           {}};
}

void report_follower_events(tailer_pointer self) {
  for (auto& e : self->state.follower->take_events()) {
    switch (e.kind) {
    case follower_event_kind::gap:
      spdlog::error("log_tailer {}: {} (lines lost before they could be read)", e.path, e.detail);
      break;
    case follower_event_kind::opened:
      spdlog::debug("log_tailer {}: {}", e.path, e.detail);
      break;
    default:
      spdlog::info("log_tailer {}: {}", e.path, e.detail);
    }
  }
}

// A batch without events that only records where the follower stands now.
log_batch position_only_batch(tailer_pointer self) {
  auto& st = self->state;
  auto& host = st.host.get();
  return {st.params.path,
          st.params.application,
          host.hostname,
          host.primary_ip,
          to_position(st.follower->position(), st.next_sequence),
          {},
          0};
}

using sys_millis = std::chrono::time_point<std::chrono::system_clock, std::chrono::milliseconds>;

sys_millis wall_now() {
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

// Appends the event for one error line (or joined lines) to `b`.
void add_event(tailer_pointer self, log_batch& b, std::string_view text, severity level,
               uint64_t line_number, uint64_t offset, sys_millis now) {
  auto& st = self->state;
  log_event e;
  e.id = st.id_prefix + std::to_string(st.next_sequence++);
  auto when = st.timestamps.parse(text, now).value_or(now);
  e.timestamp_ms = when.time_since_epoch().count();
  e.severity = std::string{to_string(st.params.fixed_severity.value_or(level))};
  e.log_line.assign(text);
  e.line_number = line_number;
  e.offset = offset;
  auto ts = format_iso8601_utc(when);
  append_event_json(e.payload, {.id = e.id,
                                .timestamp = ts,
                                .system_ip = b.system_ip,
                                .log_path = st.params.path,
                                .application = st.params.application,
                                .log_line = e.log_line,
                                .severity = e.severity,
                                .node_id = st.current->node_id,
                                .hostname = b.hostname,
                                .line_number = e.line_number,
                                .offset = e.offset});
  b.events.push_back(std::move(e));
  ++st.errors_found;
}

// Classifies the events the joiner completed and adds the errors among them to `b`.
void add_joined_events(tailer_pointer self, log_batch& b) {
  auto& st = self->state;
  auto now = wall_now();
  for (auto& j : st.joined) {
    auto c = st.matcher->classify(j.text);
    if (c.is_error)
      add_event(self, b, j.text, c.level, j.first_line, j.first_offset, now);
  }
  st.joined.clear();
  b.end.next_sequence = st.next_sequence;
}

// Read buffers belong to the scheduler thread, not to the tailer: a batch is read, classified
// and copied into events within one message, so memory does not grow with the number of files.
struct read_buffers {
  line_batch lines;
  std::vector<line_class> classes;
};

read_buffers& thread_read_buffers() {
  thread_local read_buffers buffers;
  return buffers;
}

// Turns the lines just read into a batch of error events ending at the read position, or
// at the start of the event still being joined.
log_batch make_batch(tailer_pointer self, const line_batch& read) {
  auto& st = self->state;
  auto& lines = read.lines;
  log_batch b = position_only_batch(self);
  b.end = to_position(read.checkpoint(), 0);
  b.lines_read = lines.size();
  st.lines_read += b.lines_read;
  if (st.joiner) {
    auto now = std::chrono::steady_clock::now();
    for (size_t i = 0; i < lines.size(); ++i) {
      auto end = i + 1 < lines.size() ? lines[i + 1].offset : read.end_offset;
      st.joiner->push(read.line_text(lines[i]), lines[i].offset, end, lines[i].number, now,
                      st.joined);
    }
    add_joined_events(self, b);
    if (auto* pending = st.joiner->pending()) {
      b.end.offset = pending->first_offset;
      b.end.line_number = pending->first_line - 1;
    }
    return b;
  }
  auto& classes = thread_read_buffers().classes;
  st.matcher->classify(read, classes);
  auto now = wall_now();
  for (size_t i = 0; i < lines.size(); ++i)
    if (classes[i].is_error)
      add_event(self, b, read.line_text(lines[i]), classes[i].level, lines[i].number,
                lines[i].offset, now);
  b.end.next_sequence = st.next_sequence;
  return b;
}

// While an event is being joined, a wake-up is due when it would time out.
void arm_joiner_timer(tailer_pointer self) {
  auto& st = self->state;
  if (!st.joiner || st.joiner_timer_armed)
    return;
  if (auto deadline = st.joiner->pending_deadline()) {
    st.joiner_timer_armed = true;
    auto delay = std::max(std::chrono::steady_clock::duration::zero(),
                          *deadline - std::chrono::steady_clock::now());
    self->delayed_send(self, std::chrono::duration_cast<std::chrono::milliseconds>(delay) + 1ms,
                       atom::flush_v);
  }
}

void wake(tailer_pointer self);

void send_unacknowledged(tailer_pointer self) {
  send_to_outbox(self, "log_tailer " + self->state.params.path, wake);
}

// Reads one batch if there is credit (nothing in flight) and hands it to the outbox.
void pump(tailer_pointer self) {
  auto& st = self->state;
  if (st.in_flight || !st.follower)
    return;
  if (st.unacknowledged) {
    send_unacknowledged(self);
    return;
  }
  auto before = st.follower->position();
  // A batch must fit the outbox's logs stream several times over, or a small bound would
  // make every batch overshoot it.
  auto& s = *st.current;
  auto read_bytes = std::min<uint64_t>(s.sources.batch_bytes,
                                       std::max<uint64_t>(4096, s.outbox.logs_max_bytes / 8));
  auto& read = thread_read_buffers().lines;
  st.follower->read(read, read_bytes);
  report_follower_events(self);
  if (read.empty()) {
    bool switched = st.follower->position() != before;
    bool gone = st.follower->state() == follow_state::gone;
    if (st.joiner) {
      // The event being joined ends with its file, or when no line came for a while.
      if (switched || gone)
        st.joiner->flush(st.joined);
      else
        st.joiner->flush_expired(std::chrono::steady_clock::now(), st.joined);
    }
    if (switched || !st.joined.empty()) { // record where we are, with any completed event
      st.unacknowledged = position_only_batch(self);
      add_joined_events(self, *st.unacknowledged);
      send_unacknowledged(self);
    } else if (gone) {
      spdlog::info("log_tailer {}: file deleted and fully read; stopping", st.params.path);
      self->quit();
    } else {
      arm_joiner_timer(self);
    }
    return;
  }
  st.unacknowledged = make_batch(self, read);
  send_unacknowledged(self);
  arm_joiner_timer(self);
}

void open_follower(tailer_pointer self, std::optional<file_position> saved) {
  auto& st = self->state;
  follower_options opts;
  opts.max_line_bytes = st.current->sources.max_line_bytes;
  if (saved) {
    st.next_sequence = saved->next_sequence;
    follower_checkpoint cp{
        {saved->device, saved->inode, saved->fingerprint, saved->fingerprint_length},
        saved->offset,
        saved->line_number + 1};
    st.follower.emplace(st.params.path, cp, opts);
  } else {
    st.follower.emplace(st.params.path, st.params.start, opts);
  }
  report_follower_events(self);
  // Record the starting point at once, so a restart after a crash resumes here rather
  // than at the (then later) end of the file.
  if (!saved) {
    st.unacknowledged = position_only_batch(self);
  }
  wake(self);
}

// Asks the outbox where this source stopped last time; retried until the outbox is up.
void ask_position(tailer_pointer self) {
  auto& st = self->state;
  if (st.opening)
    return;
  auto outbox = find_outbox(self->home_system());
  if (!outbox) { // restarting
    self->delayed_send(self, 1s, atom::resume_v);
    return;
  }
  st.opening = true;
  self->request(outbox, query_timeout, atom::query_v, st.params.path)
      .then(
          [=](bool found, const file_position& pos) {
            self->state.opening = false;
            open_follower(self, found ? std::optional{pos} : std::nullopt);
          },
          [=](caf::error& err) {
            self->state.opening = false;
            spdlog::warn("log_tailer {}: cannot read the saved position: {}",
                         self->state.params.path, self->home_system().render(err));
            self->delayed_send(self, 1s, atom::resume_v);
          });
}

// log_sources reports changes to the file at the path (inotify, and a stat sweep as the safety
// net); a file renamed away or not created yet is polled here until it is followed again.
void arm_poll(tailer_pointer self) {
  auto& st = self->state;
  if (st.poll_armed || !st.follower || st.follower->state() == follow_state::following)
    return;
  st.poll_armed = true;
  self->delayed_send(self, st.current->sources.poll_interval, atom::tick_v);
}

void wake(tailer_pointer self) {
  if (self->state.follower)
    pump(self);
  else
    ask_position(self);
  arm_poll(self);
}

} // namespace

log_tailer_actor::behavior_type
log_tailer(log_tailer_actor::stateful_pointer<log_tailer_state> self, log_tailer_params params,
           settings_ptr current) {
  auto& st = self->state;
  st.params = std::move(params);
  st.current = std::move(current);
  st.matcher = std::make_unique<hyperscan_line_matcher>(st.params.rules);
  if (st.params.multiline)
    st.joiner.emplace(*st.params.multiline);
  st.id_prefix = st.current->node_id + ":" + hex(fnv1a(st.params.path)) + ":";
  self->set_exception_handler([](std::exception_ptr& eptr) -> caf::error {
    try {
      std::rethrow_exception(eptr);
    } catch (const std::exception& e) {
      return caf::make_error(caf::sec::runtime_error, e.what());
    }
  });
  self->set_down_handler([=](caf::down_msg& dm) { outbox_down(self, dm); });
  ask_position(self);
  return {
      [=](atom::resume) { wake(self); },
      [=](atom::flush) {
        self->state.joiner_timer_armed = false;
        wake(self);
      },
      [=](atom::tick) {
        self->state.poll_armed = false;
        wake(self);
      },
      [=](atom::status) -> caf::result<std::string, uint64_t, uint64_t> {
        auto& st = self->state;
        return {st.params.path, st.lines_read, st.errors_found};
      },
      [=](atom::configure, settings_ptr& s) { self->state.current = std::move(s); },
  };
}

} // namespace vigil
