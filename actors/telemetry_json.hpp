#pragma once

// The one JSON shape of a telemetry snapshot (docs/telemetry-format.md): what the telemetry
// WebSocket streams, what the API answers and what the backend poster sends. Top-level fields
// keep the seed agents' names (ViWorks: cpu_usage_percent, memory_usage_percent,
// disk_usage_percent, load_average.*, uptime_seconds, temperature; SysMedic: users and the
// Light/Medium/Heavy status; ViWorks: services[] and containers[]); the sections carry the
// details.

#include "messages/telemetry.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace vigil {

// Version of the shape below; bumped on any incompatible change.
constexpr int telemetry_schema_version = 1;

nlohmann::json telemetry_to_json(const telemetry_snapshot& snapshot);

// GET /api/v1/status-simple: the headline fields of telemetry_to_json and, instead of the
// sections, counts: services {total, running, failed}, containers {total, running} (null when
// not collected) and the names of stale sections.
nlohmann::json telemetry_summary_json(const telemetry_snapshot& snapshot);

// GET /api/processes: {timestamp, processes, users, user_pressure} as in telemetry_to_json.
nlohmann::json processes_to_json(const telemetry_snapshot& snapshot);

// "2025-01-31T12:00:00.123Z"
std::string format_wall_time(wall_time t);

} // namespace vigil
