#pragma once

// The one list of configuration keys. Every visitor (reading a layer, writing
// `config show`, collecting the known keys) walks the settings through these
// functions, so a key is declared exactly once, next to its rules.

#include "messages/settings.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace vigil {

struct field_rules {
  std::vector<std::string> one_of; // allowed values of a string or of list items
  int64_t min = 0;
  int64_t max = INT64_MAX;
  bool secret = false;    // never shown or logged; may come from the secrets file
  bool byte_size = false; // accepts "64KiB", "256MiB", "1GB" besides a number
  bool required = false;  // must be present (list items)
  bool cli_only = false;  // not accepted from files

  field_rules& in(std::vector<std::string> xs) {
    one_of = std::move(xs);
    return *this;
  }
  field_rules& range(int64_t lo, int64_t hi) {
    min = lo;
    max = hi;
    return *this;
  }
};

inline field_rules rules() {
  return {};
}
inline field_rules secret() {
  field_rules r;
  r.secret = true;
  return r;
}
inline field_rules byte_size() {
  field_rules r;
  r.byte_size = true;
  return r;
}
inline field_rules required() {
  field_rules r;
  r.required = true;
  return r;
}

template <class Visitor>
void describe(Visitor& v, api_token& x) {
  v("token", x.token, [] {
    auto r = secret();
    r.required = true;
    return r;
  }());
  v("scopes", x.scopes, rules().in({"read", "control"}));
  v("name", x.name);
}

inline field_rules severity_level() {
  return rules().in({"critical", "failure", "error", "warn", "info"});
}

template <class Visitor>
void describe(Visitor& v, severity_word_settings& x) {
  v("pattern", x.pattern, required());
  v("severity", x.severity, [] {
    auto r = severity_level();
    r.required = true;
    return r;
  }());
}

template <class Visitor>
void describe(Visitor& v, log_source_settings& x) {
  v("path", x.path, required());
  v("application", x.application);
  v("read_from", x.read_from, rules().in({"", "end", "beginning"}));
  v("keywords", x.keywords);
  v("severity_words", x.severity_words);
  v("severity", x.severity, rules().in({"", "critical", "failure", "error", "warn", "info"}));
  v("multiline", x.multiline, rules().in({"", "stack_trace", "start_pattern"}));
  v("multiline_start", x.multiline_start);
  v("multiline_max_lines", x.multiline_max_lines, rules().range(2, 100000));
  v("multiline_max_bytes", x.multiline_max_bytes, byte_size().range(256, 16 << 20));
  v("multiline_timeout", x.multiline_timeout, rules().range(10, INT64_MAX));
}

inline field_rules alert_channel_names() {
  return rules().in({"backend", "webhook", "email", "local"});
}

template <class Visitor>
void describe(Visitor& v, alert_rule_settings& x) {
  v("id", x.id, required());
  v("enabled", x.enabled);
  v("kind", x.kind, rules().in({"threshold", "baseline", "persistent_user", "state"}));
  v("metric", x.metric);
  v("subject", x.subject);
  v("comparison", x.comparison, rules().in({">=", ">", "<=", "<"}));
  v("threshold", x.threshold, rules().range(0, INT64_MAX));
  v("clear_threshold", x.clear_threshold, rules().range(-1, INT64_MAX));
  v("duration", x.for_duration, rules().range(0, INT64_MAX));
  v("cooldown", x.cooldown, rules().range(0, INT64_MAX));
  v("severity", x.severity, rules().in({"critical", "high", "medium", "low"}));
  v("channels", x.channels, alert_channel_names());
  v("baseline_window", x.baseline_window, rules().range(1, INT64_MAX));
  v("baseline_floor", x.baseline_floor, rules().range(0, INT64_MAX));
  v("states", x.states);
}

template <class Visitor>
void describe(Visitor& v, settings& s) {
  v("node_id", s.node_id);
  v("state_dir", s.state_dir);
  v("secrets_file", s.secrets_file);
  v("scheduler_threads", s.scheduler_threads, rules().range(1, 64));
  v("fault_injection", s.fault_injection, [] {
    field_rules r;
    r.cli_only = true;
    return r;
  }());

  v("log.level", s.log.level,
    rules().in({"trace", "debug", "info", "warn", "error", "critical", "off"}));
  v("log.file", s.log.file);
  v("log.file_max_bytes", s.log.file_max_bytes, byte_size().range(4096, INT64_MAX));
  v("log.file_max_files", s.log.file_max_files, rules().range(1, 100));

  v("supervision.max_restarts", s.supervision.max_restarts, rules().range(0, 1000));
  v("supervision.window", s.supervision.window, rules().range(1, INT64_MAX));
  v("supervision.backoff_initial", s.supervision.backoff_initial, rules().range(1, INT64_MAX));
  v("supervision.backoff_max", s.supervision.backoff_max, rules().range(1, INT64_MAX));

  v("api.bind", s.api.bind);
  v("api.control_port", s.api.control_port, rules().range(0, 65535));
  v("api.ws_port", s.api.ws_port, rules().range(0, 65535));
  v("api.telemetry_ws_port", s.api.telemetry_ws_port, rules().range(0, 65535));
  v("api.threads", s.api.threads, rules().range(1, 16));
  v("api.tokens", s.api.tokens, secret());
  v("api.allow_from", s.api.allow_from);
  v("api.rate_limit_per_minute", s.api.rate_limit_per_minute, rules().range(0, 1000000));
  v("api.file_roots", s.api.file_roots);
  v("api.file_max_bytes", s.api.file_max_bytes, byte_size().range(1024, 64 << 20));

  v("sources.files", s.sources.files);
  v("sources.read_from", s.sources.read_from, rules().in({"end", "beginning"}));
  v("sources.keywords", s.sources.keywords);
  v("sources.max_files", s.sources.max_files, rules().range(1, 100000));
  v("sources.max_line_bytes", s.sources.max_line_bytes, byte_size().range(256, 16 << 20));
  v("sources.batch_bytes", s.sources.batch_bytes, byte_size().range(4096, 64 << 20));
  v("sources.poll_interval", s.sources.poll_interval, rules().range(10, INT64_MAX));
  v("sources.rescan_interval", s.sources.rescan_interval, rules().range(100, INT64_MAX));
  v("sources.journal.enabled", s.sources.journal.enabled);
  v("sources.journal.directory", s.sources.journal.directory);
  v("sources.journal.units", s.sources.journal.units);
  v("sources.journal.max_priority", s.sources.journal.max_priority, rules().range(0, 7));
  v("sources.journal.keywords", s.sources.journal.keywords);
  v("sources.journal.application", s.sources.journal.application);

  v("outbox.logs_max_bytes", s.outbox.logs_max_bytes, byte_size().range(65536, INT64_MAX));
  v("outbox.alerts_max_bytes", s.outbox.alerts_max_bytes, byte_size().range(65536, INT64_MAX));
  v("outbox.telemetry_max_bytes", s.outbox.telemetry_max_bytes,
    byte_size().range(65536, INT64_MAX));
  v("outbox.heartbeat_max_bytes", s.outbox.heartbeat_max_bytes,
    byte_size().range(65536, INT64_MAX));
  v("outbox.system_info_max_bytes", s.outbox.system_info_max_bytes,
    byte_size().range(65536, INT64_MAX));
  v("outbox.events_retention", s.outbox.events_retention, rules().range(1000, INT64_MAX));
  v("outbox.events_max_rows", s.outbox.events_max_rows, rules().range(100, INT64_MAX));

  v("rabbitmq.url", s.rabbitmq.url, secret());
  v("rabbitmq.queue", s.rabbitmq.queue);
  v("rabbitmq.declare_queue", s.rabbitmq.declare_queue);
  v("rabbitmq.quorum_queue", s.rabbitmq.quorum_queue);
  v("rabbitmq.ca_file", s.rabbitmq.ca_file);
  v("rabbitmq.verify_peer", s.rabbitmq.verify_peer);
  v("rabbitmq.confirm_window", s.rabbitmq.confirm_window, rules().range(1, 65535));
  v("rabbitmq.heartbeat", s.rabbitmq.heartbeat, rules().range(0, INT64_MAX));
  v("rabbitmq.reconnect_initial", s.rabbitmq.reconnect_initial, rules().range(1, INT64_MAX));
  v("rabbitmq.reconnect_max", s.rabbitmq.reconnect_max, rules().range(1, INT64_MAX));

  v("backend.url", s.backend.url);
  v("backend.token", s.backend.token, secret());
  v("backend.heartbeat_interval", s.backend.heartbeat_interval, rules().range(1000, INT64_MAX));
  v("backend.telemetry_interval", s.backend.telemetry_interval, rules().range(1000, INT64_MAX));
  v("backend.timeout", s.backend.timeout, rules().range(100, INT64_MAX));
  v("backend.retry_initial", s.backend.retry_initial, rules().range(10, INT64_MAX));
  v("backend.retry_max", s.backend.retry_max, rules().range(10, INT64_MAX));
  v("backend.token_refresh_margin", s.backend.token_refresh_margin, rules().range(0, INT64_MAX));
  v("backend.ca_file", s.backend.ca_file);
  v("backend.verify_peer", s.backend.verify_peer);

  v("telemetry.interval", s.telemetry.interval, rules().range(100, INT64_MAX));
  v("telemetry.slow_interval", s.telemetry.slow_interval, rules().range(100, INT64_MAX));
  v("telemetry.top_processes", s.telemetry.top_processes, rules().range(0, 100));
  v("telemetry.statvfs_timeout", s.telemetry.statvfs_timeout, rules().range(10, 60000));
  v("telemetry.users.min_uid", s.telemetry.users.min_uid);
  v("telemetry.users.excluded", s.telemetry.users.excluded);
  v("telemetry.users.min_cpu_percent", s.telemetry.users.min_cpu_percent, rules().range(0, 100000));
  v("telemetry.users.min_memory_percent", s.telemetry.users.min_memory_percent,
    rules().range(0, 100));
  v("telemetry.users.cpu_threshold", s.telemetry.users.cpu_threshold, rules().range(1, 100000));
  v("telemetry.users.memory_threshold", s.telemetry.users.memory_threshold, rules().range(1, 100));
  v("telemetry.users.persistent_after", s.telemetry.users.persistent_after,
    rules().range(1000, INT64_MAX));
  v("telemetry.status.cpu_percent", s.telemetry.status.cpu_percent, rules().range(1, 100));
  v("telemetry.status.memory_percent", s.telemetry.status.memory_percent, rules().range(1, 100));
  v("telemetry.status.load_per_core_percent", s.telemetry.status.load_per_core_percent,
    rules().range(1, 100000));
  v("telemetry.status.medium_percent", s.telemetry.status.medium_percent, rules().range(1, 100));
  v("telemetry.services.enabled", s.telemetry.services.enabled);
  v("telemetry.services.units", s.telemetry.services.units);
  v("telemetry.services.interval", s.telemetry.services.interval, rules().range(1000, INT64_MAX));
  v("telemetry.services.bus_address", s.telemetry.services.bus_address);
  v("telemetry.services.timeout", s.telemetry.services.timeout, rules().range(100, 8000));
  v("telemetry.containers.enabled", s.telemetry.containers.enabled);
  v("telemetry.containers.socket", s.telemetry.containers.socket);
  v("telemetry.containers.interval", s.telemetry.containers.interval,
    rules().range(1000, INT64_MAX));
  v("telemetry.containers.timeout", s.telemetry.containers.timeout, rules().range(100, 8000));

  v("history.raw_retention", s.history.raw_retention, rules().range(5 * 60 * 1000, INT64_MAX));
  v("history.retention_days", s.history.retention_days, rules().range(1, 3650));
  v("history.max_bytes", s.history.max_bytes, byte_size().range(1 << 20, INT64_MAX));
  v("history.flush_interval", s.history.flush_interval, rules().range(100, 10 * 60 * 1000));
  v("history.flush_max_points", s.history.flush_max_points, rules().range(1, 1000000));

  v("alerts.enabled", s.alerts.enabled);
  v("alerts.default_rules", s.alerts.default_rules);
  v("alerts.rules", s.alerts.rules);
  v("alerts.application", s.alerts.application);
  v("alerts.channels", s.alerts.channels, alert_channel_names());
  v("alerts.retry_initial", s.alerts.retry_initial, rules().range(10, INT64_MAX));
  v("alerts.retry_max", s.alerts.retry_max, rules().range(10, INT64_MAX));
  v("alerts.webhook.url", s.alerts.webhook.url);
  v("alerts.webhook.format", s.alerts.webhook.format, rules().in({"json", "slack"}));
  v("alerts.webhook.token", s.alerts.webhook.token, secret());
  v("alerts.webhook.timeout", s.alerts.webhook.timeout, rules().range(100, INT64_MAX));
  v("alerts.webhook.ca_file", s.alerts.webhook.ca_file);
  v("alerts.webhook.verify_peer", s.alerts.webhook.verify_peer);
  v("alerts.email.url", s.alerts.email.url);
  v("alerts.email.starttls", s.alerts.email.starttls);
  v("alerts.email.username", s.alerts.email.username);
  v("alerts.email.password", s.alerts.email.password, secret());
  v("alerts.email.from", s.alerts.email.from);
  v("alerts.email.to", s.alerts.email.to);
  // A shutdown waits for a mail in flight; beyond 20 s it would hit the stop deadline.
  v("alerts.email.timeout", s.alerts.email.timeout, rules().range(100, 20000));
  v("alerts.email.ca_file", s.alerts.email.ca_file);
  v("alerts.email.verify_peer", s.alerts.email.verify_peer);
}

} // namespace vigil
