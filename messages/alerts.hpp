#pragma once

// The alert engine's vocabulary: what a rule actor reports to the alert manager, what the
// manager keeps of an alert, and both actors' typed interfaces.

#include "messages/atoms.hpp"
#include "messages/backend.hpp"
#include "messages/supervision.hpp"
#include "messages/telemetry.hpp"

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace vigil {

enum class alert_change : uint8_t {
  firing,   // breached for the rule's duration
  reminder, // still firing one cooldown after the last firing or reminder
  resolved, // back past the clear threshold (or the subject went away)
};

/// A rule's news about one subject (a mount, a unit, a user; "" for the host).
struct alert_transition {
  alert_change change = alert_change::firing;
  std::string rule_id;
  std::string subject;
  wall_time at{};    // the snapshot's time: the alert engine's clock
  wall_time since{}; // when the breach began
  double value = 0;
  double peak = 0;
  double threshold = 0; // what the value was compared with (baseline: factor × average)
  std::string hostname;
  std::string cause;                      // the top consumer, e.g. "java (pid 812, user app)"
  std::vector<std::string> top_consumers; // lines for the description
  std::string resolved_by;                // resolved otherwise than by the condition clearing
};

/// One alert as the manager keeps it (alerts.db) and the API lists it.
struct alert_record {
  std::string id; // stable: rule, subject and start; the ticket's alert_id
  std::string rule_id;
  std::string subject;
  std::string severity;
  std::string state = "firing"; // firing, resolved
  std::string title;
  std::string cause;
  double value = 0; // the latest
  double peak = 0;
  double threshold = 0;
  int64_t started_ms = 0;
  int64_t resolved_ms = 0;       // 0: not resolved
  int64_t notified_ms = 0;       // the last notification; 0: none (cooldown or silence)
  std::string resolved_by;       // "condition", "rule removed", or the operator's name
  std::string acknowledged_by;   // empty: not acknowledged
  std::string suppressed_reason; // why it was not notified: "cooldown", "silenced"
};

/// A rule muted until `until_ms` (its alerts are recorded, not notified).
struct alert_silence {
  std::string rule_id;
  int64_t until_ms = 0;
  std::string by;
};

struct alert_manager_status {
  uint64_t transitions = 0;
  uint64_t notifications = 0;
  uint64_t suppressed = 0; // by cooldown or silence
  uint64_t duplicates = 0; // a firing for an alert already active (a restarted rule)
  uint64_t store_errors = 0;
  uint64_t dropped_notifications = 0; // the outbox was away or full for too long
  std::string last_error;
  std::vector<std::string> rules;        // running rule actors
  std::vector<std::string> failed_rules; // given up on by their supervisor
};

/// The subjects of a rule that are firing now, with the start of each: a restarted rule
/// resumes them instead of raising them again.
struct active_subjects {
  std::vector<std::string> subjects;
  std::vector<int64_t> started_ms;
  std::vector<int64_t> notified_ms; // the last notification (0: none)
  std::vector<double> peaks;
  std::vector<double> thresholds; // what the value was compared with (a baseline's level)
};

/// What the manager reads from the history at start: the firing alerts, the silences, and
/// the last notification per rule and subject (cooldowns hold across restarts).
struct alert_book {
  std::vector<alert_record> firing;
  std::vector<alert_silence> silences;
  std::vector<std::pair<std::string, int64_t>> last_notified; // "rule_id\x1fsubject", ms
};

/// Alerts from the history, newest first: firing ones and resolved ones kept by retention.
struct alert_query {
  uint32_t limit = 100;
  std::string state; // "firing", "resolved"; empty: both
};

using alert_manager_actor = caf::typed_actor<
    caf::reacts_to<alert_transition>,
    // The rule's firing subjects (a rule actor asks when it starts).
    caf::replies_to<atom::query, std::string>::with<active_subjects>,
    // Alerts from the history (firing and resolved), newest first.
    caf::replies_to<atom::query, alert_query>::with<std::vector<alert_record>>,
    // Operator actions, by alert id: acknowledge (no more reminders) or resolve; the
    // principal is recorded. Reply: the alert afterwards.
    caf::replies_to<atom::acknowledge, std::string, std::string>::with<alert_record>,
    caf::replies_to<atom::resolve, std::string, std::string>::with<alert_record>,
    // Silence a rule until until_ms (0 lifts it). Reply: the silences in force.
    caf::replies_to<atom::silence, alert_silence>::with<std::vector<alert_silence>>,
    // The silences it holds (expired ones too: the caller filters by its clock).
    caf::replies_to<atom::silence>::with<std::vector<alert_silence>>,
    caf::replies_to<atom::status>::with<alert_manager_status>,
    // INTERNAL: the history's book arrived / periodic: start missing rules, resend tickets.
    caf::reacts_to<atom::restore, alert_book>, caf::reacts_to<atom::tick>, configurable>;

/// How one delivery of a notification (webhook or mail) went.
struct delivery_outcome {
  enum class verdict : uint8_t {
    delivered,
    retry,   // the receiver is away, busy or refuses our credentials: try again later
    refused, // the receiver refuses this record for good: a dead letter
  };
  verdict result = verdict::retry;
  std::string detail;                      // the error, for /status and the log
  std::chrono::milliseconds retry_after{}; // the receiver asked to wait this long; 0: not
};

/// Delivers one alert channel's outbox stream ("webhook" or "email").
using alert_sender_actor = caf::typed_actor<
    caf::reacts_to<atom::resume>, // records may be due (appended, or a backoff ended)
    caf::reacts_to<atom::tick>,   // INTERNAL: safety poll
    caf::reacts_to<atom::answered, uint64_t, delivery_outcome>, // INTERNAL: attempt done
    caf::replies_to<atom::status>::with<backend_stream_status>, configurable>;

using alert_rule_actor = caf::typed_actor<caf::reacts_to<atom::publish, telemetry_snapshot_ptr>,
                                          // INTERNAL: look for the hub (again) and subscribe.
                                          caf::reacts_to<atom::subscribe>, configurable>;

} // namespace vigil

// Local only, never serialized.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(vigil::alert_transition)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(vigil::alert_record)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<vigil::alert_record>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(vigil::alert_silence)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<vigil::alert_silence>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(vigil::alert_manager_status)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(vigil::active_subjects)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(vigil::alert_book)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(vigil::alert_query)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(vigil::delivery_outcome)
