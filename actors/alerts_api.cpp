#include "actors/alerts_api.hpp"

#include "actors/alert_rule.hpp"
#include "actors/history_api.hpp"
#include "io/logs/timestamp_parser.hpp"

#include <caf/all.hpp>

namespace vigil {

namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;
using control_pointer = control_api_actor::stateful_pointer<control_api_state>;

http_response json_ok(const json& body) {
  return {200, "application/json", body.dump(), {}};
}

json time_or_null(int64_t ms) {
  if (ms == 0)
    return nullptr;
  return format_iso8601_utc(log_time{std::chrono::milliseconds{ms}});
}

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// 503 when the manager is restarting, 404 for an alert that is not firing, else 503.
auto on_error(control_pointer self, http_responder respond) {
  return [=](caf::error& err) {
    // The manager's own words ("no firing alert …") when it gave any.
    auto detail = err.context().match_elements<std::string>() ? err.context().get_as<std::string>(0)
                                                              : self->home_system().render(err);
    if (err == caf::sec::invalid_argument)
      return respond(json_error_response(404, "not found", detail));
    respond(json_error_response(503, "alerts unavailable", detail));
  };
}

// The silences still in force (the manager keeps expired ones: its clock is the snapshots').
json silences_json(const std::vector<alert_silence>& silences) {
  json out = json::array();
  auto now = now_ms();
  for (auto& s : silences)
    if (s.until_ms > now)
      out.push_back({{"rule", s.rule_id}, {"until", time_or_null(s.until_ms)}, {"by", s.by}});
  return json{{"silences", std::move(out)}};
}

void list_alerts(control_pointer self, alert_manager_actor manager, const http_request& req,
                 http_responder respond) {
  alert_query q;
  if (auto i = req.query.find("state"); i != req.query.end()) {
    if (i->second != "firing" && i->second != "resolved" && !i->second.empty())
      return respond(json_error_response(400, "bad request",
                                         "state: firing or resolved, not \"" + i->second + "\""));
    q.state = i->second;
  }
  if (auto i = req.query.find("limit"); i != req.query.end()) {
    char* end = nullptr;
    auto n = std::strtol(i->second.c_str(), &end, 10);
    if (i->second.empty() || *end != '\0' || n < 1 || n > 10000)
      return respond(
          json_error_response(400, "bad request", "limit: 1 to 10000, not \"" + i->second + "\""));
    q.limit = static_cast<uint32_t>(n);
  }
  self->request(manager, 10s, atom::query_v, q)
      .then(
          [=](const std::vector<alert_record>& alerts) {
            json out = json::array();
            for (auto& a : alerts)
              out.push_back(alert_json(a));
            auto count = out.size();
            respond(json_ok({{"alerts", std::move(out)}, {"count", count}}));
          },
          on_error(self, respond));
}

void act_on_alert(control_pointer self, alert_manager_actor manager, bool acknowledge,
                  const json& body, const std::string& principal, http_responder respond) {
  if (!body.is_object() || !body.contains("id") || !body["id"].is_string())
    return respond(json_error_response(400, "bad request", "expected {\"id\": \"<alert id>\"}"));
  auto id = body["id"].get<std::string>();
  auto reply = [=](const alert_record& a) { respond(json_ok(alert_json(a))); };
  if (acknowledge)
    self->request(manager, 10s, atom::acknowledge_v, id, principal)
        .then(reply, on_error(self, respond));
  else
    self->request(manager, 10s, atom::resolve_v, id, principal)
        .then(reply, on_error(self, respond));
}

void silence_rule(control_pointer self, alert_manager_actor manager, const json& body,
                  const std::string& principal, http_responder respond) {
  if (!body.is_object() || !body.contains("rule") || !body["rule"].is_string() ||
      !body.contains("duration") || !body["duration"].is_string())
    return respond(json_error_response(400, "bad request",
                                       "expected {\"rule\": \"<rule id>\", \"duration\": \"2h\"}"));
  alert_silence x;
  x.rule_id = body["rule"].get<std::string>();
  x.by = principal;
  auto text = body["duration"].get<std::string>();
  if (text == "0" || text == "0s") {
    x.until_ms = 0;
  } else if (auto step = parse_history_step(text)) {
    x.until_ms = now_ms() + *step;
  } else {
    return respond(json_error_response(400, "bad request",
                                       "duration: e.g. \"30m\", \"2h\", \"1d\" or \"0s\", not \"" +
                                           text + "\""));
  }
  if (!find_alert_rule(self->state.current->alerts, x.rule_id))
    return respond(json_error_response(404, "not found", "no alert rule " + x.rule_id));
  self->request(manager, 10s, atom::silence_v, x)
      .then(
          [=](const std::vector<alert_silence>& silences) {
            respond(json_ok(silences_json(silences)));
          },
          on_error(self, respond));
}

} // namespace

json alert_json(const alert_record& a) {
  return {{"id", a.id},
          {"rule", a.rule_id},
          {"subject", a.subject},
          {"severity", a.severity},
          {"state", a.state},
          {"title", a.title},
          {"cause", a.cause},
          {"value", a.value},
          {"peak", a.peak},
          {"threshold", a.threshold},
          {"started_at", time_or_null(a.started_ms)},
          {"resolved_at", time_or_null(a.resolved_ms)},
          {"notified_at", time_or_null(a.notified_ms)},
          {"resolved_by", a.resolved_by},
          {"acknowledged_by", a.acknowledged_by},
          {"suppressed_reason", a.suppressed_reason}};
}

json alert_rule_json(const alert_rule_settings& r) {
  auto seconds = [](duration d) {
    return std::chrono::duration_cast<std::chrono::seconds>(d).count();
  };
  json j = {{"id", r.id},
            {"kind", r.kind},
            {"metric", r.metric},
            {"subject", r.subject},
            {"comparison", r.comparison},
            {"threshold", r.threshold},
            {"clear_threshold", r.clear_threshold < 0 ? r.threshold : r.clear_threshold},
            {"duration_s", seconds(r.for_duration)},
            {"cooldown_s", seconds(r.cooldown)},
            {"severity", r.severity},
            {"channels", r.channels}};
  if (r.kind == "baseline") {
    j["baseline_window_s"] = seconds(r.baseline_window);
    j["baseline_floor"] = r.baseline_floor;
  }
  if (r.kind == "state")
    j["states"] = r.states;
  return j;
}

void answer_alerts(control_pointer self, const http_request& req, std::string principal,
                   http_responder respond) {
  const auto& p = req.path;
  bool is_get = req.method == "GET" || req.method == "HEAD";
  auto method_not_allowed = [&] {
    respond(json_error_response(405, "method not allowed", req.method + " " + p));
  };
  if (p == "/api/alerts/rules") {
    if (!is_get)
      return method_not_allowed();
    json rules = json::array();
    const auto& alerts = self->state.current->alerts;
    if (alerts.enabled)
      for (auto& r : effective_alert_rules(alerts))
        rules.push_back(alert_rule_json(r));
    return respond(json_ok({{"enabled", alerts.enabled}, {"rules", std::move(rules)}}));
  }
  bool action =
      p == "/api/alerts/acknowledge" || p == "/api/alerts/resolve" || p == "/api/alerts/silence";
  bool silences = p == "/api/alerts/silences";
  if (p != "/api/alerts" && !silences && !action)
    return respond(json_error_response(404, "not found", "no endpoint " + p));
  if (action ? req.method != "POST" : !is_get)
    return method_not_allowed();
  auto manager =
      caf::actor_cast<alert_manager_actor>(self->home_system().registry().get(caf::atom("alerts")));
  if (!manager)
    return respond(json_error_response(503, "unavailable", "the alert manager is not running"));
  if (silences)
    return self->request(manager, 10s, atom::silence_v)
        .then([=](const std::vector<alert_silence>& xs) { respond(json_ok(silences_json(xs))); },
              on_error(self, respond));
  if (!action)
    return list_alerts(self, manager, req, std::move(respond));
  auto body = json::parse(req.body, nullptr, false);
  if (body.is_discarded())
    return respond(json_error_response(400, "bad request", "the body is not JSON"));
  if (p == "/api/alerts/silence")
    return silence_rule(self, manager, body, principal, std::move(respond));
  act_on_alert(self, manager, p == "/api/alerts/acknowledge", body, principal, std::move(respond));
}

} // namespace vigil
