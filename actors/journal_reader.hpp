#pragma once

// The systemd journal as one log source. Like a log_tailer it reads only with credit —
// one batch in flight to the outbox — and the outbox commits the batch's events with
// the sd-journal cursor of the last entry read, so after a crash reading resumes right
// after the last committed entry. Entries that are not errors still move the cursor
// (a batch may hold no event). Without a saved cursor reading starts at the journal's
// end, or its beginning with sources.read_from = "beginning".

#include "io/journal/journal_follower.hpp"
#include "io/logs/line_classifier.hpp"
#include "io/system/host_info.hpp"
#include "messages/log_pipeline.hpp"

#include <caf/typed_event_based_actor.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace vigil {

using journal_reader_actor =
    caf::typed_actor<caf::reacts_to<atom::resume>, // credit returned, or retry
                     caf::reacts_to<atom::tick>,   // INTERNAL: look for new entries
                     caf::replies_to<atom::status>::with<journal_reader_status>, configurable>;

struct journal_reader_state {
  settings_ptr current;
  std::optional<journal_follower> follower;
  std::unique_ptr<line_matcher> matcher;
  std::vector<journal_entry> entries;
  std::optional<log_batch> unacknowledged; // sent (or to resend) until the outbox commits it
  bool in_flight = false;
  caf::actor_addr outbox; // the outbox the batch in flight went to (monitored)
  uint64_t attempt = 0;   // of sending a batch: answers to an abandoned attempt are ignored
  bool opening = false;
  bool ticking = false; // a tick is scheduled
  std::chrono::steady_clock::time_point retry_open_at{};
  cached_host_info host;
  std::string id_prefix; // node_id:journal:
  uint64_t next_sequence = 0;
  journal_reader_status status;
  static inline const char* name = "journal_reader";
};

journal_reader_actor::behavior_type
journal_reader(journal_reader_actor::stateful_pointer<journal_reader_state> self,
               settings_ptr current);

} // namespace vigil
