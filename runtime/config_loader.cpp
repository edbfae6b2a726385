#include "runtime/config_loader.hpp"

#include "actors/alert_rule.hpp"
#include "actors/alert_sender.hpp"
#include "actors/log_sources.hpp"
#include "io/http/address_filter.hpp"
#include "runtime/config_schema.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <sys/stat.h>

namespace vigil {

using nlohmann::json;

namespace {

// api_patch: the body of POST /api/config, checked on its own before it is merged into the
// config file's document.
enum class layer_kind { file, secrets_file, api_patch, environment, command_line };

struct layer {
  layer_kind kind;
  std::string origin; // file path, or empty for environment/command line
  json doc;
};

std::string describe_key(const layer& l, const std::string& key,
                         const std::map<std::string, std::string>& option_names) {
  switch (l.kind) {
  case layer_kind::file:
  case layer_kind::secrets_file:
    return l.origin + ": key '" + key + "'";
  case layer_kind::environment:
    return "environment " + l.origin + " (key '" + key + "')";
  case layer_kind::api_patch:
    return "POST /api/config: key '" + key + "'";
  case layer_kind::command_line: {
    auto i = option_names.find(key);
    return "option " + (i != option_names.end() ? i->second : "--" + key);
  }
  }
  return key;
}

template <class T>
struct is_vector : std::false_type {};
template <class T>
struct is_vector<std::vector<T>> : std::true_type {
  using element = T;
};

// "a.b.c", 2 -> "a.b"
std::string first_segments(const std::string& key, size_t n) {
  size_t pos = 0;
  for (size_t i = 0; i < n; ++i) {
    pos = key.find('.', i == 0 ? 0 : pos + 1);
    if (pos == std::string::npos)
      return key;
  }
  return key.substr(0, pos);
}

const char* json_type_name(const json& j) {
  return j.type_name();
}

// Reads one layer into the settings. Keys absent from the layer keep their value.
class layer_reader {
public:
  layer_reader(const layer& l, const json& node, std::string prefix,
               const std::map<std::string, std::string>& option_names,
               std::vector<std::string>& errors)
      : layer_(l)
      , node_(node)
      , prefix_(std::move(prefix))
      , option_names_(option_names)
      , errors_(errors) {}

  template <class T>
  void operator()(std::string_view key, T& value, const field_rules& r = {}) {
    std::string full = prefix_ + std::string{key};
    known_.push_back(std::string{key});
    const json* j = find(key);
    if (j == nullptr) {
      if (r.required)
        fail(full, "is required");
      return;
    }
    if (r.cli_only && layer_.kind != layer_kind::command_line) {
      fail(full, "can only be set on the command line");
      return;
    }
    if (layer_.kind == layer_kind::secrets_file && !r.secret && prefix_.empty()) {
      fail(full, "is not a secret; set it in the config file, not the secrets file");
      return;
    }
    if (layer_.kind == layer_kind::api_patch && r.secret && prefix_.empty()) {
      fail(full, "is a secret; set it in the secrets file, not through the API");
      return;
    }
    read(full, *j, value, r);
  }

  // Keys present in this object that no field claimed.
  void report_unknown_keys() {
    std::vector<std::string> unknown;
    collect_unknown(node_, "", unknown);
    for (auto& k : unknown) {
      // Suggest among known keys cut to the same depth: "lgo" -> "log", "api.contol_port"
      // -> "api.control_port".
      auto depth = std::count(k.begin(), k.end(), '.');
      std::vector<std::string> candidates;
      for (auto& known : known_)
        candidates.push_back(first_segments(known, static_cast<size_t>(depth) + 1));
      std::string msg = "unknown key";
      if (auto m = closest_match(k, candidates))
        msg += "; did you mean '" + prefix_ + *m + "'?";
      fail(prefix_ + k, msg);
    }
  }

private:
  const json* find(std::string_view dotted) const {
    const json* cur = &node_;
    size_t start = 0;
    while (true) {
      auto dot = dotted.find('.', start);
      auto part = std::string{dotted.substr(start, dot - start)};
      if (!cur->is_object())
        return nullptr;
      auto i = cur->find(part);
      if (i == cur->end())
        return nullptr;
      cur = &*i;
      if (dot == std::string_view::npos)
        return cur;
      start = dot + 1;
    }
  }

  bool is_known_or_prefix(const std::string& path) const {
    for (auto& k : known_)
      if (k == path ||
          (k.size() > path.size() && k.compare(0, path.size(), path) == 0 && k[path.size()] == '.'))
        return true;
    return false;
  }

  void collect_unknown(const json& obj, const std::string& at, std::vector<std::string>& out) {
    if (!obj.is_object())
      return;
    for (auto& [k, v] : obj.items()) {
      auto path = at.empty() ? k : at + "." + k;
      if (std::find(known_.begin(), known_.end(), path) != known_.end())
        continue;
      if (is_known_or_prefix(path)) {
        if (v.is_object())
          collect_unknown(v, path, out);
        else
          out.push_back(path + " (expected an object)");
        continue;
      }
      out.push_back(path);
    }
  }

  void fail(const std::string& full_key, const std::string& what) {
    errors_.push_back(describe_key(layer_, full_key, option_names_) + " " + what);
  }

  bool lenient() const {
    return layer_.kind == layer_kind::environment || layer_.kind == layer_kind::command_line;
  }

  void read(const std::string& key, const json& j, std::string& out, const field_rules& r) {
    if (!j.is_string())
      return fail(key, std::string{"must be a string, not "} + json_type_name(j));
    auto v = j.get<std::string>();
    if (!r.one_of.empty() && std::find(r.one_of.begin(), r.one_of.end(), v) == r.one_of.end())
      return fail(key, "must be one of " + join(r.one_of) + ", not \"" + v + "\"");
    out = std::move(v);
  }

  void read(const std::string& key, const json& j, bool& out, const field_rules&) {
    if (j.is_boolean()) {
      out = j.get<bool>();
      return;
    }
    if (lenient() && j.is_string()) {
      auto v = j.get<std::string>();
      if (v == "true" || v == "1" || v == "yes" || v == "on") {
        out = true;
        return;
      }
      if (v == "false" || v == "0" || v == "no" || v == "off") {
        out = false;
        return;
      }
    }
    fail(key, "must be true or false");
  }

  template <class Int>
  requires std::is_integral_v<Int>
  void read(const std::string& key, const json& j, Int& out, const field_rules& r) {
    std::optional<int64_t> v;
    if (j.is_number_integer()) {
      v = j.get<int64_t>();
    } else if (j.is_string() && (r.byte_size || lenient())) {
      auto s = j.get<std::string>();
      if (r.byte_size) {
        if (auto b = parse_byte_size(s); b && *b <= static_cast<uint64_t>(INT64_MAX))
          v = static_cast<int64_t>(*b);
      } else {
        int64_t x = 0;
        auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), x);
        if (ec == std::errc{} && p == s.data() + s.size())
          v = x;
      }
    }
    if (!v)
      return fail(key, r.byte_size ? "must be a size in bytes (e.g. 1048576 or \"64MiB\")"
                                   : "must be an integer");
    constexpr auto type_max = std::numeric_limits<Int>::max();
    int64_t hi = r.max;
    if constexpr (static_cast<uint64_t>(type_max) < static_cast<uint64_t>(INT64_MAX))
      hi = std::min<int64_t>(r.max, static_cast<int64_t>(type_max));
    if (*v < r.min || *v > hi)
      return fail(key, "must be between " + std::to_string(r.min) + " and " + std::to_string(hi) +
                           ", not " + std::to_string(*v));
    out = static_cast<Int>(*v);
  }

  void read(const std::string& key, const json& j, double& out, const field_rules& r) {
    std::optional<double> v;
    if (j.is_number()) {
      v = j.get<double>();
    } else if (lenient() && j.is_string()) {
      auto s = j.get<std::string>();
      char* end = nullptr;
      double x = std::strtod(s.c_str(), &end);
      if (!s.empty() && end == s.c_str() + s.size())
        v = x;
    }
    if (!v || !std::isfinite(*v))
      return fail(key, "must be a number");
    if (*v < static_cast<double>(r.min) || *v > static_cast<double>(r.max))
      return fail(key, "must be between " + std::to_string(r.min) + " and " +
                           std::to_string(r.max) + ", not " + j.dump());
    out = *v;
  }

  void read(const std::string& key, const json& j, duration& out, const field_rules& r) {
    std::optional<duration> v;
    if (j.is_number()) // plain numbers are seconds, as in the seed daemon's flags
      v = duration{static_cast<int64_t>(j.get<double>() * 1000)};
    else if (j.is_string())
      v = parse_duration(j.get<std::string>());
    if (!v)
      return fail(key, "must be a duration such as \"250ms\", \"30s\", \"5m\", \"2h\" or a "
                       "number of seconds");
    if (v->count() < r.min || v->count() > r.max)
      return fail(key, "must be at least " + format_duration(duration{r.min}));
    out = *v;
  }

  void read(const std::string& key, const json& j, std::vector<std::string>& out,
            const field_rules& r) {
    if (lenient() && j.is_string()) { // comma-separated on the command line
      std::vector<std::string> xs;
      std::stringstream ss{j.get<std::string>()};
      for (std::string item; std::getline(ss, item, ',');)
        if (!item.empty())
          xs.push_back(item);
      return read(key, json(xs), out, r);
    }
    if (!j.is_array())
      return fail(key, "must be a list of strings");
    std::vector<std::string> xs;
    for (auto& e : j) {
      if (!e.is_string())
        return fail(key, "must be a list of strings");
      auto s = e.get<std::string>();
      if (!r.one_of.empty() && std::find(r.one_of.begin(), r.one_of.end(), s) == r.one_of.end())
        return fail(key, "items must be one of " + join(r.one_of) + ", not \"" + s + "\"");
      xs.push_back(std::move(s));
    }
    out = std::move(xs);
  }

  template <class T>
  requires(!std::is_same_v<T, std::string>) void read(const std::string& key, const json& j,
                                                      std::vector<T>& out, const field_rules&) {
    if (!j.is_array())
      return fail(key, "must be a list of objects");
    std::vector<T> xs;
    for (size_t i = 0; i < j.size(); ++i) {
      auto item_key = key + "[" + std::to_string(i) + "]";
      if (!j[i].is_object()) {
        fail(item_key, "must be an object");
        continue;
      }
      T x{};
      if constexpr (std::is_same_v<T, alert_rule_settings>) {
        // A built-in rule's id: the keys given change that rule, the rest stays built-in.
        if (auto id = j[i].find("id"); id != j[i].end() && id->is_string())
          for (auto& builtin : builtin_alert_rules())
            if (builtin.id == id->template get<std::string>())
              x = builtin;
      }
      layer_reader sub{layer_, j[i], item_key + ".", option_names_, errors_};
      describe(sub, x);
      sub.report_unknown_keys();
      xs.push_back(std::move(x));
    }
    out = std::move(xs);
  }

  static std::string join(const std::vector<std::string>& xs) {
    std::string r;
    for (auto& x : xs)
      r += (r.empty() ? "" : ", ") + (x.empty() ? std::string{"\"\""} : x);
    return r;
  }

  const layer& layer_;
  const json& node_;
  std::string prefix_;
  const std::map<std::string, std::string>& option_names_;
  std::vector<std::string>& errors_;
  std::vector<std::string> known_;
};

// Writes the settings as JSON in the config file's shape (for `config show`).
class json_writer {
public:
  json doc = json::object();

  template <class T>
  void operator()(std::string_view key, T& value, const field_rules& r = {}) {
    if (r.cli_only)
      return;
    json& slot = at(key);
    if (r.secret)
      slot = redacted(value);
    else
      slot = to_json(value);
  }

private:
  json& at(std::string_view dotted) {
    json* cur = &doc;
    size_t start = 0;
    while (true) {
      auto dot = dotted.find('.', start);
      auto part = std::string{dotted.substr(start, dot - start)};
      cur = &(*cur)[part];
      if (dot == std::string_view::npos)
        return *cur;
      start = dot + 1;
    }
  }

  template <class T>
  static json redacted(const T& value) {
    if constexpr (std::is_same_v<T, std::string>)
      return value.empty() ? json("") : json("<redacted>");
    else if constexpr (is_vector<T>::value)
      return value.empty() ? json::array() : json("<redacted>");
    else
      return json("<redacted>");
  }

  static json to_json(const duration& d) { return format_duration(d); }
  template <class T>
  static json to_json(const std::vector<T>& xs) {
    json arr = json::array();
    for (auto x : xs) {
      if constexpr (std::is_same_v<T, std::string>) {
        arr.push_back(x);
      } else {
        json_writer w;
        describe(w, x);
        arr.push_back(std::move(w.doc));
      }
    }
    return arr;
  }
  template <class T>
  static json to_json(const T& x) {
    return json(x);
  }
};

std::string position_of(const std::string& text, size_t byte) {
  size_t line = 1, col = 1;
  for (size_t i = 0; i < byte && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(col);
}

// Reads and parses a JSON-with-comments file; nullopt with an error when it fails.
std::optional<json> read_json_file(const std::string& path, std::vector<std::string>& errors) {
  std::ifstream in{path};
  if (!in) {
    errors.push_back(path + ": cannot be read: " + std::strerror(errno));
    return std::nullopt;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  auto text = ss.str();
  try {
    auto doc = json::parse(text, nullptr, true, /*ignore_comments=*/true);
    if (!doc.is_object()) {
      errors.push_back(path + ": must contain a JSON object");
      return std::nullopt;
    }
    return doc;
  } catch (const json::parse_error& e) {
    std::string what = e.what();
    if (auto p = what.find("; "); p != std::string::npos) // strip nlohmann's prefix
      what = what.substr(p + 2);
    errors.push_back(path + ": invalid JSON at " + position_of(text, e.byte ? e.byte - 1 : 0) +
                     ": " + what);
    return std::nullopt;
  }
}

bool is_loopback(const std::string& address) {
  if (address == "localhost")
    return true;
  in_addr v4{};
  if (inet_pton(AF_INET, address.c_str(), &v4) == 1)
    return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, address.c_str(), &v6) == 1)
    return IN6_IS_ADDR_LOOPBACK(&v6);
  return false;
}

// A channel a rule sends to must be set up; the mail settings must make a valid mail.
void check_alert_channels(const settings& s, std::vector<std::string>& errors) {
  auto& a = s.alerts;
  auto check = [&](const std::string& key, const std::vector<std::string>& channels) {
    for (auto& c : channels)
      if ((c == "webhook" && a.webhook.url.empty()) || (c == "email" && a.email.url.empty()))
        errors.push_back(key + ": \"" + c + "\" needs alerts." + c + ".url");
  };
  check("alerts.channels", a.channels);
  for (size_t i = 0; i < a.rules.size(); ++i)
    check("alerts.rules[" + std::to_string(i) + "].channels", a.rules[i].channels);
  if (!a.webhook.url.empty() && a.webhook.url.rfind("http://", 0) != 0 &&
      a.webhook.url.rfind("https://", 0) != 0)
    errors.push_back("alerts.webhook.url: must start with http:// or https://, not \"" +
                     a.webhook.url + "\"");
  if (!a.email.url.empty())
    if (auto e = validate_smtp_settings(smtp_settings_of(a.email)))
      errors.push_back("alerts.email: " + *e);
  if (a.retry_initial > a.retry_max)
    errors.push_back("alerts.retry_initial: must not exceed alerts.retry_max");
}

void validate_semantics(const settings& s, std::vector<std::string>& errors) {
  in_addr v4{};
  in6_addr v6{};
  if (s.api.bind != "localhost" && inet_pton(AF_INET, s.api.bind.c_str(), &v4) != 1 &&
      inet_pton(AF_INET6, s.api.bind.c_str(), &v6) != 1)
    errors.push_back("api.bind: \"" + s.api.bind + "\" is not an IP address");
  else if (!is_loopback(s.api.bind) && s.api.tokens.empty())
    errors.push_back("api.bind: refusing to listen on non-loopback address " + s.api.bind +
                     " without api.tokens (set them in the secrets file)");
  for (auto& t : s.api.tokens)
    if (t.token.size() < 16)
      errors.push_back("api.tokens: a token is shorter than 16 characters");
  std::set<uint16_t> ports;
  for (size_t i = 0; i < s.api.allow_from.size(); ++i) {
    std::string error;
    if (!parse_cidr(s.api.allow_from[i], error))
      errors.push_back("api.allow_from[" + std::to_string(i) + "]: " + error);
  }
  for (auto p : {s.api.control_port, s.api.ws_port, s.api.telemetry_ws_port})
    if (p != 0 && !ports.insert(p).second)
      errors.push_back("api: control_port, ws_port and telemetry_ws_port must differ (port " +
                       std::to_string(p) + " is used twice)");
  if (s.state_dir.empty())
    errors.push_back("state_dir: must not be empty");
  if (auto& sock = s.telemetry.containers.socket; sock.empty() || sock[0] != '/')
    errors.push_back("telemetry.containers.socket: must be an absolute path, not \"" + sock + "\"");
  else if (sock.size() >= 108) // sockaddr_un::sun_path
    errors.push_back("telemetry.containers.socket: a unix socket path must be shorter than 108 "
                     "bytes");
  if (auto& bus = s.telemetry.services.bus_address;
      !bus.empty() && bus.find(':') == std::string::npos)
    errors.push_back("telemetry.services.bus_address: \"" + bus +
                     "\" is not a D-Bus address (e.g. unix:path=/run/dbus/system_bus_socket)");
  if (s.supervision.backoff_initial > s.supervision.backoff_max)
    errors.push_back("supervision.backoff_initial: must not exceed supervision.backoff_max");
  for (size_t i = 0; i < s.sources.files.size(); ++i) {
    auto& f = s.sources.files[i];
    auto key = "sources.files[" + std::to_string(i) + "]";
    if (f.path.empty() || f.path[0] != '/')
      errors.push_back(key + ".path: must be an absolute path, not \"" + f.path + "\"");
    if (f.multiline == "start_pattern" && f.multiline_start.empty())
      errors.push_back(key + ".multiline_start: required when multiline is \"start_pattern\"");
    // Patterns are compiled here too, so a bad one is refused at load (and on reload)
    // rather than crashing the actor that would use it.
    if (!f.keywords.empty() || !f.severity_words.empty()) {
      try {
        hyperscan_rule_set::compile(classifier_rules_for(s.sources, f));
      } catch (const std::invalid_argument& e) {
        errors.push_back(key + ": " + e.what());
      }
    }
    if (auto multiline = multiline_options_for(f);
        multiline && multiline->mode == multiline_mode::start_pattern &&
        !multiline->start_pattern.empty()) {
      try {
        multiline_joiner{*multiline};
      } catch (const std::invalid_argument& e) {
        errors.push_back(key + ".multiline_start: " + e.what());
      }
    }
  }
  try {
    hyperscan_rule_set::compile(classifier_rules_for(s.sources, {}));
  } catch (const std::invalid_argument& e) {
    errors.push_back(std::string{"sources.keywords: "} + e.what());
  }
  for (size_t i = 0; i < s.alerts.rules.size(); ++i) {
    auto key = "alerts.rules[" + std::to_string(i) + "]";
    for (auto& e : check_alert_rule(s.alerts.rules[i], key))
      errors.push_back(e);
    for (size_t k = 0; k < i; ++k)
      if (s.alerts.rules[k].id == s.alerts.rules[i].id)
        errors.push_back(key + ".id: \"" + s.alerts.rules[i].id + "\" is configured twice");
  }
  check_alert_channels(s, errors);
  if (!s.rabbitmq.url.empty() && s.rabbitmq.url.rfind("amqp://", 0) != 0 &&
      s.rabbitmq.url.rfind("amqps://", 0) != 0)
    errors.push_back("rabbitmq.url: must start with amqp:// or amqps://");
  if (!s.backend.url.empty() && s.backend.url.rfind("http://", 0) != 0 &&
      s.backend.url.rfind("https://", 0) != 0)
    errors.push_back("backend.url: must start with http:// or https://, not \"" + s.backend.url +
                     "\"");
}

} // namespace

std::map<std::string, std::string> vigil_environment() {
  std::map<std::string, std::string> env;
  for (auto name : {"VIGIL_RABBITMQ_URL", "VIGIL_API_TOKEN", "VIGIL_BACKEND_TOKEN"})
    if (auto v = std::getenv(name))
      env[name] = v;
  return env;
}

namespace {

// The patch without its nulls (which remove keys): what is left must be valid settings.
json without_nulls(const json& patch) {
  json out = json::object();
  for (auto& [key, value] : patch.items())
    if (value.is_object())
      out[key] = without_nulls(value);
    else if (!value.is_null())
      out[key] = value;
  return out;
}

// Checks `patch` on its own (types, known keys, no secrets) and merges it into `doc`.
void apply_config_patch(const json& patch, json& doc, const config_inputs& in,
                        std::vector<std::string>& errors) {
  if (!patch.is_object()) {
    errors.push_back(std::string{"POST /api/config: the body must be a JSON object, not "} +
                     json_type_name(patch));
    return;
  }
  layer checked{layer_kind::api_patch, "", without_nulls(patch)};
  settings scratch;
  layer_reader reader{checked, checked.doc, "", in.option_names, errors};
  describe(reader, scratch);
  reader.report_unknown_keys();
  doc.merge_patch(patch);
}

} // namespace

config_result load_config(const config_inputs& in) {
  config_result result;
  std::vector<layer> layers;
  struct stat st {};
  bool file_exists = ::stat(in.config_path.c_str(), &st) == 0;
  if (file_exists || in.config_path_explicit || in.config_patch) {
    std::optional<json> doc = json::object();
    if (file_exists || in.config_path_explicit)
      doc = read_json_file(in.config_path, result.errors);
    if (doc && in.config_patch) {
      apply_config_patch(*in.config_patch, *doc, in, result.errors);
      result.patched_document = *doc;
    }
    if (doc)
      layers.push_back({layer_kind::file, in.config_path, std::move(*doc)});
  }
  // The secrets file's location may itself come from the config file or a flag.
  std::string secrets_path = settings{}.secrets_file;
  for (auto& l : layers)
    if (l.doc.contains("secrets_file") && l.doc["secrets_file"].is_string())
      secrets_path = l.doc["secrets_file"].get<std::string>();
  if (in.command_line.contains("secrets_file") && in.command_line["secrets_file"].is_string())
    secrets_path = in.command_line["secrets_file"].get<std::string>();
  if (!secrets_path.empty() && ::stat(secrets_path.c_str(), &st) == 0) {
    if ((st.st_mode & 077) != 0) {
      char mode[8];
      std::snprintf(mode, sizeof mode, "%04o", st.st_mode & 07777);
      result.errors.push_back(secrets_path +
                              ": secrets file is readable by group or others (mode " + mode +
                              "); run chmod 600 " + secrets_path);
    } else if (auto doc = read_json_file(secrets_path, result.errors)) {
      layers.push_back({layer_kind::secrets_file, secrets_path, std::move(*doc)});
    }
  }
  auto env_layer = [&](const char* var, json doc) {
    layers.push_back({layer_kind::environment, var, std::move(doc)});
  };
  if (auto i = in.environment.find("VIGIL_RABBITMQ_URL"); i != in.environment.end())
    env_layer("VIGIL_RABBITMQ_URL", {{"rabbitmq", {{"url", i->second}}}});
  if (auto i = in.environment.find("VIGIL_BACKEND_TOKEN"); i != in.environment.end())
    env_layer("VIGIL_BACKEND_TOKEN", {{"backend", {{"token", i->second}}}});
  if (auto i = in.environment.find("VIGIL_API_TOKEN"); i != in.environment.end())
    env_layer("VIGIL_API_TOKEN",
              {{"api",
                {{"tokens", json::array({{{"token", i->second},
                                          {"scopes", json::array({"read", "control"})}}})}}}});
  layers.push_back({layer_kind::command_line, "", in.command_line});

  settings s;
  for (auto& l : layers) {
    layer_reader reader{l, l.doc, "", in.option_names, result.errors};
    describe(reader, s);
    reader.report_unknown_keys();
  }
  if (!result.errors.empty())
    return result;
  validate_semantics(s, result.errors);
  if (!result.errors.empty()) {
    // Keys that passed alone but not together: most come from the file, so it is named.
    if (!layers.empty() && layers.front().kind == layer_kind::file)
      for (auto& e : result.errors)
        e = layers.front().origin + ": " + e;
    return result;
  }
  if (!layers.empty() && layers.front().kind == layer_kind::file &&
      (st = {}, ::stat(in.config_path.c_str(), &st) == 0) && (st.st_mode & 044) != 0 &&
      (!s.rabbitmq.url.empty() || !s.api.tokens.empty() || !s.backend.token.empty() ||
       !s.alerts.webhook.token.empty() || !s.alerts.email.password.empty())) {
    auto& doc = layers.front().doc;
    auto has = [&](const char* pointer) { return doc.contains(json::json_pointer{pointer}); };
    bool has_secret = (has("/rabbitmq/url") &&
                       doc["rabbitmq"]["url"].get<std::string>().find('@') != std::string::npos) ||
                      has("/api/tokens") || has("/backend/token") || has("/alerts/webhook/token") ||
                      has("/alerts/email/password");
    if (has_secret)
      result.warnings.push_back(in.config_path +
                                ": holds secrets but is readable by others; move them to " +
                                s.secrets_file + " (mode 0600)");
  }
  result.value = std::make_shared<const settings>(std::move(s));
  return result;
}

json settings_to_json(const settings& s) {
  json_writer w;
  auto copy = s;
  describe(w, copy);
  return std::move(w.doc);
}

std::optional<duration> parse_duration(std::string_view text) {
  double value = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || value < 0)
    return std::nullopt;
  std::string_view unit{p, static_cast<size_t>(text.data() + text.size() - p)};
  double ms = 0;
  if (unit == "ms")
    ms = value;
  else if (unit == "s" || unit.empty())
    ms = value * 1e3;
  else if (unit == "m" || unit == "min")
    ms = value * 60e3;
  else if (unit == "h")
    ms = value * 3600e3;
  else if (unit == "d")
    ms = value * 86400e3;
  else
    return std::nullopt;
  return duration{static_cast<int64_t>(ms)};
}

std::string format_duration(duration d) {
  auto ms = d.count();
  if (ms != 0 && ms % 86400000 == 0)
    return std::to_string(ms / 86400000) + "d";
  if (ms != 0 && ms % 3600000 == 0)
    return std::to_string(ms / 3600000) + "h";
  if (ms != 0 && ms % 60000 == 0)
    return std::to_string(ms / 60000) + "m";
  if (ms % 1000 == 0)
    return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

std::optional<uint64_t> parse_byte_size(std::string_view text) {
  uint64_t value = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{})
    return std::nullopt;
  std::string unit{p, static_cast<size_t>(text.data() + text.size() - p)};
  static const std::pair<const char*, uint64_t> units[] = {{"", 1},
                                                           {"B", 1},
                                                           {"KB", 1000},
                                                           {"MB", 1000'000},
                                                           {"GB", 1000'000'000},
                                                           {"KiB", 1ull << 10},
                                                           {"MiB", 1ull << 20},
                                                           {"GiB", 1ull << 30}};
  for (auto& [name, factor] : units)
    if (unit == name) {
      if (value > UINT64_MAX / factor)
        return std::nullopt;
      return value * factor;
    }
  return std::nullopt;
}

std::optional<std::string> closest_match(std::string_view key,
                                         const std::vector<std::string>& candidates) {
  auto distance = [](std::string_view a, std::string_view b) {
    std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j)
      prev[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
      cur[0] = i;
      for (size_t j = 1; j <= b.size(); ++j)
        cur[j] =
            std::min({prev[j] + 1, cur[j - 1] + 1,
                      prev[j - 1] + (std::tolower(a[i - 1]) == std::tolower(b[j - 1]) ? 0 : 1)});
      std::swap(prev, cur);
    }
    return prev[b.size()];
  };
  std::optional<std::string> best;
  size_t best_d = SIZE_MAX;
  for (auto& c : candidates) {
    auto d = distance(key, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  // Plausible typo: at most a third of the key's length, and at least one edit allowed.
  if (best && best_d <= std::max<size_t>(2, key.size() / 3))
    return best;
  return std::nullopt;
}

} // namespace vigil
