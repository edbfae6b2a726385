#include "actors/backend_poster.hpp"

#include "actors/outbox.hpp"
#include "actors/retry_backoff.hpp"
#include "actors/telemetry_hub.hpp"
#include "actors/telemetry_json.hpp"
#include "io/http/jwt.hpp"
#include "io/http/retry_after.hpp"
#include "io/logs/timestamp_parser.hpp"
#include "io/system/host_info.hpp"
#include "io/system/secrets_file.hpp"
#include "io/system/system_profile.hpp"

#include <caf/all.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <fstream>
#include <functional>
#include <map>
#include <sstream>

namespace vigil {

namespace {

using namespace std::chrono_literals;
using poster_pointer = backend_poster_actor::stateful_pointer<backend_poster_state>;
using steady = std::chrono::steady_clock;
using json = nlohmann::json;

constexpr auto tick_interval = 1s;
// Records appended by other actors (alerts) are found by this poll at the latest.
constexpr auto poll_interval = 5s;
constexpr auto profile_check_interval = 1h;
constexpr auto outbox_timeout = 10s;
// The answer tag of a token refresh; stream answers carry the stream's index.
constexpr uint32_t refresh_exchange = 1000;

int64_t epoch_ms(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

std::string now_iso8601() {
  return format_iso8601_utc(
      std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now()));
}

void make_client(poster_pointer self) {
  auto& b = self->state.current->backend;
  http_client_options o;
  o.verify_peer = b.verify_peer;
  o.ca_file = b.ca_file;
  o.user_agent = std::string{"vigil/"} + VIGIL_VERSION;
  self->state.client = std::make_unique<http_client>(*self->state.io, o);
}

void adopt_token(poster_pointer self, std::string token) {
  auto& st = self->state;
  st.token = std::move(token);
  st.token_expiry = jwt_expiry(st.token);
  st.refresh_failures = 0;
  st.refresh_not_before = {};
  st.status.token_state = st.token.empty() ? "none" : "valid";
  st.status.token_expires_ms = st.token_expiry ? epoch_ms(*st.token_expiry) : 0;
}

bool token_due_for_refresh(poster_pointer self) {
  auto& st = self->state;
  return !st.token.empty() && st.token_expiry &&
         std::chrono::system_clock::now() >=
             *st.token_expiry - st.current->backend.token_refresh_margin;
}

std::map<std::string, std::string> headers(poster_pointer self) {
  std::map<std::string, std::string> h{{"content-type", "application/json"}};
  if (!self->state.token.empty())
    h["authorization"] = "Bearer " + self->state.token;
  return h;
}

void send_http(poster_pointer self, uint32_t exchange, const std::string& path,
               std::map<std::string, std::string> h, std::string body) {
  auto handle = caf::actor_cast<backend_poster_actor>(self);
  self->state.client->request("POST", self->state.current->backend.url + path, std::move(h),
                              std::move(body), self->state.current->backend.timeout,
                              [handle, exchange](http_client_result r) {
                                caf::anon_send(handle, atom::answered_v, exchange, std::move(r));
                              });
}

void start_refresh(poster_pointer self) {
  auto& st = self->state;
  if (st.refreshing || st.token.empty() || steady::now() < st.refresh_not_before)
    return;
  st.refreshing = true;
  st.status.token_state = "refreshing";
  send_http(self, refresh_exchange, "/api/auth/refresh", headers(self), "{}");
}

void pump(poster_pointer self, size_t i);

void pump_all(poster_pointer self) {
  for (size_t i = 0; i < self->state.streams.size(); ++i)
    pump(self, i);
}

void post_record(poster_pointer self, size_t i) {
  auto& s = self->state.streams[i];
  auto h = headers(self);
  // Lets the backend drop a record it already has (sent again after a lost answer).
  h["idempotency-key"] = s.record->id;
  send_http(self, static_cast<uint32_t>(i), s.path, std::move(h), s.record->payload);
}

// Sends the stream's oldest due record, if it may: one at a time keeps the order.
void pump(poster_pointer self, size_t i) {
  auto& st = self->state;
  auto& s = st.streams[i];
  if (st.current->backend.url.empty() || s.busy || steady::now() < s.not_before)
    return;
  if (token_due_for_refresh(self) && steady::now() >= st.refresh_not_before) {
    start_refresh(self); // its answer pumps again
    return;
  }
  if (st.refreshing)
    return;
  if (s.record) { // a 401 waits for the refresh, then the same record goes again
    s.busy = true;
    post_record(self, i);
    return;
  }
  auto outbox = find_outbox(self->home_system());
  if (!outbox)
    return;
  s.busy = true;
  self->request(outbox, outbox_timeout, atom::publish_v, s.name, int64_t{0}, uint32_t{1})
      .then(
          [=](std::vector<outbox_entry>& records) {
            auto& s = self->state.streams[i];
            if (records.empty()) {
              s.busy = false;
              return;
            }
            s.record = std::move(records.front());
            post_record(self, i);
          },
          [=](caf::error&) { self->state.streams[i].busy = false; });
}

// 2xx: delete it; 401: refresh, then the same record again; 408, 429, 5xx and transport
// errors: retry later; any other answer: the backend will never take it.
void on_answer(poster_pointer self, size_t i, http_client_result& r) {
  auto& st = self->state;
  auto& s = st.streams[i];
  s.busy = false;
  if (!s.record)
    return;
  auto outbox = find_outbox(self->home_system());
  auto seq = s.record->seq;
  if (r.transport_ok() && r.status >= 200 && r.status < 300) {
    if (outbox)
      self->send(outbox, atom::confirmed_v, s.name, std::vector<int64_t>{seq});
    s.record.reset();
    s.failures = 0;
    s.status.retry_at_ms = 0;
    ++s.status.sent;
    s.status.last_success_ms = epoch_ms(std::chrono::system_clock::now());
    pump(self, i);
    return;
  }
  if (r.transport_ok() && r.status == 401 && !st.token.empty()) {
    s.status.last_error = "401 Unauthorized";
    // Refresh regardless of exp: the backend may have revoked the token.
    st.token_expiry = std::chrono::system_clock::now();
    start_refresh(self);
    s.not_before = st.refresh_not_before;
    return;
  }
  // A 401 without any token to refresh waits for one (secrets file + SIGHUP).
  bool retry =
      !r.transport_ok() || r.status == 401 || r.status == 408 || r.status == 429 || r.status >= 500;
  if (retry) {
    ++s.failures;
    ++s.status.failures;
    auto delay =
        retry_backoff(st.current->backend.retry_initial, st.current->backend.retry_max, s.failures);
    if (r.transport_ok() && (r.status == 429 || r.status == 503))
      if (auto ra = parse_retry_after(r.header("retry-after")))
        delay = std::max<std::chrono::milliseconds>(delay, *ra);
    s.status.last_error = r.transport_ok()
                              ? "HTTP " + std::to_string(r.status)
                              : std::string{to_string(r.error)} + ": " + r.error_detail;
    auto retry_at = std::chrono::system_clock::now() + delay;
    s.status.retry_at_ms = epoch_ms(retry_at);
    s.not_before = steady::now() + delay;
    if (s.failures == 1 || s.failures % 10 == 0)
      spdlog::warn("backend_poster: {} failed ({}), attempt {}; retrying in {} ms", s.path,
                   s.status.last_error, s.failures, delay.count());
    if (outbox)
      self->send(outbox, atom::failed_v, s.name, std::vector<int64_t>{seq}, epoch_ms(retry_at));
    s.record.reset(); // the outbox holds it; fetched again when due
    self->delayed_send(self, delay, atom::resume_v);
    return;
  }
  auto reason = "HTTP " + std::to_string(r.status) + ": " + r.body.substr(0, 512);
  spdlog::error("backend_poster: {} refused record {} for good; kept as a dead letter ({})", s.path,
                s.record->id, reason);
  ++s.status.dead_lettered;
  s.status.last_error = reason;
  if (outbox)
    self->send(outbox, atom::reject_v, s.name, seq, reason);
  s.record.reset();
  s.failures = 0;
  pump(self, i);
}

void on_refresh_answer(poster_pointer self, http_client_result& r) {
  auto& st = self->state;
  st.refreshing = false;
  json body = r.transport_ok() ? json::parse(r.body, nullptr, false) : json{};
  bool ok = r.transport_ok() && r.status >= 200 && r.status < 300 && body.is_object() &&
            body.contains("token") && body["token"].is_string() &&
            !body["token"].get<std::string>().empty();
  if (!ok) {
    ++st.refresh_failures;
    auto delay = retry_backoff(st.current->backend.retry_initial, st.current->backend.retry_max,
                               st.refresh_failures);
    st.refresh_not_before = steady::now() + delay;
    st.status.token_state = "refresh_failed";
    st.status.last_refresh_error =
        r.transport_ok() ? "HTTP " + std::to_string(r.status) + ": " + r.body.substr(0, 256)
                         : std::string{to_string(r.error)} + ": " + r.error_detail;
    spdlog::error("backend_poster: token refresh failed ({}); records stay queued, retrying "
                  "in {} ms (or write a new token to {} and send SIGHUP)",
                  st.status.last_refresh_error, delay.count(), st.current->secrets_file);
    self->delayed_send(self, delay, atom::resume_v);
    return;
  }
  adopt_token(self, body["token"].get<std::string>());
  ++st.status.token_refreshes;
  st.status.last_refresh_error.clear();
  spdlog::info("backend_poster: token refreshed");
  try {
    write_secret(st.current->secrets_file, {"backend", "token"}, st.token);
  } catch (const std::exception& e) {
    spdlog::warn("backend_poster: the refreshed token is used but not saved: {}", e.what());
  }
  for (auto& s : st.streams)
    s.not_before = {};
  pump_all(self);
}

// Appends a record to one of the backend streams, then tries to send it.
void enqueue(poster_pointer self, const std::string& stream, std::string id, std::string payload,
             std::function<void()> on_stored = {}) {
  auto outbox = find_outbox(self->home_system());
  if (!outbox)
    return;
  std::vector<outbox_entry> records{{0, std::move(id), std::move(payload)}};
  self->request(outbox, outbox_timeout, atom::append_v, stream, std::move(records))
      .then(
          [=](uint64_t) {
            if (on_stored)
              on_stored();
            pump_all(self);
          },
          [=](caf::error& err) {
            spdlog::warn("backend_poster: cannot queue a {} record: {}", stream,
                         self->home_system().render(err));
          });
}

void enqueue_heartbeat(poster_pointer self) {
  auto& s = *self->state.current;
  auto host = read_host_info();
  auto now = std::chrono::system_clock::now();
  json hb = {{"node_id", s.node_id},
             {"status", "online"},
             {"timestamp", now_iso8601()},
             {"hostname", host.hostname},
             {"system_ip", host.primary_ip},
             {"version", VIGIL_VERSION},
             {"uptime_seconds",
              std::chrono::duration_cast<std::chrono::seconds>(steady::now() - self->state.started)
                  .count()}};
  enqueue(self, "heartbeat", s.node_id + ":heartbeat:" + std::to_string(epoch_ms(now)), hb.dump());
}

json profile_json(const settings& s, const system_profile& p) {
  return {{"node_id", s.node_id},
          {"hostname", p.hostname},
          {"os", {{"name", p.os_name}, {"id", p.os_id}, {"version", p.os_version}}},
          {"kernel", p.kernel},
          {"architecture", p.architecture},
          {"ip_address", p.primary_ip},
          {"ip_addresses", p.ips},
          {"mac_address", p.mac_address},
          {"memory_total_bytes", p.memory_total_bytes},
          {"disk_total_bytes", p.disk_total_bytes},
          {"cpu",
           {{"model", p.cpu_model},
            {"logical_cores", p.logical_cores},
            {"physical_cores", p.physical_cores ? json(*p.physical_cores) : json(nullptr)}}},
          {"agent_version", VIGIL_VERSION}};
}

// The profile is sent when it differs from the last one queued (kept in the state dir as
// system_info.json, like the seed's file), so a restart alone sends nothing.
void check_profile(poster_pointer self) {
  auto& s = *self->state.current;
  auto text = profile_json(s, read_system_profile()).dump(2);
  auto path = s.state_dir + "/system_info.json";
  std::stringstream previous;
  if (std::ifstream in{path})
    previous << in.rdbuf();
  if (previous.str() == text)
    return;
  auto id = s.node_id + ":system_info:" + std::to_string(std::hash<std::string>{}(text));
  enqueue(self, "system_info", id, text, [path, text] {
    std::ofstream out{path + ".tmp"};
    out << text;
    out.close();
    std::rename((path + ".tmp").c_str(), path.c_str());
  });
}

// The hub's latest snapshot becomes a record of the telemetry stream (the outbox drops the
// oldest snapshots when the stream is full: the newest matter most).
void enqueue_snapshot(poster_pointer self) {
  auto hub = find_telemetry_hub(self->home_system());
  if (!hub)
    return;
  self->request(hub, outbox_timeout, atom::query_v)
      .then(
          [=](const telemetry_snapshot_ptr& snapshot) {
            if (!snapshot)
              return;
            auto& s = *self->state.current;
            enqueue(self, "telemetry",
                    s.node_id +
                        ":telemetry:" + std::to_string(epoch_ms(std::chrono::system_clock::now())),
                    telemetry_to_json(*snapshot).dump());
          },
          [=](caf::error& err) {
            spdlog::debug("backend_poster: no telemetry snapshot: {}",
                          self->home_system().render(err));
          });
}

void on_tick(poster_pointer self) {
  auto& st = self->state;
  if (st.current->backend.url.empty())
    return;
  auto now = steady::now();
  if (now >= st.next_heartbeat && find_outbox(self->home_system())) {
    st.next_heartbeat = now + st.current->backend.heartbeat_interval;
    enqueue_heartbeat(self);
  }
  if (now >= st.next_telemetry && find_outbox(self->home_system())) {
    st.next_telemetry = now + st.current->backend.telemetry_interval;
    enqueue_snapshot(self);
  }
  if (now >= st.next_profile_check && find_outbox(self->home_system())) {
    st.next_profile_check = now + profile_check_interval;
    check_profile(self);
  }
  if (now >= st.next_poll) {
    st.next_poll = now + poll_interval;
    pump_all(self);
  }
}

} // namespace

backend_poster_actor::behavior_type
backend_poster(backend_poster_actor::stateful_pointer<backend_poster_state> self,
               boost::asio::io_context* io, settings_ptr current) {
  auto& st = self->state;
  st.io = io;
  st.current = std::move(current);
  st.status.url = st.current->backend.url;
  for (auto [name, path] :
       {std::pair{"heartbeat", "/api/heartbeat"}, std::pair{"system_info", "/api/system_info"},
        std::pair{"telemetry", "/api/telemetry/snapshot"},
        std::pair{"alerts", "/api/alerts/create"}}) {
    backend_poster_state::stream s;
    s.name = name;
    s.path = path;
    s.status.name = name;
    st.streams.push_back(std::move(s));
  }
  make_client(self);
  st.configured_token = st.current->backend.token;
  adopt_token(self, st.current->backend.token);
  self->set_exit_handler([=](caf::exit_msg& em) {
    self->state.client->shutdown();
    self->quit(em.reason);
  });
  on_tick(self);
  self->delayed_send(self, tick_interval, atom::tick_v);
  return {
      [=](atom::resume) { pump_all(self); },
      [=](atom::tick) {
        on_tick(self);
        self->delayed_send(self, tick_interval, atom::tick_v);
      },
      [=](atom::answered, uint32_t exchange, http_client_result& r) {
        if (exchange == refresh_exchange)
          on_refresh_answer(self, r);
        else if (exchange < self->state.streams.size())
          on_answer(self, exchange, r);
      },
      [=](atom::status) {
        auto& st = self->state;
        auto x = st.status;
        for (auto& s : st.streams)
          x.streams.push_back(s.status);
        return x;
      },
      [=](atom::configure, settings_ptr& s) {
        auto& st = self->state;
        bool new_client = s->backend.url != st.current->backend.url ||
                          s->backend.ca_file != st.current->backend.ca_file ||
                          s->backend.verify_peer != st.current->backend.verify_peer;
        st.current = std::move(s);
        st.status.url = st.current->backend.url;
        if (new_client)
          make_client(self);
        // A token that changed in the secrets file (SIGHUP) replaces a refreshed one.
        if (st.current->backend.token != st.configured_token) {
          st.configured_token = st.current->backend.token;
          adopt_token(self, st.current->backend.token);
          spdlog::info("backend_poster: new token from the configuration");
        }
        for (auto& stream : st.streams)
          stream.not_before = {};
        pump_all(self);
      },
  };
}

} // namespace vigil
