#include "actors/control_api.hpp"

#include "io/http/http_server.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <fstream>
#include <openssl/crypto.h>
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

// Tokens are compared in constant time so response timing reveals nothing about them.
bool authorized(const settings& s, const http_request& req, scope needed) {
  if (s.api.tokens.empty())
    return true; // only possible on loopback: the config refuses otherwise
  auto header = req.header("authorization");
  std::string_view presented;
  if (header.rfind("Bearer ", 0) == 0)
    presented = header.substr(7);
  else if (auto i = req.query.find("token"); i != req.query.end())
    presented = i->second;
  for (auto& t : s.api.tokens) {
    bool match = t.token.size() == presented.size() &&
                 CRYPTO_memcmp(t.token.data(), presented.data(), presented.size()) == 0;
    if (!match)
      continue;
    auto want = needed == scope::read ? "read" : "control";
    for (auto& sc : t.scopes)
      if (sc == want || sc == "control") // control implies read
        return true;
  }
  return false;
}

double uptime_seconds(control_pointer self) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - self->state.started)
      .count();
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
            respond(json_response(200, body));
          },
          [=](caf::error& err) {
            respond(
                json_error_response(503, "status unavailable", self->home_system().render(err)));
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
  auto need = is_get ? scope::read : scope::control;
  auto method_not_allowed = [&] {
    respond(json_error_response(405, "method not allowed", req.method + " " + req.path));
  };
  auto& p = req.path;
  if (!authorized(s, req, need)) {
    ++st.rejected;
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
  } else if (p == "/api/config") {
    if (!is_get)
      return method_not_allowed();
    respond(json_response(200, st.hooks.effective_config()));
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
  http_server_options opts;
  opts.bind_address = st.current->api.bind;
  opts.port = st.current->api.control_port;
  auto hdl = caf::actor_cast<control_api_actor>(self);
  // Runs on an Asio thread: hand the request to the actor, never touch `self` here.
  st.server =
      std::make_shared<http_server>(*io, opts, [hdl](http_request req, http_responder respond) {
        caf::anon_send(hdl, std::move(req), std::move(respond));
      });
  spdlog::info("control API listening on http://{}:{}", st.server->bind_address(),
               st.server->port());
  return {
      [=](http_request& req, http_responder& respond) { route(self, req, std::move(respond)); },
      [=](atom::configure, settings_ptr& s) { self->state.current = std::move(s); },
  };
}

} // namespace vigil
