#include "actors/outbox.hpp"

#include "actors/live_log_hub.hpp"
#include "io/sqlite/checkpoint_store.hpp"
#include "io/sqlite/event_store.hpp"
#include "io/sqlite/outbox_store.hpp"
#include "io/sqlite/sqlite_database.hpp"
#include "io/sqlite/state_schema.hpp"
#include "messages/errors.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace vigil {

namespace {

using namespace std::chrono_literals;
using outbox_pointer = outbox_actor::stateful_pointer<outbox_state>;

constexpr auto prune_interval = 10min;

bool broker_configured(const settings& s) {
  return !s.rabbitmq.url.empty();
}

std::vector<outbox_stream_config> stream_bounds(const settings& s) {
  return {{"logs", s.outbox.logs_max_bytes, outbox_overflow::refuse},
          // Alert notifications, one stream per channel (backend tickets, webhook, email),
          // each bounded by outbox.alerts_max_bytes.
          {"alerts", s.outbox.alerts_max_bytes, outbox_overflow::refuse},
          {"webhook", s.outbox.alerts_max_bytes, outbox_overflow::refuse},
          {"email", s.outbox.alerts_max_bytes, outbox_overflow::refuse},
          {"telemetry", s.outbox.telemetry_max_bytes, outbox_overflow::drop_oldest},
          {"heartbeat", s.outbox.heartbeat_max_bytes, outbox_overflow::drop_oldest},
          // Only the newest profile matters.
          {"system_info", s.outbox.system_info_max_bytes, outbox_overflow::drop_oldest}};
}

stored_event to_stored(const settings& s, const log_batch& b, const log_event& e) {
  stored_event x;
  x.id = e.id;
  x.timestamp = std::chrono::system_clock::time_point{std::chrono::milliseconds{e.timestamp_ms}};
  x.node_id = s.node_id;
  x.hostname = b.hostname;
  x.system_ip = b.system_ip;
  x.log_path = b.source;
  x.application = b.application;
  x.severity = e.severity;
  x.log_line = e.log_line;
  x.line_number = e.line_number;
  x.offset = e.offset;
  return x;
}

void schedule_flush(outbox_pointer self) {
  auto& st = self->state;
  if (!st.flush_scheduled) {
    // The flush message queues behind every batch already in the mailbox, so batches that
    // arrived together share one commit without waiting for a timer.
    self->send(self, atom::flush_v);
    st.flush_scheduled = true;
  }
}

// Deletes records the sink confirmed. A lost delete only sends a record again (same id), so
// the commit skips the fsync that ingest commits pay. A failure is logged and counted: the
// records stay and are sent again.
void remove_confirmed(outbox_pointer self, const std::string& stream,
                      const std::vector<int64_t>& seqs) {
  auto& st = self->state;
  bool relaxed = st.db->options().synchronous == sqlite_sync::full;
  try {
    if (relaxed)
      st.db->set_synchronous(sqlite_sync::normal);
    st.outbox->remove(stream, seqs);
  } catch (const std::exception& e) {
    ++st.counters.storage_errors;
    spdlog::error("outbox: cannot remove confirmed records: {}", e.what());
  }
  if (relaxed)
    // Should this fail, ingest commits would run without fsync: let the supervisor reopen.
    st.db->set_synchronous(sqlite_sync::full);
  // Room was freed: sources refused for a full stream try again now, not at their next retry.
  for (auto& source : st.waiting)
    caf::anon_send(caf::actor_cast<caf::actor>(source), atom::resume_v);
  st.waiting.clear();
}

// Commits every collected batch in one transaction and answers each source.
void flush(outbox_pointer self) {
  auto& st = self->state;
  st.flush_scheduled = false;
  if (st.pending.empty())
    return;
  auto pending = std::move(st.pending);
  st.pending.clear();
  auto& s = *st.current;
  std::vector<bool> accepted(pending.size(), false);
  bool queued_for_broker = false;
  try {
    sqlite_transaction tx{*st.db};
    std::vector<stored_event> stored;
    std::vector<outbox_message> messages;
    for (size_t i = 0; i < pending.size(); ++i) {
      auto& b = pending[i].batch;
      if (broker_configured(s) && !b.events.empty()) {
        messages.clear();
        for (auto& e : b.events)
          messages.push_back({e.id, e.payload});
        if (!st.outbox->append("logs", messages).appended()) {
          ++st.counters.refused_full;
          continue; // nothing of this batch is written; its source keeps the lines
        }
        queued_for_broker = true;
      }
      stored.clear();
      for (auto& e : b.events)
        stored.push_back(to_stored(s, b, e));
      st.events->insert(stored);
      st.checkpoints->save({b.source, b.end.device, b.end.inode, b.end.fingerprint,
                            b.end.fingerprint_length, b.end.offset, b.end.line_number,
                            std::chrono::system_clock::now(), b.end.next_sequence, b.end.cursor});
      accepted[i] = true;
    }
    tx.commit();
  } catch (const std::exception& e) {
    // Nothing was committed: every source keeps its batch and retries.
    ++st.counters.storage_errors;
    st.counters.last_error = e.what();
    spdlog::error("outbox: commit failed, sources will retry: {}", e.what());
    for (auto& p : pending)
      p.promise.deliver(caf::make_error(errc::storage_failed, e.what()));
    return;
  }
  ++st.counters.commits;
  for (size_t i = 0; i < pending.size(); ++i) {
    auto& p = pending[i];
    if (accepted[i]) {
      ++st.counters.batches;
      st.counters.events += p.batch.events.size();
      st.counters.lines += p.batch.lines_read;
      p.promise.deliver(p.batch.end.offset);
      // Live logs (WebSocket): the committed events, moved — the batch is done with here.
      publish_live_logs(self->home_system(), std::move(p.batch));
    } else {
      if (std::find(st.waiting.begin(), st.waiting.end(), p.source) == st.waiting.end())
        st.waiting.push_back(p.source);
      p.promise.deliver(caf::make_error(errc::outbox_full, "logs stream full"));
    }
  }
  if (queued_for_broker)
    if (auto publisher = self->home_system().registry().get(caf::atom("publisher")))
      caf::anon_send(caf::actor_cast<caf::actor>(publisher), atom::resume_v);
}

} // namespace

outbox_actor::behavior_type outbox(outbox_actor::stateful_pointer<outbox_state> self,
                                   settings_ptr current) {
  auto& st = self->state;
  st.current = std::move(current);
  auto path = st.current->state_dir + "/state.db";
  // Exceptions here (unwritable state dir, corrupt file) crash the actor; its supervisor
  // retries with backoff and reports it.
  st.db = std::make_shared<sqlite_database>(path);
  ensure_state_schema(*st.db);
  st.outbox = std::make_shared<outbox_store>(*st.db, stream_bounds(*st.current));
  st.checkpoints = std::make_shared<checkpoint_store>(*st.db);
  auto& o = st.current->outbox;
  st.events = std::make_shared<event_store>(
      *st.db, event_retention{std::chrono::duration_cast<std::chrono::seconds>(o.events_retention),
                              o.events_max_rows});
  self->set_exit_handler([=](caf::exit_msg& em) {
    flush(self); // what was accepted into `pending` is committed before stopping
    self->quit(em.reason);
  });
  self->delayed_send(self, prune_interval, atom::tick_v);
  spdlog::info("outbox: state database {}", path);
  return {
      [=](atom::ingest, log_batch& b) -> caf::typed_response_promise<uint64_t> {
        auto& st = self->state;
        auto rp = self->make_response_promise<uint64_t>();
        st.pending.push_back({std::move(b), rp, self->current_sender()});
        schedule_flush(self);
        return rp;
      },
      [=](atom::query, const std::string& source) -> caf::result<bool, file_position> {
        auto cp = self->state.checkpoints->load(source);
        if (!cp)
          return {false, file_position{}};
        return {true, file_position{cp->device, cp->inode, cp->fingerprint, cp->fingerprint_length,
                                    cp->offset, cp->line_number, cp->next_sequence, cp->cursor}};
      },
      [=](atom::query, const log_query& q) -> caf::result<std::vector<log_record>> {
        using std::chrono::milliseconds;
        using std::chrono::system_clock;
        event_query filter;
        if (q.since_ms >= 0)
          filter.since = system_clock::time_point{milliseconds{q.since_ms}};
        if (q.until_ms >= 0)
          filter.until = system_clock::time_point{milliseconds{q.until_ms}};
        if (!q.severity.empty())
          filter.severity = q.severity;
        if (!q.path_contains.empty())
          filter.path_contains = q.path_contains;
        if (!q.text_contains.empty())
          filter.text_contains = q.text_contains;
        filter.limit = q.limit;
        try {
          std::vector<log_record> out;
          for (auto& e : self->state.events->query(filter))
            out.push_back({std::move(e.id), to_millis(e.timestamp), std::move(e.node_id),
                           std::move(e.hostname), std::move(e.system_ip), std::move(e.log_path),
                           std::move(e.application), std::move(e.severity), std::move(e.log_line),
                           e.line_number, e.offset});
          return out;
        } catch (const std::exception& e) {
          return caf::make_error(errc::storage_failed, e.what());
        }
      },
      [=](atom::publish, const std::string& stream, int64_t after,
          uint32_t limit) -> std::vector<outbox_entry> {
        std::vector<outbox_entry> out;
        for (auto& r :
             self->state.outbox->peek(stream, limit, std::chrono::system_clock::now(), after))
          out.push_back({r.seq, std::move(r.id), std::move(r.payload)});
        return out;
      },
      [=](atom::confirmed, const std::string& stream, const std::vector<int64_t>& seqs) {
        remove_confirmed(self, stream, seqs);
      },
      [=](atom::append, const std::string& stream,
          const std::vector<outbox_entry>& records) -> caf::result<uint64_t> {
        std::vector<outbox_message> messages;
        messages.reserve(records.size());
        for (auto& r : records)
          messages.push_back({r.id, r.payload});
        try {
          auto result = self->state.outbox->append(stream, messages);
          if (!result.appended())
            return caf::make_error(errc::outbox_full, stream + " stream full");
          if (result.dropped > 0)
            spdlog::warn("outbox: {} stream full, dropped its {} oldest records", stream,
                         result.dropped);
          return result.dropped;
        } catch (const std::exception& e) {
          ++self->state.counters.storage_errors;
          self->state.counters.last_error = e.what();
          return caf::make_error(errc::storage_failed, e.what());
        }
      },
      [=](atom::failed, const std::string& stream, const std::vector<int64_t>& seqs,
          int64_t next_attempt_ms) {
        try {
          self->state.outbox->defer(
              stream, seqs,
              std::chrono::system_clock::time_point{std::chrono::milliseconds{next_attempt_ms}});
        } catch (const std::exception& e) {
          ++self->state.counters.storage_errors;
          spdlog::error("outbox: cannot defer records: {}", e.what());
        }
      },
      [=](atom::reject, const std::string& stream, int64_t seq, const std::string& reason) {
        try {
          self->state.outbox->dead_letter(stream, seq, reason);
        } catch (const std::exception& e) {
          ++self->state.counters.storage_errors;
          spdlog::error("outbox: cannot dead-letter a record: {}", e.what());
        }
      },
      [=](atom::status) {
        auto& st = self->state;
        auto c = st.counters;
        c.stored_events = st.events->count();
        for (auto& stream : st.outbox->streams()) {
          auto x = st.outbox->stats(stream.name);
          if (stream.name == "logs") {
            c.queued_records = x.records;
            c.queued_bytes = x.bytes;
            c.max_bytes = x.max_bytes;
          }
          c.streams.push_back({stream.name, x.records, x.bytes, x.max_bytes, x.dropped,
                               x.dead_letters, x.oldest_age.count()});
        }
        return c;
      },
      [=](atom::flush) { flush(self); },
      [=](atom::tick) {
        try {
          if (auto n = self->state.events->prune(); n > 0)
            spdlog::info("outbox: pruned {} old events from the local store", n);
        } catch (const std::exception& e) {
          spdlog::warn("outbox: prune failed: {}", e.what());
        }
        self->delayed_send(self, prune_interval, atom::tick_v);
      },
      [=](atom::configure, settings_ptr& s) { self->state.current = std::move(s); },
  };
}

} // namespace vigil
