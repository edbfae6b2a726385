#pragma once

// GET /metrics: the Prometheus text exposition format 0.0.4. Host metrics from the telemetry
// hub's latest snapshot under node_exporter's names where vigil measures the same thing
// (node_load1, node_memory_MemAvailable_bytes, node_filesystem_avail_bytes, the network byte
// counters, ...), vigil_* gauges where it only has a rate or a percentage (no
// node_cpu_seconds_total: vigil keeps CPU percentages, not the counters), and the agent's own
// counters from /status (queue depths and drops per stream, restarts, lines, events shipped).
//
// render_prometheus is a plain function of what was gathered; answer_metrics gathers it from
// the actors (a part that does not answer is left out, like /status does).

#include "actors/control_api.hpp"
#include "io/http/http_message.hpp"
#include "messages/backend.hpp"
#include "messages/history.hpp"
#include "messages/log_pipeline.hpp"
#include "messages/supervision.hpp"
#include "messages/telemetry.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vigil {

inline constexpr std::string_view prometheus_content_type =
    "text/plain; version=0.0.4; charset=utf-8";

struct prometheus_inputs {
  std::string version;
  std::string node_id;
  double uptime_seconds = 0;
  uint64_t api_requests = 0;
  uint64_t api_rejected = 0;
  telemetry_snapshot_ptr snapshot;                 // null: no telemetry
  std::optional<std::vector<child_status>> actors; // the supervision tree under root
  std::optional<outbox_status> outbox;
  std::optional<backend_status> backend;
  std::optional<journal_reader_status> journal;
  std::optional<history_status> history;
};

// The exposition: every family once, with its HELP and TYPE lines before its samples.
std::string render_prometheus(const prometheus_inputs& in);

// A label value escaped for the text format: backslash, double quote and line feed.
std::string escape_label_value(std::string_view value);

// Answers GET /metrics.
void answer_metrics(control_api_actor::stateful_pointer<control_api_state> self,
                    http_responder respond);

} // namespace vigil
