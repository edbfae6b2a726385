#include "runtime/alerts_command.hpp"

#include "actors/history_api.hpp"
#include "runtime/agent_client.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <unistd.h>

namespace vigil {

namespace {

using json = nlohmann::json;

struct cell {
  std::string text;
  const char* colour = nullptr; // ANSI SGR parameters ("31"); nullptr: plain
};
using table_row = std::vector<cell>;

// Terminal columns: UTF-8 continuation bytes take none (a mount point or user may be
// non-ASCII).
size_t columns(const std::string& text) {
  return static_cast<size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

// Columns padded to their widest cell, two spaces apart. Colour codes wrap the text only, so
// they take no width; the last column is not padded.
std::string render(const std::vector<table_row>& rows) {
  std::vector<size_t> widths;
  for (auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()));
    for (size_t i = 0; i < row.size(); ++i)
      widths[i] = std::max(widths[i], columns(row[i].text));
  }
  std::string out;
  for (auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) {
      auto& c = row[i];
      out += c.colour ? "\x1b[" + std::string{c.colour} + "m" + c.text + "\x1b[0m" : c.text;
      if (i + 1 < row.size())
        out.append(widths[i] - columns(c.text) + 2, ' ');
    }
    out += "\n";
  }
  return out;
}

const json& field(const json& object, const char* key) {
  static const json null_value;
  auto i = object.find(key);
  return i == object.end() ? null_value : *i;
}

std::string text_of(const json& object, const char* key) {
  auto& v = field(object, key);
  return v.is_string() ? v.get<std::string>() : std::string{};
}

std::string or_dash(std::string text) {
  return text.empty() ? "-" : text;
}

// 612 → "612", 92.345 → "92.3".
std::string number_text(const json& value) {
  if (!value.is_number())
    return "-";
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f", value.get<double>());
  std::string text = buffer;
  if (text.ends_with(".0"))
    text.resize(text.size() - 2);
  return text;
}

// "45s ago", "12m ago", "3h ago", "2d ago": how long since an ISO 8601 time.
std::string age_text(const json& time, int64_t now_ms) {
  auto at = time.is_string() ? parse_history_time(time.get<std::string>()) : std::nullopt;
  if (!at)
    return "-";
  auto seconds = std::max<int64_t>(0, (now_ms - *at) / 1000);
  for (auto [size, unit] : {std::pair{86400, "d"}, std::pair{3600, "h"}, std::pair{60, "m"}})
    if (seconds >= size)
      return std::to_string(seconds / size) + unit + " ago";
  return std::to_string(seconds) + "s ago";
}

const char* severity_colour(const std::string& severity) {
  if (severity == "critical")
    return "1;31"; // bold red
  if (severity == "high")
    return "31"; // red
  if (severity == "medium")
    return "33"; // yellow
  if (severity == "low")
    return "36"; // cyan
  return nullptr;
}

std::string joined(const json& list) {
  std::string out;
  for (auto& item : list)
    if (item.is_string())
      out += (out.empty() ? "" : ",") + item.get<std::string>();
  return out;
}

// ">= 90, clears at 85", ">= 5 × average", "failed,stopped": when the rule fires.
std::string condition_text(const json& rule) {
  auto kind = text_of(rule, "kind");
  if (kind == "state")
    return joined(field(rule, "states"));
  auto text = text_of(rule, "comparison") + " " + number_text(field(rule, "threshold"));
  if (kind == "baseline")
    text += " × average";
  if (field(rule, "clear_threshold") != field(rule, "threshold"))
    text += ", clears at " + number_text(field(rule, "clear_threshold"));
  return text;
}

std::string seconds_text(const json& seconds) {
  return seconds.is_number_integer() ? format_duration(std::chrono::seconds{seconds.get<int64_t>()})
                                     : "-";
}

std::string rules_table(const json& rules) {
  std::vector<table_row> rows{{{"ID"},
                               {"KIND"},
                               {"METRIC"},
                               {"SUBJECT"},
                               {"CONDITION"},
                               {"DURATION"},
                               {"COOLDOWN"},
                               {"SEVERITY"},
                               {"CHANNELS"}}};
  for (auto& r : rules)
    rows.push_back({{text_of(r, "id")},
                    {text_of(r, "kind")},
                    {text_of(r, "metric")},
                    {or_dash(text_of(r, "subject"))},
                    {condition_text(r)},
                    {seconds_text(field(r, "duration_s"))},
                    {seconds_text(field(r, "cooldown_s"))},
                    {text_of(r, "severity")},
                    {joined(field(r, "channels"))}});
  return render(rows);
}

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// What a person reads after a successful answer to `cl`'s action.
std::string describe(const parsed_command_line& cl, const json& answer) {
  auto& action = cl.alerts_action;
  if (action == "list") {
    auto& alerts = field(answer, "alerts");
    if (alerts.empty())
      return "no " + (cl.alert_state.empty() ? "" : cl.alert_state + " ") + "alerts\n";
    return alerts_table(alerts, colour_wanted(STDOUT_FILENO), now_ms());
  }
  if (action == "rules") {
    if (field(answer, "enabled") == false)
      return "alerts are turned off (alerts.enabled is false)\n";
    return rules_table(field(answer, "rules"));
  }
  if (action == "ack")
    return "acknowledged " + text_of(answer, "id") + " by " + text_of(answer, "acknowledged_by") +
           "\n";
  if (action == "resolve")
    return "resolved " + text_of(answer, "id") + " by " + text_of(answer, "resolved_by") + "\n";
  auto& rule = cl.arguments[0];
  if (action == "unsilence")
    return rule + " is not silenced\n";
  for (auto& s : field(answer, "silences"))
    if (text_of(s, "rule") == rule)
      return "silenced " + rule + " until " + text_of(s, "until") + " by " + text_of(s, "by") +
             "\n";
  return "the agent did not list " + rule + " among its silences\n";
}

agent_request request_for(const parsed_command_line& cl) {
  auto& action = cl.alerts_action;
  agent_request request;
  if (action == "list") {
    std::string query;
    if (!cl.alert_state.empty())
      query = "state=" + cl.alert_state;
    if (cl.alert_limit != 0)
      query += (query.empty() ? "limit=" : "&limit=") + std::to_string(cl.alert_limit);
    request.target = "/api/alerts" + (query.empty() ? "" : "?" + query);
    return request;
  }
  if (action == "rules") {
    request.target = "/api/alerts/rules";
    return request;
  }
  request.method = "POST";
  request.needs_control = true;
  if (action == "ack" || action == "resolve") {
    request.target = action == "ack" ? "/api/alerts/acknowledge" : "/api/alerts/resolve";
    request.body = {{"id", cl.arguments[0]}};
  } else {
    // A silence of "0s" lifts it.
    request.target = "/api/alerts/silence";
    request.body = {{"rule", cl.arguments[0]},
                    {"duration", action == "silence" ? cl.arguments[1] : "0s"}};
  }
  return request;
}

} // namespace

std::string alerts_table(const json& alerts, bool colour, int64_t now_ms) {
  std::vector<table_row> rows{
      {{"SEVERITY"}, {"STATE"}, {"RULE"}, {"SUBJECT"}, {"VALUE/PEAK"}, {"SINCE"}, {"ACK"}, {"ID"}}};
  for (auto& a : alerts) {
    auto severity = text_of(a, "severity");
    auto state = text_of(a, "state");
    if (auto why = text_of(a, "suppressed_reason"); !why.empty())
      state += " (" + why + ")";
    rows.push_back({{severity, colour ? severity_colour(severity) : nullptr},
                    {state},
                    {text_of(a, "rule")},
                    {or_dash(text_of(a, "subject"))},
                    {number_text(field(a, "value")) + " / " + number_text(field(a, "peak"))},
                    {age_text(field(a, "started_at"), now_ms)},
                    {or_dash(text_of(a, "acknowledged_by"))},
                    {text_of(a, "id")}});
  }
  return render(rows);
}

bool colour_wanted(int fd) {
  auto* no_colour = std::getenv("NO_COLOR");
  return ::isatty(fd) == 1 && (no_colour == nullptr || *no_colour == '\0');
}

int run_alerts_command(const parsed_command_line& cl) {
  auto answer = ask_agent(cl, request_for(cl));
  if (answer.exit_code != 0)
    return answer.exit_code;
  if (answer.status / 100 != 2 || answer.body.is_discarded())
    return report_api_error(answer);
  std::cout << (cl.json_output ? answer.body.dump(2) + "\n" : describe(cl, answer.body));
  return 0;
}

} // namespace vigil
