#pragma once

// `vigil alerts`: the control API's alert endpoints (docs/alerts.md) from the terminal —
// list, rules, ack, resolve, silence, unsilence. Text for people, or the API's JSON with
// --json. Exit codes: 0 done, 1 the agent refused (its detail on stderr), 3 the agent is not
// reachable; usage errors (2) are the command line's.

#include "runtime/command_line.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace vigil {

int run_alerts_command(const parsed_command_line& cl);

/// GET /api/alerts's "alerts" as a table (severity, state, rule, subject, value/peak, since,
/// ack, id), ages counted back from `now_ms`. With `colour`, the severity is painted in ANSI
/// colours.
std::string alerts_table(const nlohmann::json& alerts, bool colour, int64_t now_ms);

/// Whether text written to `fd` may carry colours: it is a terminal and NO_COLOR is not set
/// (https://no-color.org: an empty NO_COLOR does not count).
bool colour_wanted(int fd);

} // namespace vigil
