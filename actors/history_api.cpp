#include "actors/history_api.hpp"

#include "actors/history_store.hpp"
#include "io/logs/timestamp_parser.hpp"

#include <caf/all.hpp>

#include <array>
#include <cctype>
#include <charconv>
#include <ctime>
#include <limits>

namespace vigil {

namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr int64_t second_ms = 1000;
constexpr int64_t max_buckets = 100'000; // per answer: bounds the work of one request
constexpr int64_t default_max_buckets = 1000;
constexpr int64_t default_range_ms = 3600 * second_ms;

bool all_digits(std::string_view s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

// Reads exactly `n` digits at `pos`.
std::optional<int> digits(std::string_view s, std::size_t& pos, std::size_t n) {
  if (pos + n > s.size() || !all_digits(s.substr(pos, n)))
    return std::nullopt;
  int v = 0;
  std::from_chars(s.data() + pos, s.data() + pos + n, v);
  pos += n;
  return v;
}

// The digits after a decimal point as milliseconds ("25" → 250); nullopt when there are none
// or one is not a digit. Digits beyond milliseconds are ignored.
std::optional<int64_t> fraction_ms(std::string_view digits) {
  if (!all_digits(digits))
    return std::nullopt;
  int64_t millis = 0;
  int64_t scale = 100;
  for (char c : digits) {
    millis += (c - '0') * scale;
    scale /= 10;
  }
  return millis;
}

bool expect(std::string_view s, std::size_t& pos, char c) {
  if (pos < s.size() && s[pos] == c) {
    ++pos;
    return true;
  }
  return false;
}

// YYYY-MM-DD[(T| )HH:MM[:SS[.fff]]][Z|±HH:MM|±HHMM]; no zone: UTC.
std::optional<int64_t> parse_iso8601(std::string_view s) {
  std::size_t pos = 0;
  std::tm tm{};
  auto year = digits(s, pos, 4);
  if (!year || !expect(s, pos, '-'))
    return std::nullopt;
  auto month = digits(s, pos, 2);
  if (!month || !expect(s, pos, '-'))
    return std::nullopt;
  auto day = digits(s, pos, 2);
  if (!day)
    return std::nullopt;
  int hour = 0, minute = 0, second = 0;
  int64_t millis = 0;
  if (pos < s.size() && (s[pos] == 'T' || s[pos] == 't' || s[pos] == ' ')) {
    ++pos;
    auto h = digits(s, pos, 2);
    if (!h || !expect(s, pos, ':'))
      return std::nullopt;
    auto m = digits(s, pos, 2);
    if (!m)
      return std::nullopt;
    hour = *h;
    minute = *m;
    if (expect(s, pos, ':')) {
      auto sec = digits(s, pos, 2);
      if (!sec)
        return std::nullopt;
      second = *sec;
      if (expect(s, pos, '.') || expect(s, pos, ',')) {
        std::size_t start = pos;
        while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos])))
          ++pos;
        auto fraction = fraction_ms(s.substr(start, pos - start));
        if (!fraction)
          return std::nullopt;
        millis = *fraction;
      }
    }
  }
  int64_t offset_s = 0;
  if (pos < s.size()) {
    if (s[pos] == 'Z' || s[pos] == 'z') {
      ++pos;
    } else if (s[pos] == '+' || s[pos] == '-') {
      int sign = s[pos] == '-' ? -1 : 1;
      ++pos;
      auto oh = digits(s, pos, 2);
      expect(s, pos, ':');
      auto om = digits(s, pos, 2);
      if (!oh || !om || *oh > 23 || *om > 59)
        return std::nullopt;
      offset_s = sign * (*oh * 3600 + *om * 60);
    }
  }
  if (pos != s.size())
    return std::nullopt;
  if (*month < 1 || *month > 12 || *day < 1 || *day > 31 || hour > 23 || minute > 59 || second > 60)
    return std::nullopt;
  tm.tm_year = *year - 1900;
  tm.tm_mon = *month - 1;
  tm.tm_mday = *day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  auto t = ::timegm(&tm);
  if (tm.tm_mday != *day) // 2025-02-30 normalised to March: not a date
    return std::nullopt;
  return (static_cast<int64_t>(t) - offset_s) * second_ms + millis;
}

std::string iso(int64_t ms) {
  return format_iso8601_utc(log_time{std::chrono::milliseconds{ms}},
                            ms % second_ms == 0 ? timestamp_precision::seconds
                                                : timestamp_precision::milliseconds);
}

json seconds_value(int64_t ms) {
  if (ms % second_ms == 0)
    return ms / second_ms;
  return static_cast<double>(ms) / 1000.0;
}

history_api_error bad(std::string parameter, std::string detail) {
  return {std::move(parameter), std::move(detail)};
}

} // namespace

std::optional<int64_t> parse_history_time(std::string_view text) {
  // Unix seconds, optionally with a fraction.
  auto dot = text.find('.');
  auto whole = text.substr(0, dot);
  if (all_digits(whole) && whole.size() <= 12) {
    int64_t seconds = 0;
    std::from_chars(whole.data(), whole.data() + whole.size(), seconds);
    int64_t millis = 0;
    if (dot != std::string_view::npos) {
      auto fraction = fraction_ms(text.substr(dot + 1));
      if (!fraction)
        return std::nullopt;
      millis = *fraction;
    }
    return seconds * second_ms + millis;
  }
  return parse_iso8601(text);
}

std::optional<int64_t> parse_history_step(std::string_view text) {
  std::size_t n = 0;
  while (n < text.size() && std::isdigit(static_cast<unsigned char>(text[n])))
    ++n;
  if (n == 0 || n > 9)
    return std::nullopt;
  int64_t value = 0;
  std::from_chars(text.data(), text.data() + n, value);
  auto unit = text.substr(n);
  int64_t scale = 0;
  if (unit.empty() || unit == "s")
    scale = second_ms;
  else if (unit == "m")
    scale = 60 * second_ms;
  else if (unit == "h")
    scale = 3600 * second_ms;
  else if (unit == "d")
    scale = 86400 * second_ms;
  if (scale == 0 || value <= 0)
    return std::nullopt;
  return value * scale;
}

std::string format_history_step(int64_t step_ms) {
  for (auto [scale, unit] : {std::pair{86400 * second_ms, "d"}, std::pair{3600 * second_ms, "h"},
                             std::pair{60 * second_ms, "m"}, std::pair{second_ms, "s"}})
    if (step_ms % scale == 0)
      return std::to_string(step_ms / scale) + unit;
  return std::to_string(step_ms) + "ms";
}

std::variant<history_api_request, history_api_error>
parse_history_request(const std::map<std::string, std::string>& query, int64_t now_ms) {
  history_api_request r;
  auto param = [&](const char* name) -> const std::string* {
    auto i = query.find(name);
    return i == query.end() ? nullptr : &i->second;
  };
  if (auto v = param("metric")) {
    if (v->empty())
      return bad("metric", "expected a metric name; GET /api/history lists them");
    r.metric = *v;
  }
  r.to_ms = now_ms;
  if (auto v = param("to")) {
    auto t = parse_history_time(*v);
    if (!t)
      return bad("to",
                 "expected unix seconds or ISO 8601 (2025-01-01T10:00:00Z), not \"" + *v + "\"");
    r.to_ms = *t;
  }
  r.from_ms = r.to_ms - default_range_ms;
  if (auto v = param("from")) {
    auto t = parse_history_time(*v);
    if (!t)
      return bad("from",
                 "expected unix seconds or ISO 8601 (2025-01-01T10:00:00Z), not \"" + *v + "\"");
    r.from_ms = *t;
  }
  if (r.from_ms >= r.to_ms)
    return bad("from", "must be before to (" + iso(r.to_ms) + "), not " + iso(r.from_ms));
  auto range = r.to_ms - r.from_ms;
  if (auto v = param("step")) {
    auto step = parse_history_step(*v);
    if (!step)
      return bad("step", "expected a duration like 10s, 1m, 1h or 1d, not \"" + *v + "\"");
    if (range / *step > max_buckets)
      return bad("step", "\"" + *v + "\" gives more than " + std::to_string(max_buckets) +
                             " points over the range; use a larger step");
    r.step_ms = *step;
  } else {
    constexpr std::array<int64_t, 8> steps{10, 30, 60, 300, 900, 3600, 21600, 86400};
    r.step_ms = steps.back() * second_ms;
    for (auto s : steps)
      if (range / (s * second_ms) <= default_max_buckets) {
        r.step_ms = s * second_ms;
        break;
      }
  }
  return r;
}

json history_points_json(const history_api_request& request, const history_series& series) {
  json points = json::array();
  for (const auto& [t, avg, min, max] : series.buckets)
    points.push_back({seconds_value(t), avg, min, max});
  return {{"metric", request.metric},
          {"step", format_history_step(request.step_ms)},
          {"step_seconds", seconds_value(request.step_ms)},
          {"from", iso(request.from_ms)},
          {"to", iso(request.to_ms)},
          {"tier", series.tier},
          {"points", std::move(points)}};
}

void answer_history(control_api_actor::stateful_pointer<control_api_state> self,
                    const http_request& req, http_responder respond) {
  auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  auto parsed = parse_history_request(req.query, now_ms);
  if (auto* err = std::get_if<history_api_error>(&parsed))
    return respond(json_error_response(400, "bad request", err->parameter + ": " + err->detail));
  auto request = std::get<history_api_request>(std::move(parsed));
  auto history = find_history(self->home_system());
  if (!history)
    return respond(json_error_response(503, "unavailable", "the history store is restarting"));
  auto unavailable = [=](caf::error& err) {
    respond(json_error_response(503, "history unavailable", self->home_system().render(err)));
  };
  if (request.metric.empty()) {
    self->request(history, 10s, atom::query_v)
        .then(
            [=](const std::vector<std::string>& names) {
              respond({200,
                       "application/json",
                       json{{"metrics", names}, {"count", names.size()}}.dump(),
                       {}});
            },
            unavailable);
    return;
  }
  history_query q;
  q.name = request.metric;
  q.labels = std::string{}; // the documented names carry their entity: no labels
  q.from_ms = request.from_ms;
  q.to_ms = request.to_ms;
  q.step_ms = request.step_ms;
  self->request(history, 10s, atom::query_v, std::move(q))
      .then(
          [=](const std::vector<history_series>& found) {
            if (found.empty())
              return respond(json_error_response(404, "not found",
                                                 "metric: no history of \"" + request.metric +
                                                     "\"; GET /api/history lists the metrics"));
            respond(
                {200, "application/json", history_points_json(request, found.front()).dump(), {}});
          },
          unavailable);
}

} // namespace vigil
