#include "actors/control_api.hpp"

#include "actors/alert_sender.hpp"
#include "actors/alerts_api.hpp"
#include "actors/backend_poster.hpp"
#include "actors/files_api.hpp"
#include "actors/history_api.hpp"
#include "actors/history_store.hpp"
#include "actors/journal_reader.hpp"
#include "actors/live_log_hub.hpp"
#include "actors/outbox.hpp"
#include "actors/prometheus_exposition.hpp"
#include "actors/telemetry_feed.hpp"
#include "actors/telemetry_hub.hpp"
#include "actors/telemetry_json.hpp"
#include "io/http/http_server.hpp"
#include "io/logs/severity.hpp"
#include "io/logs/timestamp_parser.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <unistd.h>

namespace vigil {

namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using control_pointer = control_api_actor::stateful_pointer<control_api_state>;

http_response json_response(int status, const json& body) {
  return {status, "application/json", body.dump(), {}};
}

std::string iso_now() {
  auto now = std::chrono::system_clock::now();
  auto t = std::chrono::system_clock::to_time_t(now);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

// Threads and resident memory of this process, from /proc/self/status.
json process_figures() {
  std::ifstream in{"/proc/self/status"};
  json out = json::object();
  for (std::string key; in >> key;) {
    if (key == "VmRSS:" || key == "Threads:") {
      uint64_t v = 0;
      in >> v;
      if (key == "VmRSS:")
        out["rss_bytes"] = v * 1024;
      else
        out["threads"] = v;
    }
    in.ignore(4096, '\n');
  }
  out["pid"] = ::getpid();
  return out;
}

json to_json(const child_status& s) {
  json children = json::array();
  for (auto& c : s.children)
    children.push_back(to_json(c));
  json j = {{"name", s.name}, {"state", s.state}, {"restarts", s.restarts}};
  if (!s.last_error.empty())
    j["last_error"] = s.last_error;
  if (!s.children.empty())
    j["children"] = std::move(children);
  return j;
}

enum class scope { read, control };

// The token of a request: "Authorization: Bearer <token>" or ?token=.
std::string_view presented_token(const http_request& req) {
  auto header = req.header("authorization");
  if (header.rfind("Bearer ", 0) == 0)
    return header.substr(7);
  if (auto i = req.query.find("token"); i != req.query.end())
    return i->second;
  return {};
}

bool authorized(const settings& s, const http_request& req, scope needed) {
  if (s.api.tokens.empty())
    return true; // only possible on loopback: the config refuses otherwise
  return token_allows(s, presented_token(req), needed == scope::read ? "read" : "control");
}

// Bodies are kept in the audit log up to this size: enough for any command or config patch.
constexpr std::size_t audit_detail_bytes = 1024;

// The dotted keys a config patch sets ("api.rate_limit_per_minute, log.level"): its values
// may hold a secret the loader is about to refuse, so they are not kept.
std::string patched_keys(const json& patch, const std::string& prefix = "") {
  std::string out;
  if (!patch.is_object())
    return out;
  for (auto& [key, value] : patch.items()) {
    auto keys = value.is_object() && !value.empty() ? patched_keys(value, prefix + key + ".")
                                                    : prefix + key;
    out += (out.empty() ? "" : ", ") + keys;
  }
  return out;
}

// A control action (any method but GET/HEAD) is audited with its answer, refusals included:
// a log line and an entry in the history database (GET /api/audit). The returned responder
// records, then answers through `respond`.
http_responder audited(control_pointer self, const http_request& req, http_responder respond) {
  audit_entry entry;
  entry.at_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  entry.client = req.remote_address;
  entry.principal = token_principal(*self->state.current, presented_token(req));
  entry.action = req.method + " " + req.path;
  entry.detail = req.path == "/api/config"
                     ? "keys: " + patched_keys(json::parse(req.body, nullptr, false))
                     : req.body;
  entry.detail.resize(std::min(entry.detail.size(), audit_detail_bytes));
  auto history = find_history(self->home_system());
  return http_responder{
      [entry = std::move(entry), history, respond = std::move(respond)](http_response r) mutable {
        entry.status = r.status;
        spdlog::info("audit: {} from {} as {}: {}", entry.action, entry.client, entry.principal,
                     entry.status);
        if (history)
          caf::anon_send(history, atom::audit_v, std::move(entry));
        respond(std::move(r));
      }};
}

double uptime_seconds(control_pointer self) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - self->state.started)
      .count();
}

json to_json(const outbox_status& o) {
  json streams = json::object();
  for (auto& s : o.streams)
    streams[s.name] = {{"records", s.records},           {"bytes", s.bytes},
                       {"max_bytes", s.max_bytes},       {"dropped", s.dropped},
                       {"dead_letters", s.dead_letters}, {"oldest_age_ms", s.oldest_age_ms}};
  return {{"batches", o.batches},
          {"events", o.events},
          {"lines", o.lines},
          {"commits", o.commits},
          {"refused_full", o.refused_full},
          {"stored_events", o.stored_events},
          {"storage_errors", o.storage_errors},
          {"last_error", o.last_error},
          {"streams", std::move(streams)}};
}

json to_json(const backend_stream_status& s) {
  return {{"sent", s.sent},
          {"failures", s.failures},
          {"dead_lettered", s.dead_lettered},
          {"last_error", s.last_error},
          {"last_success_ms", s.last_success_ms},
          {"retry_at_ms", s.retry_at_ms}};
}

json to_json(const alert_manager_status& a) {
  return {{"transitions", a.transitions},   {"notifications", a.notifications},
          {"suppressed", a.suppressed},     {"duplicates", a.duplicates},
          {"store_errors", a.store_errors}, {"dropped_notifications", a.dropped_notifications},
          {"last_error", a.last_error},     {"rules", a.rules},
          {"failed_rules", a.failed_rules}};
}

json to_json(const backend_status& b) {
  json streams = json::object();
  for (auto& s : b.streams)
    streams[s.name] = to_json(s);
  return {{"url", b.url},
          {"token_state", b.token_state},
          {"token_expires_ms", b.token_expires_ms},
          {"token_refreshes", b.token_refreshes},
          {"last_refresh_error", b.last_refresh_error},
          {"streams", std::move(streams)}};
}

json to_json(const journal_reader_status& j) {
  return {{"state", j.state},
          {"entries", j.entries},
          {"events", j.events},
          {"gaps", j.gaps},
          {"last_error", j.last_error}};
}

json to_json(const live_stream_status& s) {
  return {{"enabled", s.enabled}, {"subscribers", s.subscribers}, {"forwarded", s.forwarded}};
}

// /status: answered once every part it asks for has answered or failed (they are asked all
// at once, so a slow part delays the answer by its own timeout only).
struct status_reply {
  json body;
  http_responder respond;
  int pending = 1; // released by add_component_status once every request is out
  void done() {
    if (--pending == 0)
      respond(json_response(200, body));
  }
};

// Adds the status of the registered actor `name` at `at` in the body (left out when the
// actor is absent or slow).
template <class Handle, class Status>
void add_status(control_pointer self, const std::shared_ptr<status_reply>& reply, const char* name,
                const char* at) {
  ++reply->pending;
  ask_status<Handle, Status>(
      self, name,
      [reply, at = json::json_pointer{at}](const Status& x) { reply->body[at] = to_json(x); },
      [reply] { reply->done(); });
}

// POST /control {"command": "start_livelogs" | "stop_livelogs" | "start_telemetry" |
// "stop_telemetry"}: the seed's stream switches (docs/websocket-protocol.md).
void control_streams(control_pointer self, const http_request& req, http_responder respond) {
  auto body = json::parse(req.body, nullptr, false);
  std::string command;
  if (!body.is_discarded() && body.is_object() && body.contains("command") &&
      body["command"].is_string())
    command = body["command"].get<std::string>();
  bool logs = command == "start_livelogs" || command == "stop_livelogs";
  bool telemetry = command == "start_telemetry" || command == "stop_telemetry";
  if (!logs && !telemetry)
    return respond(json_error_response(
        400, "bad request",
        "expected {\"command\": \"start_livelogs\" | \"stop_livelogs\" | \"start_telemetry\" | "
        "\"stop_telemetry\"}"));
  bool start = command.rfind("start_", 0) == 0;
  auto answer = [=](bool running) {
    spdlog::info("control: {} ({} {})", command, logs ? "live logs" : "telemetry",
                 running ? "running" : "stopped");
    respond(json_response(200, {{"status", "ok"},
                                {"command", command},
                                {"stream", logs ? "live_logs" : "telemetry"},
                                {"running", running}}));
  };
  auto failed = [=](caf::error& err) {
    respond(json_error_response(503, "unavailable", self->home_system().render(err)));
  };
  auto switch_stream = [&](auto stream, const char* restarting) {
    if (!stream)
      return respond(json_error_response(503, "unavailable", restarting));
    if (start)
      self->request(stream, 5s, atom::enable_v).then(answer, failed);
    else
      self->request(stream, 5s, atom::disable_v).then(answer, failed);
  };
  auto& sys = self->home_system();
  if (logs)
    switch_stream(find_live_log_hub(sys), "the live logs hub is restarting");
  else
    switch_stream(find_telemetry_feed(sys), "the telemetry stream is restarting");
}

void add_component_status(control_pointer self, json body, http_responder respond) {
  auto reply = std::make_shared<status_reply>(status_reply{std::move(body), std::move(respond)});
  // "websocket": live sessions of this process and the state of both streams.
  reply->body["websocket"] = {{"sessions", ws_session_count()}, {"streams", json::object()}};
  add_status<outbox_actor, outbox_status>(self, reply, "outbox", "/outbox");
  add_status<backend_poster_actor, backend_status>(self, reply, "backend", "/backend");
  add_status<journal_reader_actor, journal_reader_status>(self, reply, "journal", "/journal");
  add_status<alert_manager_actor, alert_manager_status>(self, reply, "alerts", "/alerts");
  add_status<alert_sender_actor, backend_stream_status>(self, reply, "webhook",
                                                        "/alert_channels/webhook");
  add_status<alert_sender_actor, backend_stream_status>(self, reply, "email",
                                                        "/alert_channels/email");
  add_status<live_log_hub_actor, live_stream_status>(self, reply, "live_logs",
                                                     "/websocket/streams/live_logs");
  add_status<telemetry_feed_actor, live_stream_status>(self, reply, "telem_feed",
                                                       "/websocket/streams/telemetry");
  reply->done();
}

void answer_status(control_pointer self, http_responder respond) {
  auto root = self->home_system().registry().get(caf::atom("root"));
  auto& s = *self->state.current;
  json body = {{"node_id", s.node_id},
               {"version", VIGIL_VERSION},
               {"uptime_seconds", uptime_seconds(self)},
               {"process", process_figures()},
               {"api", {{"requests", self->state.requests}, {"rejected", self->state.rejected}}}};
  if (!root) {
    body["actors"] = json::array();
    respond(json_response(200, body));
    return;
  }
  self->request(caf::actor_cast<supervisor_actor>(root), 5s, atom::status_v)
      .then(
          [=](const std::vector<child_status>& xs) mutable {
            json actors = json::array();
            for (auto& x : xs)
              actors.push_back(to_json(x));
            body["actors"] = std::move(actors);
            add_component_status(self, std::move(body), respond);
          },
          [=](caf::error& err) {
            respond(
                json_error_response(503, "status unavailable", self->home_system().render(err)));
          });
}

// The telemetry hub's latest snapshot rendered by `render` (/api/v1/status and friends);
// 503 before the first snapshot or while the hub restarts.
template <class Render>
void answer_snapshot(control_pointer self, http_responder respond, Render render) {
  auto hub = find_telemetry_hub(self->home_system());
  if (!hub)
    return respond(json_error_response(503, "unavailable", "the telemetry hub is restarting"));
  self->request(hub, 5s, atom::query_v)
      .then(
          [=](const telemetry_snapshot_ptr& snapshot) {
            if (!snapshot)
              return respond(json_error_response(503, "unavailable",
                                                 "no telemetry snapshot yet; retry in a second"));
            respond(json_response(200, render(*snapshot)));
          },
          [=](caf::error& err) {
            respond(json_error_response(503, "unavailable", self->home_system().render(err)));
          });
}

// A time parameter: milliseconds since the epoch, or RFC 3339 / ISO 8601 ("...Z").
std::optional<int64_t> parse_time(const std::string& text) {
  if (!text.empty() && std::all_of(text.begin(), text.end(), ::isdigit))
    return std::stoll(text);
  static const timestamp_parser parser;
  auto now =
      std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  if (auto t = parser.parse(text, now))
    return t->time_since_epoch().count();
  return std::nullopt;
}

// Reads the query parameter `name`, when present, as a time into `out`; the 400 detail when
// it is not one.
std::optional<std::string> read_time_param(const http_request& req, const char* name,
                                           int64_t& out) {
  auto i = req.query.find(name);
  if (i == req.query.end())
    return std::nullopt;
  auto t = parse_time(i->second);
  if (!t)
    return std::string{name} + ": expected milliseconds since the epoch or RFC 3339, not \"" +
           i->second + "\"";
  out = *t;
  return std::nullopt;
}

// Reads `limit`, when present, as 1 to `most` into `out`; the 400 detail when it is not.
std::optional<std::string> read_limit_param(const http_request& req, uint32_t most, uint32_t& out) {
  auto i = req.query.find("limit");
  if (i == req.query.end())
    return std::nullopt;
  char* end = nullptr;
  auto n = std::strtol(i->second.c_str(), &end, 10);
  if (i->second.empty() || *end != '\0' || n < 1 || n > static_cast<long>(most))
    return "limit: 1 to " + std::to_string(most) + ", not \"" + i->second + "\"";
  out = static_cast<uint32_t>(n);
  return std::nullopt;
}

// GET /api/logs?since=&until=&severity=&path=&q=&limit= — the local event store.
void answer_logs(control_pointer self, const http_request& req, http_responder respond) {
  log_query q;
  auto param = [&](const char* name) -> const std::string* {
    auto i = req.query.find(name);
    return i == req.query.end() ? nullptr : &i->second;
  };
  for (auto [name, target] : {std::pair{"since", &q.since_ms}, std::pair{"until", &q.until_ms}})
    if (auto bad = read_time_param(req, name, *target))
      return respond(json_error_response(400, "bad request", *bad));
  if (auto v = param("severity")) {
    if (!severity_from_string(*v))
      return respond(json_error_response(
          400, "bad request",
          "severity: one of critical, failure, error, warn, info, not \"" + *v + "\""));
    q.severity = *v;
  }
  if (auto v = param("path"))
    q.path_contains = *v;
  if (auto v = param("q"))
    q.text_contains = *v;
  if (auto bad = read_limit_param(req, 10000, q.limit))
    return respond(json_error_response(400, "bad request", *bad));
  auto outbox = find_outbox(self->home_system());
  if (!outbox)
    return respond(json_error_response(503, "unavailable", "the event store is restarting"));
  self->request(outbox, 10s, atom::query_v, q)
      .then(
          [=](const std::vector<log_record>& records) {
            json events = json::array();
            for (auto& r : records)
              events.push_back({{"id", r.id},
                                {"timestamp", format_iso8601_utc(log_time{
                                                  std::chrono::milliseconds{r.timestamp_ms}})},
                                {"node_id", r.node_id},
                                {"hostname", r.hostname},
                                {"system_ip", r.system_ip},
                                {"log_path", r.log_path},
                                {"application", r.application},
                                {"severity", r.severity},
                                {"log_line", r.log_line},
                                {"line_number", r.line_number},
                                {"offset", r.offset}});
            auto count = events.size();
            respond(json_response(200, {{"events", std::move(events)}, {"count", count}}));
          },
          [=](caf::error& err) {
            respond(json_error_response(503, "event store unavailable",
                                        self->home_system().render(err)));
          });
}

// GET /api/audit?since=&limit= — the newest control actions first.
void answer_audit(control_pointer self, const http_request& req, http_responder respond) {
  audit_query q;
  auto bad = read_time_param(req, "since", q.since_ms);
  if (!bad)
    bad = read_limit_param(req, 1000, q.limit);
  if (bad)
    return respond(json_error_response(400, "bad request", *bad));
  auto history = find_history(self->home_system());
  if (!history)
    return respond(json_error_response(503, "unavailable", "the history store is restarting"));
  self->request(history, 10s, atom::query_v, q)
      .then(
          [=](const std::vector<audit_entry>& entries) {
            json out = json::array();
            for (auto& e : entries)
              out.push_back(
                  {{"timestamp", format_iso8601_utc(log_time{std::chrono::milliseconds{e.at_ms}})},
                   {"client", e.client},
                   {"principal", e.principal},
                   {"action", e.action},
                   {"detail", e.detail},
                   {"status", e.status}});
            auto count = out.size();
            respond(json_response(200, {{"entries", std::move(out)}, {"count", count}}));
          },
          [=](caf::error& err) {
            respond(
                json_error_response(503, "audit log unavailable", self->home_system().render(err)));
          });
}

// Fault injection (only with --enable-fault-injection): {"path": "sources/tailer-1"}.
void crash_actor(control_pointer self, const http_request& req, http_responder respond) {
  auto body = json::parse(req.body, nullptr, false);
  if (body.is_discarded() || !body.contains("path") || !body["path"].is_string()) {
    respond(json_error_response(400, "bad request", "expected {\"path\": \"area/actor\"}"));
    return;
  }
  auto root = self->home_system().registry().get(caf::atom("root"));
  self->request(caf::actor_cast<supervisor_actor>(root), 5s, atom::crash_v,
                body["path"].get<std::string>())
      .then(
          [=](const std::string& crashed) {
            respond(json_response(200, {{"crashed", crashed}}));
          },
          [=](caf::error& err) {
            respond(json_error_response(400, "cannot crash", self->home_system().render(err)));
          });
}

void route(control_pointer self, const http_request& req, http_responder respond) {
  auto& st = self->state;
  ++st.requests;
  auto& s = *st.current;
  bool is_get = req.method == "GET" || req.method == "HEAD";
  // Who did what is for operators: the audit log needs the control scope to be read.
  auto need = is_get && req.path != "/api/audit" ? scope::read : scope::control;
  auto method_not_allowed = [&] {
    respond(json_error_response(405, "method not allowed", req.method + " " + req.path));
  };
  auto& p = req.path;
  if (!is_get)
    respond = audited(self, req, std::move(respond));
  if (!authorized(s, req, need)) {
    ++st.rejected;
    // A known token without the scope: authenticated, not allowed.
    if (need == scope::control && authorized(s, req, scope::read))
      return respond(json_error_response(403, "forbidden", "this token lacks the control scope"));
    auto r = json_error_response(401, "unauthorized",
                                 "send 'Authorization: Bearer <token>' with a token of scope " +
                                     std::string{need == scope::read ? "read" : "control"});
    r.headers.emplace_back("WWW-Authenticate", "Bearer");
    respond(std::move(r));
    return;
  }
  if (p == "/health" || p == "/api/health") {
    if (!is_get)
      return method_not_allowed();
    respond(json_response(
        200, {{"status", "ok"}, {"node_id", s.node_id}, {"uptime_seconds", uptime_seconds(self)}}));
  } else if (p == "/api/v1/health") {
    if (!is_get)
      return method_not_allowed();
    respond(json_response(200, {{"status", "healthy"},
                                {"timestamp", iso_now()},
                                {"version", VIGIL_VERSION},
                                {"uptime", static_cast<uint64_t>(uptime_seconds(self))}}));
  } else if (p == "/status") {
    if (!is_get)
      return method_not_allowed();
    answer_status(self, std::move(respond));
  } else if (p == "/api/v1/status" || p == "/api/v1/status-simple" || p == "/api/processes") {
    if (!is_get)
      return method_not_allowed();
    if (p == "/api/v1/status")
      answer_snapshot(self, std::move(respond), telemetry_to_json);
    else if (p == "/api/v1/status-simple")
      answer_snapshot(self, std::move(respond), telemetry_summary_json);
    else
      answer_snapshot(self, std::move(respond), processes_to_json);
  } else if (p == "/api/logs") {
    if (!is_get)
      return method_not_allowed();
    answer_logs(self, req, std::move(respond));
  } else if (p == "/api/history") {
    if (!is_get)
      return method_not_allowed();
    answer_history(self, req, std::move(respond));
  } else if (p == "/api/audit") {
    if (!is_get)
      return method_not_allowed();
    answer_audit(self, req, std::move(respond));
  } else if (p == "/api/alerts" || p.starts_with("/api/alerts/")) {
    answer_alerts(self, req, token_principal(s, presented_token(req)), std::move(respond));
  } else if (p == "/api/files") {
    if (!is_get)
      return method_not_allowed();
    answer_files(self, req, std::move(respond));
  } else if (p == "/metrics") {
    if (!is_get)
      return method_not_allowed();
    answer_metrics(self, std::move(respond));
  } else if (p == "/control") {
    if (req.method != "POST")
      return method_not_allowed();
    control_streams(self, req, std::move(respond));
  } else if (p == "/api/config") {
    if (is_get)
      return respond(json_response(200, st.hooks.effective_config()));
    if (req.method != "POST")
      return method_not_allowed();
    auto patch = json::parse(req.body, nullptr, false);
    if (patch.is_discarded())
      return respond(json_error_response(400, "bad request", "the body is not JSON"));
    auto [status, body] = st.hooks.update_config(patch);
    respond(json_response(status, body));
  } else if (p == "/api/config/reload") {
    if (req.method != "POST")
      return method_not_allowed();
    auto [status, body] = st.hooks.reload_config();
    respond(json_response(status, body));
  } else if (p == "/api/fault/crash" && s.fault_injection) {
    if (req.method != "POST")
      return method_not_allowed();
    crash_actor(self, req, std::move(respond));
  } else {
    respond(json_error_response(404, "not found", "no endpoint " + p));
  }
}

} // namespace

control_api_actor::behavior_type
control_api(control_api_actor::stateful_pointer<control_api_state> self,
            boost::asio::io_context* io, settings_ptr current, control_api_hooks hooks) {
  auto& st = self->state;
  st.current = std::move(current);
  st.hooks = std::move(hooks);
  st.started = std::chrono::steady_clock::now();
  auto opts = api_server_options(*st.current, st.current->api.control_port);
  opts.websocket_paths = control_port_ws_paths();
  auto hdl = caf::actor_cast<control_api_actor>(self);
  // Runs on an Asio thread: hand the request to the actor, never touch `self` here.
  st.server = std::make_shared<http_server>(
      *io, opts,
      [hdl](http_request req, http_responder respond) {
        caf::anon_send(hdl, std::move(req), std::move(respond));
      },
      [hdl](http_request req, websocket_upgrade upgrade) {
        caf::anon_send(hdl, std::move(req), std::move(upgrade));
      });
  spdlog::info("control API listening on http://{}:{}", st.server->bind_address(),
               st.server->port());
  return {
      [=](http_request& req, http_responder& respond) { route(self, req, std::move(respond)); },
      [=](http_request& req, websocket_upgrade& upgrade) {
        ++self->state.requests;
        auto kind = control_port_ws_stream(req.path);
        if (!kind) // not reachable: the server only offers the paths above
          return upgrade.reject(json_error_response(404, "not found", "no stream " + req.path));
        start_ws_session(self->home_system(), self->state.current, *kind, req, upgrade);
      },
      [=](atom::configure, settings_ptr& s) { self->state.current = std::move(s); },
  };
}

} // namespace vigil
