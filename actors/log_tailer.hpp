#pragma once

// One actor per log file. It reads only when it has credit — one batch in flight to
// the outbox at a time — so the file itself is the buffer: a slow or full outbox
// stops the reading, never grows memory. A batch's error lines become events; the
// outbox commits them with the file position, and only then is the next batch read.
// With multiline joining, lines become events first (a stack trace is one event) and
// the committed position stops before an event still being joined, so a restart
// joins it again rather than losing its first lines.
// On start the saved position decides where to resume; rotation, truncation and
// deletion are handled by io/logs/file_follower.

#include "io/logs/file_follower.hpp"
#include "io/logs/line_classifier.hpp"
#include "io/logs/multiline_joiner.hpp"
#include "io/logs/timestamp_parser.hpp"
#include "io/system/host_info.hpp"
#include "messages/log_pipeline.hpp"

#include <caf/typed_event_based_actor.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace vigil {

using log_tailer_actor = caf::typed_actor<
    caf::reacts_to<atom::resume>, // the file changed (inotify) or credit returned
    caf::reacts_to<atom::tick>,   // INTERNAL: poll timer while the file is not at its path
    caf::reacts_to<atom::flush>,  // INTERNAL: the event being joined may have timed out
    caf::replies_to<atom::status>::with<std::string, uint64_t, uint64_t>, // path, lines, errors
    configurable>;

struct log_tailer_params {
  std::string path;
  std::string application;
  start_position start = start_position::end; // used only when no position was saved
  std::shared_ptr<const hyperscan_rule_set> rules;
  std::optional<severity> fixed_severity;     // overrides what the severity words say
  std::optional<multiline_options> multiline; // join lines into events before classifying
};

struct log_tailer_state {
  log_tailer_params params;
  settings_ptr current;
  std::optional<file_follower> follower;
  std::unique_ptr<line_matcher> matcher;
  timestamp_parser timestamps;
  std::optional<multiline_joiner> joiner;
  std::vector<joined_event> joined;
  bool joiner_timer_armed = false;         // a resume is due when the pending event times out
  std::optional<log_batch> unacknowledged; // sent (or to resend) until the outbox commits it
  bool in_flight = false;
  caf::actor_addr outbox;     // the outbox the batch in flight went to (monitored)
  uint64_t attempt = 0;       // of sending a batch: answers to an abandoned attempt are ignored
  bool poll_armed = false;    // a tick is scheduled
  bool opening = false;       // asked the outbox for the saved position
  std::string id_prefix;      // node_id:source-hash:
  cached_host_info host;      // hostname and address may change at run time (DHCP, hostnamectl)
  uint64_t next_sequence = 0; // of the next event; restored from the checkpoint
  uint64_t lines_read = 0;
  uint64_t errors_found = 0;
  static inline const char* name = "log_tailer";
};

log_tailer_actor::behavior_type
log_tailer(log_tailer_actor::stateful_pointer<log_tailer_state> self, log_tailer_params params,
           settings_ptr current);

} // namespace vigil

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::shared_ptr<const vigil::hyperscan_rule_set>)
