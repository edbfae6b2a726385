#pragma once

// The agent's whole configuration as plain data. Defaults live here, in the member
// initialisers; runtime/config_loader fills it from the config file, the secrets
// file, the environment and the command line, and hands actors an immutable copy.

#include <caf/allowed_unsafe_message_type.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace vigil {

using namespace std::chrono_literals;
using duration = std::chrono::milliseconds;

struct log_settings {
  std::string level = "info"; // trace, debug, info, warn, error, critical, off
  std::string file;           // optional rotating log file in addition to stderr
  uint64_t file_max_bytes = 10 * 1024 * 1024;
  uint32_t file_max_files = 3;
};

struct supervision_settings {
  uint32_t max_restarts = 5; // a child crashing more often than this within `window` is given up
  duration window = 60s;
  duration backoff_initial = 200ms; // doubled per crash within the window, capped
  duration backoff_max = 30s;
};

struct api_token {
  std::string token; // secret
  std::vector<std::string> scopes = {"read"};
  std::string name{}; // who holds it, for the audit log; empty: "token <position from 1>"
};

struct api_settings {
  std::string bind = "127.0.0.1";
  uint16_t control_port = 8754;
  uint16_t ws_port = 8755;
  uint16_t telemetry_ws_port = 8756;
  uint32_t threads = 1;          // Asio threads serving HTTP and WebSocket
  std::vector<api_token> tokens; // secret; required for a non-loopback bind
  // Client addresses allowed on every port, as CIDRs ("10.0.0.0/8", "::1/128"); empty: all.
  std::vector<std::string> allow_from;
  uint32_t rate_limit_per_minute = 100; // requests per client address; 0: no limit
  // GET /api/files: directories that may be listed and read (realpath-checked), and the most
  // bytes one read returns.
  std::vector<std::string> file_roots{"/var/log"};
  uint64_t file_max_bytes = 1 << 20;
};

// A word (Hyperscan/PCRE syntax) that gives a line a severity.
struct severity_word_settings {
  std::string pattern;
  std::string severity; // critical, failure, error, warn or info
};

struct log_source_settings {
  std::string path; // a file or a glob (`*`, `?`, `[...]`, `**`)
  std::string application = "system";
  std::string read_from;             // empty: sources.read_from
  std::vector<std::string> keywords; // empty: sources.keywords
  // Replaces the built-in severity vocabulary for this source when not empty.
  std::vector<severity_word_settings> severity_words;
  std::string severity;        // when set, every event of this source has this severity
  std::string multiline;       // "", "stack_trace" or "start_pattern"
  std::string multiline_start; // regex opening an event in "start_pattern" mode
  uint32_t multiline_max_lines = 500;
  uint32_t multiline_max_bytes = 256 * 1024;
  duration multiline_timeout = 2s; // a pending event with no new line for this long is complete
};

// The systemd journal as one source. An entry is an error event when its PRIORITY is
// max_priority or more urgent, or (with keywords) when its message holds an error
// keyword: services writing to stdout log everything at priority 6.
struct journal_settings {
  bool enabled = true;
  std::string directory;          // empty: the local system journal; else journal files there
  std::vector<std::string> units; // empty: all units ("nginx" means nginx.service)
  uint32_t max_priority = 3;      // 0 emerg .. 7 debug; 3 = err and worse
  bool keywords = true;           // also entries whose message has one of sources.keywords
  std::string application = "system";
};

struct sources_settings {
  // Debian 12 has no /var/log/syslog unless rsyslog is installed; the journal covers that.
  static std::vector<log_source_settings> default_files() {
    std::vector<log_source_settings> xs(2);
    xs[0].path = "/var/log/syslog";
    xs[1].path = "/var/log/*.log";
    return xs;
  }

  std::vector<log_source_settings> files = default_files();
  std::string read_from = "end"; // "end" or "beginning" for files present at first sight
  std::vector<std::string> keywords = {"emerg", "alert",  "critical", "error",
                                       "fail",  "failed", "panic",    "fatal"};
  uint32_t max_files = 1000;
  uint32_t max_line_bytes = 64 * 1024;
  uint32_t batch_bytes = 256 * 1024; // read per credit (one batch in flight per file)
  // Safety net besides inotify (lost events, file systems without it): every tailed file
  // is stat()ed this often; 100 files at 1 s cost half the idle budget.
  duration poll_interval = 5s;
  duration rescan_interval = 10s; // glob re-expansion
  journal_settings journal;
};

struct outbox_settings {
  uint64_t logs_max_bytes = 256ull * 1024 * 1024;
  uint64_t alerts_max_bytes = 16ull * 1024 * 1024;
  uint64_t telemetry_max_bytes = 64ull * 1024 * 1024;
  uint64_t heartbeat_max_bytes = 1ull * 1024 * 1024;
  uint64_t system_info_max_bytes = 1ull * 1024 * 1024;
  duration events_retention = 7 * 24h; // local event store
  uint64_t events_max_rows = 1'000'000;
};

struct rabbitmq_settings {
  std::string url; // secret; empty: no broker, events stay in the local store
  std::string queue = "error_logs_queue";
  bool declare_queue = true; // false: passive check only
  bool quorum_queue = false;
  std::string ca_file;
  bool verify_peer = true;
  uint32_t confirm_window = 1024;
  duration heartbeat = 30s;
  duration reconnect_initial = 500ms;
  duration reconnect_max = 30s;
};

// The HTTP backend (the seed's --api-url): heartbeats, system info, telemetry snapshots
// and alert tickets, each a durable outbox stream posted in order with retries.
struct backend_settings {
  std::string url;   // e.g. https://backend.example:3000; empty: no backend
  std::string token; // secret: a JWT sent as "Authorization: Bearer"; refreshed before expiry
  duration heartbeat_interval = 30s;
  duration telemetry_interval = 60s;
  duration timeout = 10s;      // one request, connect to last byte
  duration retry_initial = 1s; // doubled per failure of a stream, with jitter
  duration retry_max = 5min;
  duration token_refresh_margin = 5min; // refresh this long before the token's exp
  std::string ca_file;
  bool verify_peer = true;
};

// Per-user usage (SysMedic): which users are listed, and when one counts as "persistent".
// Percentages are integers; user CPU % is of one core (a user can exceed 100).
struct telemetry_users_settings {
  uint32_t min_uid = 1000;           // users below this UID (system accounts) are not listed
  std::vector<std::string> excluded; // user names never listed
  uint32_t min_cpu_percent = 5;      // listed when reaching this CPU % or min_memory_percent;
  uint32_t min_memory_percent = 5;   // both 0: every user is listed
  uint32_t cpu_threshold = 80;       // a user at or above this is tracked (and status medium)
  uint32_t memory_threshold = 80;
  duration persistent_after = 60min; // tracked this long: persistent (status heavy)
};

// System status Light/Medium/Heavy: heavy when a value reaches its threshold (or a user is
// persistent), medium at medium_percent of a threshold (or a user above a user threshold).
struct telemetry_status_settings {
  uint32_t cpu_percent = 80;
  uint32_t memory_percent = 80;
  uint32_t load_per_core_percent = 100; // 1-minute load ÷ logical cores, ×100
  uint32_t medium_percent = 60;
};

// systemd units over D-Bus (ViWorks' services list), read every `interval`.
struct telemetry_services_settings {
  bool enabled = true;
  std::vector<std::string> units; // "nginx" or "nginx.service"; empty: well-known ones found
  duration interval = 30s;
  std::string bus_address; // D-Bus address, e.g. "unix:path=/run/x"; empty: the system bus
  duration timeout = 5s;   // one D-Bus call; at most 8 s (the supervisor's stop deadline is 10 s)
};

// Docker containers from the Engine API on its unix socket, read every `interval`.
struct telemetry_containers_settings {
  bool enabled = true;
  std::string socket = "/var/run/docker.sock";
  duration interval = 30s;
  duration timeout = 5s; // one request, connect to last byte; at most 8 s (as above)
};

// Collectors (cpu, memory, disk I/O, network every `interval`; filesystems and processes
// every `slow_interval`; services and containers on their own intervals) and the telemetry
// hub that merges them.
struct telemetry_settings {
  duration interval = 5s;        // fast collectors; at most one snapshot per interval
  duration slow_interval = 30s;  // filesystems, processes and users
  uint32_t top_processes = 5;    // by CPU and by memory
  duration statvfs_timeout = 1s; // a filesystem whose statvfs takes longer is "stale"
  telemetry_users_settings users;
  telemetry_status_settings status;
  telemetry_services_settings services;
  telemetry_containers_settings containers;
};

// The local telemetry history (history.db in state_dir, separate from state.db): raw
// samples for raw_retention, 1-minute averages/min/max for retention_days, written in one
// transaction per flush_interval. The pages in use stay within max_bytes: the oldest raw
// rows go first, then the oldest minutes.
struct history_settings {
  duration raw_retention = 24h;
  uint32_t retention_days = 30; // the 1-minute tier (and resolved alerts)
  uint64_t max_bytes = 256ull * 1024 * 1024;
  duration flush_interval = 10s;
  uint32_t flush_max_points = 5000; // flush sooner once this many values are pending
};

// One alert rule (docs/alerts.md). A configured rule whose id is a built-in one starts from the
// built-in and changes only the keys it sets; {"id": "cpu_high", "enabled": false} drops it.
struct alert_rule_settings {
  std::string id{};
  bool enabled = true;
  // threshold: value against threshold; baseline: value against a multiple of its own moving
  // average; persistent_user: a user above the telemetry.users threshold for `duration`
  // (the hub's run, which survives restarts); state: a service or container in a bad state.
  std::string kind = "threshold";
  // cpu, memory, swap, disk, inodes, load_per_core, network, network_rx, network_tx,
  // processes, user_cpu, user_memory, service, container
  std::string metric{};
  std::string subject{};           // one mount, unit, container or user; empty: each of them
  std::string comparison = ">=";   // >=, >, <=, <
  double threshold = 0;            // baseline: the factor over the moving average
  double clear_threshold = -1;     // firing ends past this (hysteresis); < 0: the threshold
  duration for_duration = 0ms;     // "duration": breached this long before firing
  duration cooldown = 30min;       // no second notification of the rule and subject within
  std::string severity = "medium"; // critical, high, medium, low
  // backend, webhook, email, local; empty: alerts.channels
  std::vector<std::string> channels{};
  duration baseline_window = 1h;     // baseline: the moving average's span
  double baseline_floor = 0;         // baseline: the average counts as at least this
  std::vector<std::string> states{}; // state: the bad ones (default failed, stopped / exited)
};

// Alert notifications as a JSON POST to any URL: the ticket itself, or {"text": …} for
// Slack-compatible receivers.
struct alert_webhook_settings {
  std::string url;             // http(s)://…; empty: no webhook
  std::string format = "json"; // json, slack
  std::string token;           // secret: sent as "Authorization: Bearer"; empty: none
  duration timeout = 10s;
  std::string ca_file;
  bool verify_peer = true;
};

// Alert notifications by mail (io/mail: SMTP with STARTTLS or TLS, libcurl).
struct alert_email_settings {
  std::string url;      // smtp://host:587 (STARTTLS) or smtps://host:465; empty: no email
  bool starttls = true; // smtp:// only: false sends in plain text (a local relay)
  std::string username;
  std::string password; // secret
  std::string from;
  std::vector<std::string> to;
  duration timeout = 20s; // the whole SMTP exchange (a shutdown waits for a mail in flight)
  std::string ca_file;
  bool verify_peer = true;
};

// The alert engine: the built-in rules (unless default_rules is false) merged with `rules`.
struct alerts_settings {
  bool enabled = true;
  bool default_rules = true;
  std::vector<alert_rule_settings> rules;
  std::string application = "System Monitor";               // the ticket's `application`
  std::vector<std::string> channels = {"backend", "local"}; // of rules that name none
  alert_webhook_settings webhook;
  alert_email_settings email;
  duration retry_initial = 5s; // webhook and email: doubled per failure, with jitter
  duration retry_max = 10min;
};

struct settings {
  std::string node_id; // empty: persistent UUID from the state dir
  std::string state_dir = "/var/lib/vigil";
  std::string secrets_file = "/etc/vigil/secrets.json";
  uint32_t scheduler_threads = 2;
  bool fault_injection = false; // command line only: --enable-fault-injection
  log_settings log;
  supervision_settings supervision;
  api_settings api;
  sources_settings sources;
  outbox_settings outbox;
  rabbitmq_settings rabbitmq;
  backend_settings backend;
  telemetry_settings telemetry;
  history_settings history;
  alerts_settings alerts;
};

using settings_ptr = std::shared_ptr<const settings>;

} // namespace vigil

// Settings travel between actors as an immutable shared snapshot; never serialized.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(vigil::settings_ptr)
