#pragma once

// The alert manager: one per agent (registered as "alerts"). It turns the rules' transitions
// into alerts — one per rule and subject while firing — and decides what is notified:
//
// - a firing for an alert already active is a duplicate (a restarted rule) and is not sent;
// - a new alert within the rule's cooldown of the last notification of the same rule and
//   subject, or of a silenced rule, is recorded but not sent (`suppressed_reason`); its
//   first reminder after the cooldown sends it;
// - a reminder re-sends a firing alert once per cooldown unless it was acknowledged;
// - a recovery is sent only for an alert whose firing was sent.
//
// Alerts and silences live in the history (history.db), so a restart keeps active alerts,
// cooldowns and silences; a write the history did not confirm is retried every tick.
// Notifications go to the rule's channels (alerts.channels by default), each a durable
// outbox stream with its own sender, so a channel that is down never holds up a rule:
// "backend" → the "alerts" stream (the seed's ticket, POST /api/alerts/create, by the
// backend poster), "webhook" and "email" → their streams (actors/alert_sender), "local" →
// vigil's log. The manager also starts the rule actors under the supervisor registered as
// "alertrules" and re-checks them every tick; a rule removed from the configuration
// resolves its alerts ("rule removed").

#include "io/system/host_info.hpp"
#include "messages/alerts.hpp"
#include "messages/log_pipeline.hpp"
#include "messages/settings.hpp"

#include <caf/typed_event_based_actor.hpp>
#include <nlohmann/json_fwd.hpp>

#include <deque>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace vigil {

// --- pure logic, exposed for tests ---------------------------------------------------------------

/// "🔴 CRITICAL: CPU usage at 92.3% for 5.0 minutes on web-server-01" (firing, reminder);
/// "✅ RESOLVED: CPU usage back to 41.0% after 12.5 minutes on web-server-01" (resolved).
std::string alert_title(const alert_rule_settings& rule, const alert_transition& x);

/// Metrics, thresholds, top consumers and remediation steps, as plain text lines.
std::string alert_description(const alert_rule_settings& rule, const alert_transition& x);

struct ticket_context {
  std::string node_id;
  std::string system_ip;
  std::string application;
};

/// The backend ticket (POST /api/alerts/create): the seed's fields — title, description,
/// priority, status, application, system_ip, alert_type, metric_value — plus node_id,
/// hostname, alert_id, state, subject, threshold, peak, started_at, resolved_at, duration_s.
nlohmann::json alert_ticket(const alert_rule_settings& rule, const alert_transition& x,
                            const alert_record& alert, const ticket_context& context);

// --- the actor -----------------------------------------------------------------------------------

struct alert_manager_state {
  struct queued_notification {
    std::string stream; // outbox stream: alerts (backend), webhook, email
    outbox_entry entry;
  };
  struct unsaved_record {
    uint64_t version = 0; // a newer change supersedes the write in flight
    alert_record record;
    bool writing = false;
  };
  settings_ptr current;
  bool loaded = false;                        // the history's book was read
  std::vector<alert_transition> early;        // arrived before that
  std::map<std::string, alert_record> active; // by "rule_id\x1fsubject"
  std::map<std::string, int64_t> last_notified;
  std::map<std::string, alert_silence> silences; // by rule id
  std::deque<queued_notification> unsent;        // not in the outbox yet (away or full)
  std::set<std::string> appending;               // streams with an append in flight
  std::set<std::string> refused;                 // streams the outbox refused since the last tick
  std::map<std::string, unsaved_record> unsaved; // by alert id: not confirmed by the history
  uint64_t saves = 0;
  bool starting_rules = false;    // a status request to "alertrules" is out
  std::set<std::string> given_up; // rules their supervisor gave up on, until the next reload
  alert_manager_status counters;
  cached_host_info host;
  static inline const char* name = "alert_manager";
};

alert_manager_actor::behavior_type
alert_manager(alert_manager_actor::stateful_pointer<alert_manager_state> self,
              settings_ptr current);

} // namespace vigil
