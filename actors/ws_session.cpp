#include "actors/ws_session.hpp"

#include "actors/telemetry_feed.hpp"
#include "actors/telemetry_hub.hpp"
#include "actors/telemetry_json.hpp"
#include "io/logs/timestamp_parser.hpp"
#include "io/system/host_info.hpp"
#include "io/system/system_profile.hpp"

#include <caf/all.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <atomic>
#include <mutex>
#include <openssl/crypto.h>

namespace vigil {

namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using session_pointer = ws_session_actor::stateful_pointer<ws_session_state>;

constexpr int protocol_version = 1;
constexpr std::chrono::seconds min_interval{1};
constexpr std::chrono::seconds max_interval{3600};

std::atomic<std::size_t> live_sessions{0};

// The host's profile, read once per process: it hardly changes and reading it (os-release,
// /proc, /sys) is not something every connecting client should pay for.
const json& system_info() {
  static const json info = [] {
    try {
      auto p = read_system_profile();
      return json{{"os_name", p.os_name},
                  {"os_version", p.os_version},
                  {"kernel", p.kernel},
                  {"architecture", p.architecture},
                  {"cpu_model", p.cpu_model},
                  {"logical_cores", p.logical_cores},
                  {"memory_total_bytes", p.memory_total_bytes},
                  {"primary_ip", p.primary_ip}};
    } catch (const std::exception&) {
      return json::object(); // "if available"
    }
  }();
  return info;
}

std::string current_hostname() {
  static std::mutex mutex;
  static cached_host_info host{std::chrono::minutes{1}};
  std::lock_guard lock{mutex};
  return host.get().hostname;
}

void send_json(session_pointer self, const json& message) {
  if (auto& ws = self->state.ws)
    ws->send_text(message.dump(-1, ' ', false, json::error_handler_t::replace));
}

void send_error(session_pointer self, const json& id, std::string error, std::string detail) {
  json message = {{"type", "error"}, {"error", std::move(error)}, {"detail", std::move(detail)}};
  if (!id.is_null())
    message["id"] = id;
  send_json(self, message);
}

void send_ok(session_pointer self, const json& id, json extra = json::object()) {
  extra["type"] = "ok";
  if (!id.is_null())
    extra["id"] = id;
  send_json(self, extra);
}

void send_stream_stopped(session_pointer self, const json& id = nullptr) {
  auto kind = self->state.kind;
  send_error(self, id, "stream stopped",
             std::string{kind == ws_stream::telemetry ? "telemetry" : "live logs"} +
                 " stopped by POST /control; it resumes on " +
                 (kind == ws_stream::telemetry ? "start_telemetry" : "start_livelogs"));
}

void close_session(session_pointer self, std::string reason) {
  if (auto& ws = self->state.ws)
    ws->close(std::move(reason));
  self->quit();
}

// --- telemetry -----------------------------------------------------------------------------

void send_snapshot(session_pointer self) {
  auto& st = self->state;
  if (!st.latest || !st.stream_enabled || !st.ws)
    return;
  // Coalescing: while the previous message still waits in the connection's queue the client
  // is behind; it gets the newest snapshot on a later tick instead of a backlog.
  if (st.ws->queued_messages() > 0) {
    ++st.snapshots_skipped;
    return;
  }
  ++st.snapshots_sent;
  send_json(self, {{"type", "snapshot"},
                   {"sequence", st.latest->sequence},
                   {"data", telemetry_to_json(*st.latest)}});
}

void arm_interval(session_pointer self) {
  auto& st = self->state;
  self->delayed_send(self, st.interval, atom::tick_v, ++st.timer_generation);
}

// The latest snapshot now, so a new client does not wait a whole hub interval for data.
void fetch_latest(session_pointer self) {
  auto hub = find_telemetry_hub(self->home_system());
  if (!hub)
    return;
  self->request(hub, 5s, atom::query_v)
      .then(
          [=](const telemetry_snapshot_ptr& snapshot) {
            auto& st = self->state;
            if (snapshot && (!st.latest || snapshot->sequence >= st.latest->sequence)) {
              st.latest = snapshot;
              if (st.snapshots_sent == 0)
                send_snapshot(self);
            }
          },
          [](caf::error&) {});
}

// --- subscription --------------------------------------------------------------------------

void subscribe(session_pointer self, json id) {
  auto& st = self->state;
  auto me = caf::actor_cast<caf::actor>(self);
  auto answered = [=](bool enabled) {
    self->state.stream_enabled = enabled;
    if (!enabled) {
      send_stream_stopped(self, id);
      return;
    }
    if (!id.is_null()) {
      if (self->state.kind == ws_stream::telemetry)
        send_ok(self, id, {{"interval", self->state.interval.count()}});
      else
        send_ok(self, id);
    }
    if (self->state.kind == ws_stream::telemetry)
      fetch_latest(self);
  };
  auto failed = [=](caf::error& err) {
    send_error(self, id, "unavailable", self->home_system().render(err));
  };
  if (st.kind == ws_stream::telemetry) {
    auto feed = find_telemetry_feed(self->home_system());
    if (!feed)
      return send_error(self, id, "unavailable", "the telemetry stream is restarting");
    self->request(feed, 5s, atom::subscribe_v, me).then(answered, failed);
  } else {
    auto hub = find_live_log_hub(self->home_system());
    if (!hub)
      return send_error(self, id, "unavailable", "the live logs stream is restarting");
    self->request(hub, 5s, atom::subscribe_v, me, st.filter).then(answered, failed);
  }
}

// --- live logs -----------------------------------------------------------------------------

void report_dropped(session_pointer self) {
  auto& st = self->state;
  if (!st.ws)
    return;
  auto dropped = st.ws->dropped();
  if (dropped > st.dropped_reported) {
    auto count = dropped - st.dropped_reported;
    st.dropped_reported = dropped;
    send_json(self, {{"type", "dropped"}, {"count", count}});
  }
}

void send_batch(session_pointer self, const log_batch& batch) {
  auto& st = self->state;
  if (!st.stream_enabled || !st.ws)
    return;
  auto& s = *st.current;
  for (auto& e : batch.events) {
    if (!matches(st.filter, batch, e))
      continue;
    auto timestamp = format_iso8601_utc(log_time{std::chrono::milliseconds{e.timestamp_ms}});
    send_json(self, {{"type", "log"},
                     {"id", e.id},
                     {"timestamp", timestamp},
                     {"log", e.log_line}, // the seed's field name
                     {"log_line", e.log_line},
                     {"log_path", batch.source},
                     {"application", batch.application},
                     {"severity", e.severity},
                     {"line_number", e.line_number},
                     {"node_id", s.node_id},
                     {"hostname", batch.hostname}});
  }
  report_dropped(self);
}

// The per-session loss check: reports drops and closes a client that keeps losing messages.
void check_losses(session_pointer self) {
  auto& st = self->state;
  if (!st.ws)
    return;
  report_dropped(self);
  auto dropped = st.ws->dropped();
  if (dropped > st.dropped_at_last_check)
    st.overflowing_for += st.options.check_interval;
  else
    st.overflowing_for = 0ms;
  st.dropped_at_last_check = dropped;
  if (st.overflowing_for >= st.options.stuck_limit) {
    spdlog::info("websocket {}: closing a client that does not keep up ({} messages dropped)",
                 ws_stream_name(st.kind), dropped);
    close_session(self, "client too slow: " + std::to_string(dropped) + " messages dropped");
    return;
  }
  self->delayed_send(self, st.options.check_interval, atom::tick_v);
}

// --- client requests -----------------------------------------------------------------------

std::optional<std::string> string_field(const json& j, const char* key) {
  if (auto it = j.find(key); it != j.end() && it->is_string())
    return it->get<std::string>();
  return std::nullopt;
}

void handle_client_text(session_pointer self, const std::string& text) {
  auto& st = self->state;
  auto message = json::parse(text, nullptr, false);
  if (message.is_discarded() || !message.is_object())
    return send_error(self, nullptr, "bad request", "expected a JSON object");
  json id = message.contains("id") ? message["id"] : json{};
  auto type = string_field(message, "type").value_or("");
  if (type == "ping")
    return send_ok(self, id);
  if (st.kind == ws_stream::telemetry && (type == "subscribe" || type == "set_interval")) {
    if (message.contains("interval")) {
      auto& v = message["interval"];
      if (!v.is_number() || v.get<double>() < static_cast<double>(min_interval.count()) ||
          v.get<double>() > static_cast<double>(max_interval.count()))
        return send_error(self, id, "bad request", "interval: seconds from 1 to 3600");
      st.interval = std::chrono::seconds{static_cast<int64_t>(v.get<double>())};
      arm_interval(self); // the old timer's generation is ignored from now on
    }
    return subscribe(self, id);
  }
  if (st.kind == ws_stream::live_logs && (type == "subscribe" || type == "set_filter")) {
    // The filter may come as {"filter": {...}} or as top-level fields.
    const json& f =
        message.contains("filter") && message["filter"].is_object() ? message["filter"] : message;
    live_log_filter filter;
    filter.path = string_field(f, "path").value_or("");
    filter.application = string_field(f, "application").value_or("");
    filter.severity = string_field(f, "severity").value_or("");
    filter.contains = string_field(f, "contains").value_or("");
    if (auto error = validate(filter); !error.empty())
      return send_error(self, id, "bad request", error);
    st.filter = std::move(filter);
    return subscribe(self, id);
  }
  send_error(self, id, "bad request",
             "unknown type \"" + type + "\"; expected " +
                 (st.kind == ws_stream::telemetry ? "subscribe, set_interval or ping"
                                                  : "subscribe, set_filter or ping"));
}

void send_welcome(session_pointer self) {
  auto& st = self->state;
  json welcome = {{"type", "welcome"},
                  {"protocol", protocol_version},
                  {"stream", ws_stream_name(st.kind)},
                  {"node_id", st.current->node_id},
                  {"hostname", current_hostname()},
                  {"version", VIGIL_VERSION},
                  {"system", system_info()}};
  if (st.kind == ws_stream::telemetry)
    welcome["interval"] = st.interval.count();
  send_json(self, welcome);
}

// --- authentication ------------------------------------------------------------------------

bool same_secret(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::vector<std::string> offered_subprotocols(const http_request& request) {
  std::vector<std::string> out;
  auto header = std::string{request.header("sec-websocket-protocol")};
  std::size_t start = 0;
  while (start <= header.size()) {
    auto end = header.find(',', start);
    auto item = header.substr(start, end == std::string::npos ? std::string::npos : end - start);
    auto first = item.find_first_not_of(" \t");
    auto last = item.find_last_not_of(" \t");
    if (first != std::string::npos)
      out.push_back(item.substr(first, last - first + 1));
    if (end == std::string::npos)
      break;
    start = end + 1;
  }
  return out;
}

} // namespace

bool token_allows(const settings& s, std::string_view presented, std::string_view scope) {
  if (presented.empty())
    return false;
  bool allowed = false;
  for (auto& t : s.api.tokens) // no early exit: constant time over the token list
    if (same_secret(t.token, presented))
      for (auto& granted : t.scopes)
        allowed = allowed || granted == scope || granted == "control"; // control implies read
  return allowed;
}

http_server_options api_server_options(const settings& s, std::uint16_t port) {
  http_server_options opts;
  opts.bind_address = s.api.bind;
  opts.port = port;
  opts.allow_from = s.api.allow_from;
  opts.rate_limit_per_minute = s.api.rate_limit_per_minute;
  return opts;
}

std::string token_principal(const settings& s, std::string_view presented) {
  if (s.api.tokens.empty())
    return "anonymous";
  if (presented.empty())
    return "no token";
  std::string principal = "unknown token";
  for (std::size_t i = 0; i < s.api.tokens.size(); ++i) { // no early exit, as above
    auto& t = s.api.tokens[i];
    if (same_secret(t.token, presented))
      principal = t.name.empty() ? "token " + std::to_string(i + 1) : t.name;
  }
  return principal;
}

std::string_view ws_stream_name(ws_stream kind) {
  return kind == ws_stream::telemetry ? "telemetry" : "live_logs";
}

std::size_t ws_session_count() {
  return live_sessions.load();
}

std::optional<ws_stream> control_port_ws_stream(std::string_view path) {
  if (path == "/ws/logs")
    return ws_stream::live_logs;
  if (path == "/ws/telemetry" || path == "/ws")
    return ws_stream::telemetry;
  return std::nullopt;
}

std::set<std::string> control_port_ws_paths() {
  return {"/ws", "/ws/logs", "/ws/telemetry"};
}

void start_ws_session(caf::actor_system& sys, const settings_ptr& current, ws_stream kind,
                      const http_request& request, const websocket_upgrade& upgrade,
                      const ws_session_options& options) {
  auto offered = offered_subprotocols(request);
  std::string chosen = offered.empty() ? std::string{} : offered.front();
  if (!current->api.tokens.empty()) {
    bool ok = false;
    for (auto& p : offered)
      if (p.rfind("bearer.", 0) == 0 &&
          token_allows(*current, std::string_view{p}.substr(7), "read")) {
        ok = true;
        chosen = p;
        break;
      }
    if (!ok)
      if (auto it = request.query.find("token"); it != request.query.end())
        ok = token_allows(*current, it->second, "read");
    if (!ok) {
      auto header = request.header("authorization");
      ok = header.rfind("Bearer ", 0) == 0 && token_allows(*current, header.substr(7), "read");
    }
    if (!ok) {
      auto r = json_error_response(
          401, "unauthorized",
          "send a token of scope read as subprotocol \"bearer.<token>\", ?token= or "
          "'Authorization: Bearer <token>'");
      r.headers.emplace_back("WWW-Authenticate", "Bearer");
      upgrade.reject(std::move(r));
      return;
    }
  }
  sys.spawn(ws_session, kind, upgrade, std::move(chosen), current, options);
}

ws_session_actor::behavior_type
ws_session(ws_session_actor::stateful_pointer<ws_session_state> self, ws_stream kind,
           websocket_upgrade upgrade, std::string subprotocol, settings_ptr current,
           ws_session_options options) {
  auto& st = self->state;
  st.kind = kind;
  st.current = std::move(current);
  st.options = options;
  st.interval = options.default_interval;
  ++live_sessions;
  auto hdl = caf::actor_cast<ws_session_actor>(self);
  websocket_callbacks callbacks;
  // Asio threads: hand everything to the actor, never touch its state.
  callbacks.on_text = [hdl](std::string text) {
    caf::anon_send(hdl, atom::ingest_v, std::move(text));
  };
  callbacks.on_close = [hdl](std::string reason) {
    caf::anon_send(hdl, atom::shutdown_v, std::move(reason));
  };
  callbacks.subprotocol = std::move(subprotocol);
  st.ws = upgrade.accept(std::move(callbacks));
  // Whatever ends the actor closes the connection; the callbacks (and their handle on this
  // actor) are released when the connection finishes.
  self->attach_functor([ws = st.ws](const caf::error&) {
    if (ws)
      ws->close("session ended");
    --live_sessions;
  });
  if (!st.ws) { // the upgrade was already answered
    self->quit();
  } else {
    send_welcome(self);
    subscribe(self, nullptr);
    if (kind == ws_stream::telemetry)
      arm_interval(self);
    else
      self->delayed_send(self, options.check_interval, atom::tick_v);
  }
  return {
      [=](atom::publish, const live_log_batch_ptr& batch) {
        if (batch)
          send_batch(self, *batch);
      },
      [=](atom::publish, const telemetry_snapshot_ptr& snapshot) {
        // Only the latest is kept: the interval timer sends it.
        if (snapshot)
          self->state.latest = snapshot;
      },
      [=](atom::enable) {
        self->state.stream_enabled = true;
        if (self->state.kind == ws_stream::telemetry)
          fetch_latest(self);
      },
      [=](atom::disable) {
        self->state.stream_enabled = false;
        send_stream_stopped(self);
      },
      [=](atom::ingest, const std::string& text) { handle_client_text(self, text); },
      [=](atom::shutdown, const std::string&) {
        self->state.ws.reset();
        self->quit();
      },
      [=](atom::tick, uint64_t generation) {
        if (generation != self->state.timer_generation)
          return; // a timer of an older interval setting
        send_snapshot(self);
        arm_interval(self);
      },
      [=](atom::tick) { check_losses(self); },
  };
}

} // namespace vigil
