#pragma once

// /api/alerts on the control API: the alerts (from the history, newest first), the rules in
// force, and the operator's actions, each through the alert manager:
//
//   GET  /api/alerts?state=firing|resolved&limit=N  {"alerts": [...], "count": n}
//   GET  /api/alerts/rules                          {"rules": [...]} (built-in + configured)
//   POST /api/alerts/acknowledge {"id"}             no more reminders for that alert
//   POST /api/alerts/resolve     {"id"}             ends it now (quiet until it clears)
//   POST /api/alerts/silence     {"rule", "duration"}  mutes a rule ("2h"; "0s" lifts it)
//   GET  /api/alerts/silences                       {"silences": [{"rule", "until", "by"}]}
//
// Actions record the caller (the token's name) in the alert.

#include "actors/control_api.hpp"
#include "io/http/http_message.hpp"
#include "messages/alerts.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace vigil {

nlohmann::json alert_json(const alert_record& a);
nlohmann::json alert_rule_json(const alert_rule_settings& r);

/// Answers the paths above; `principal` is who called (for the actions).
void answer_alerts(control_api_actor::stateful_pointer<control_api_state> self,
                   const http_request& req, std::string principal, http_responder respond);

} // namespace vigil
