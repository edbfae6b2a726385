#pragma once

// GET /api/history on the control API: a metric of the telemetry history over a time range,
// in buckets of a step, as {"metric", "step", "points": [[t, avg, min, max], ...]}; without
// `metric`, the list of metric names. The parameter parsing and the JSON are plain functions
// (tested without actors); answer_history asks the history actor.
//
//   metric  a name from docs/telemetry-format.md ("cpu.usage_percent")
//   from    unix seconds ("1700000000", "1700000000.5") or ISO 8601 ("2025-01-01T10:00:00Z",
//           "2025-01-01T11:00:00+01:00", "2025-01-01"); default: `to` − 1 h
//   to      the same; default: now. The range is [from, to).
//   step    "10s", "1m", "1h", "1d" (or plain seconds); default: the smallest of 10s, 30s, 1m,
//           5m, 15m, 1h, 6h, 1d giving at most 1000 buckets. Below a minute and within
//           history.raw_retention the raw values answer, else the 1-minute tier.
// A bad parameter is a 400 {"error": "bad request", "detail": "<parameter>: ..."}.

#include "actors/control_api.hpp"
#include "io/http/http_message.hpp"
#include "messages/history.hpp"

#include <caf/expected.hpp>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace vigil {

struct history_api_request {
  std::string metric; // empty: list the metric names
  int64_t from_ms = 0;
  int64_t to_ms = 0;
  int64_t step_ms = 0;
};

// A bad parameter: which one and why.
struct history_api_error {
  std::string parameter;
  std::string detail;
};

// Unix seconds (fractions allowed) or ISO 8601 / RFC 3339 → ms since the epoch.
std::optional<int64_t> parse_history_time(std::string_view text);
// "10s", "1m", "1h", "1d", or plain seconds → ms; nullopt when not a positive duration.
std::optional<int64_t> parse_history_step(std::string_view text);
// 10000 → "10s", 60000 → "1m", 5400000 → "90m": the largest unit that divides the step.
std::string format_history_step(int64_t step_ms);

// Parses the query parameters at `now_ms`; an error names the parameter.
std::variant<history_api_request, history_api_error>
parse_history_request(const std::map<std::string, std::string>& query, int64_t now_ms);

// {"metric", "step", "step_seconds", "from", "to", "tier", "points": [[t, avg, min, max]]}
// with t in unix seconds (the bucket's start).
nlohmann::json history_points_json(const history_api_request& request,
                                   const history_series& series);

// Answers GET /api/history from the history actor registered as "history".
void answer_history(control_api_actor::stateful_pointer<control_api_state> self,
                    const http_request& req, http_responder respond);

} // namespace vigil
