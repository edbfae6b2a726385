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

// How long to wait before resending a batch the outbox could not accept.
constexpr auto retry_delay = 1s;
// A commit should take milliseconds; far longer means the outbox is gone.
constexpr auto ingest_timeout = 60s;
constexpr auto host_refresh_interval = 60s;

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
  return {cp.identity.device,
          cp.identity.inode,
          cp.identity.fingerprint,
          cp.identity.fingerprint_bytes,
          cp.offset,
          cp.next_line - 1,
          next_sequence};
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

// Turns the lines just read into a batch of error events ending at the read position.
log_batch make_batch(tailer_pointer self) {
  auto& st = self->state;
  auto& s = *st.current;
  st.matcher->classify(st.lines, st.classes);
  log_batch b;
  b.source = st.params.path;
  b.application = st.params.application;
  b.hostname = st.hostname;
  b.system_ip = st.system_ip;
  b.end = to_position(st.lines.checkpoint(), 0);
  b.lines_read = st.lines.lines.size();
  auto now =
      std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  for (size_t i = 0; i < st.lines.lines.size(); ++i) {
    if (!st.classes[i].is_error)
      continue;
    auto& line = st.lines.lines[i];
    auto text = st.lines.line_text(line);
    log_event e;
    e.id = st.id_prefix + std::to_string(st.next_sequence++);
    auto when = st.timestamps.parse(text, now).value_or(now);
    e.timestamp_ms = when.time_since_epoch().count();
    e.severity = std::string{to_string(st.classes[i].level)};
    e.log_line.assign(text);
    e.line_number = line.number;
    e.offset = line.offset;
    auto ts = format_iso8601_utc(when);
    append_event_json(e.payload, {.id = e.id,
                                  .timestamp = ts,
                                  .system_ip = st.system_ip,
                                  .log_path = st.params.path,
                                  .application = st.params.application,
                                  .log_line = e.log_line,
                                  .severity = e.severity,
                                  .node_id = s.node_id,
                                  .hostname = st.hostname,
                                  .line_number = e.line_number,
                                  .offset = e.offset});
    b.events.push_back(std::move(e));
  }
  b.end.next_sequence = st.next_sequence;
  st.lines_read += b.lines_read;
  st.errors_found += b.events.size();
  return b;
}

// A batch without events that only records where the follower stands now.
log_batch position_only_batch(tailer_pointer self) {
  auto& st = self->state;
  return {st.params.path,
          st.params.application,
          st.hostname,
          st.system_ip,
          to_position(st.follower->position(), st.next_sequence),
          {},
          0};
}

void pump(tailer_pointer self);

void send_unacknowledged(tailer_pointer self) {
  auto& st = self->state;
  auto outbox = find_outbox(self->home_system());
  if (!outbox) // the outbox is restarting: the next tick tries again
    return;
  st.in_flight = true;
  self->request(outbox, ingest_timeout, atom::ingest_v, *st.unacknowledged)
      .then(
          [=](uint64_t) {
            self->state.in_flight = false;
            self->state.unacknowledged.reset();
            pump(self); // credit is back: read on while there is data
          },
          [=](caf::error& err) {
            // Not committed: keep the batch (the file position did not advance) and resend it.
            self->state.in_flight = false;
            if (err != errc::outbox_full)
              spdlog::warn("log_tailer {}: outbox did not accept a batch ({}); retrying",
                           self->state.params.path, self->home_system().render(err));
            self->delayed_send(self, retry_delay, atom::resume_v);
          });
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
  st.follower->read(st.lines, read_bytes);
  report_follower_events(self);
  if (st.lines.empty()) {
    // Idle: give back a buffer grown by a burst, so quiet files cost little memory.
    if (st.lines.text.capacity() > 64 * 1024) {
      st.lines.text = std::string{};
      st.lines.lines = {};
    }
    if (st.follower->position() != before) { // switched files: record where we are
      st.unacknowledged = position_only_batch(self);
      send_unacknowledged(self);
    } else if (st.follower->state() == follow_state::gone) {
      spdlog::info("log_tailer {}: file deleted and fully read; stopping", st.params.path);
      self->quit();
    }
    return;
  }
  st.unacknowledged = make_batch(self);
  send_unacknowledged(self);
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
  pump(self);
}

// Asks the outbox where this source stopped last time; retried until the outbox is up.
void ask_position(tailer_pointer self) {
  auto& st = self->state;
  auto outbox = find_outbox(self->home_system());
  if (!outbox || st.opening)
    return; // the next tick asks again
  st.opening = true;
  self->request(outbox, ingest_timeout, atom::query_v, st.params.path)
      .then(
          [=](bool found, const file_position& pos) {
            self->state.opening = false;
            open_follower(self, found ? std::optional{pos} : std::nullopt);
          },
          [=](caf::error& err) {
            self->state.opening = false;
            spdlog::warn("log_tailer {}: cannot read the saved position: {}",
                         self->state.params.path, self->home_system().render(err));
          });
}

// Hostname and address may change at run time (DHCP, hostnamectl): re-read them now and then.
void refresh_host(tailer_pointer self) {
  auto& st = self->state;
  auto now = std::chrono::steady_clock::now();
  if (now - st.host_read_at < host_refresh_interval)
    return;
  auto host = read_host_info();
  st.hostname = host.hostname;
  st.system_ip = host.primary_ip;
  st.host_read_at = now;
}

void wake(tailer_pointer self) {
  if (self->state.follower)
    pump(self);
  else
    ask_position(self);
}

} // namespace

log_tailer_actor::behavior_type
log_tailer(log_tailer_actor::stateful_pointer<log_tailer_state> self, log_tailer_params params,
           settings_ptr current) {
  auto& st = self->state;
  st.params = std::move(params);
  st.current = std::move(current);
  st.matcher = std::make_unique<hyperscan_line_matcher>(st.params.rules);
  st.id_prefix = st.current->node_id + ":" + hex(fnv1a(st.params.path)) + ":";
  refresh_host(self);
  self->set_exception_handler([](std::exception_ptr& eptr) -> caf::error {
    try {
      std::rethrow_exception(eptr);
    } catch (const std::exception& e) {
      return caf::make_error(caf::sec::runtime_error, e.what());
    }
  });
  ask_position(self);
  self->delayed_send(self, st.current->sources.poll_interval, atom::tick_v);
  return {
      [=](atom::resume) { wake(self); },
      [=](atom::tick) {
        refresh_host(self);
        wake(self);
        self->delayed_send(self, self->state.current->sources.poll_interval, atom::tick_v);
      },
      [=](atom::status) -> caf::result<std::string, uint64_t, uint64_t> {
        auto& st = self->state;
        return {st.params.path, st.lines_read, st.errors_found};
      },
      [=](atom::configure, settings_ptr& s) { self->state.current = std::move(s); },
  };
}

} // namespace vigil
