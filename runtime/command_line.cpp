#include "runtime/command_line.hpp"

#include "actors/history_api.hpp"

#include <algorithm>
#include <charconv>
#include <optional>

namespace vigil {

namespace {

struct option {
  const char* name;  // without the leading "--"
  const char* key;   // dotted config key, or "" when handled specially
  const char* value; // placeholder for help; nullptr: a switch
  const char* help;
};

// `vigil run`: every option maps onto a configuration key and overrides the file.
const option run_options[] = {
    {"config", "", "FILE", "configuration file (default /etc/vigil/vigil.json)"},
    {"secrets-file", "secrets_file", "FILE", "0600 JSON file with secrets"},
    {"state-dir", "state_dir", "DIR", "checkpoints, outbox and local event store"},
    {"log-file", "", "PATH", "watch this file or glob (repeatable; replaces sources.files)"},
    {"from-beginning", "", nullptr, "read files present at start from their first byte"},
    {"rabbitmq-url", "rabbitmq.url", "URL",
     "amqp(s)://user:pass@host:port/vhost (or VIGIL_RABBITMQ_URL)"},
    {"api-url", "backend.url", "URL", "backend base URL for heartbeats, telemetry and alerts"},
    {"bind", "api.bind", "ADDR", "listen address for the API (default 127.0.0.1)"},
    {"control-port", "api.control_port", "PORT", "control API port (default 8754)"},
    {"ws-port", "api.ws_port", "PORT", "live logs WebSocket port (default 8755)"},
    {"telemetry-ws-port", "api.telemetry_ws_port", "PORT",
     "telemetry WebSocket port (default 8756)"},
    {"node-id", "node_id", "ID", "override the persistent node id"},
    {"telemetry-interval", "telemetry.interval", "DURATION", "telemetry collection interval"},
    {"heartbeat-interval", "backend.heartbeat_interval", "DURATION", "backend heartbeat interval"},
    {"log-level", "log.level", "LEVEL", "trace, debug, info, warn, error, critical, off"},
    {"enable-fault-injection", "fault_injection", nullptr,
     "accept requests to crash actors on purpose (tests only)"},
};

const option config_options[] = {
    {"config", "", "FILE", "configuration file (default /etc/vigil/vigil.json)"},
    {"secrets-file", "secrets_file", "FILE", "0600 JSON file with secrets"},
};

const option status_options[] = {
    {"config", "", "FILE", "configuration file, to find the control port and a token"},
    {"secrets-file", "secrets_file", "FILE", "0600 JSON file with secrets"},
    {"url", "", "URL", "control API base URL (default from the configuration)"},
};

// `vigil alerts`: one table for every action; --state and --limit apply to `list` only.
const option alerts_options[] = {
    {"config", "", "FILE", "configuration file, to find the control port and a token"},
    {"secrets-file", "secrets_file", "FILE", "0600 JSON file with secrets"},
    {"url", "", "URL", "control API base URL (default from the configuration)"},
    {"state", "", "STATE", "list: only firing or only resolved alerts"},
    {"limit", "", "N", "list: the N newest alerts (1 to 10000)"},
    {"json", "", nullptr, "print the API's JSON answer instead of text"},
};

const char* const alerts_usage =
    R"(vigil alerts [list] [--state firing|resolved] [--limit N] [OPTIONS]
       vigil alerts rules [OPTIONS]
       vigil alerts ack ID [OPTIONS]
       vigil alerts resolve ID [OPTIONS]
       vigil alerts silence RULE DURATION [OPTIONS]    (DURATION: 30m, 2h, 1d)
       vigil alerts unsilence RULE [OPTIONS])";

struct alerts_action {
  const char* name;
  std::vector<std::string> arguments; // the names of its positional arguments
};

const alerts_action alerts_actions[] = {
    {"list", {}},
    {"rules", {}},
    {"ack", {"ID"}},
    {"resolve", {"ID"}},
    {"silence", {"RULE", "DURATION"}},
    {"unsilence", {"RULE"}},
};

const option secret_options[] = {
    {"config", "", "FILE", "configuration file, to find the secrets file"},
    {"secrets-file", "secrets_file", "FILE", "0600 JSON file the token is added to"},
    {"name", "", "NAME", "who holds the token (shown in the audit log)"},
    {"scope", "", "SCOPE", "read (default) or control"},
};

const option connect_options[] = {
    {"config", "", "FILE", "configuration file, to find the port and the tokens"},
    {"secrets-file", "secrets_file", "FILE", "0600 JSON file with secrets"},
    {"name", "", "NAME", "the token to put in the URL (default: the first with read scope)"},
    {"host", "", "HOST",
     "the address clients reach the agent at (default: api.bind, or this "
     "host's primary address when it listens on all)"},
};

const char* const overview =
    R"(vigil — host agent: ships error log lines to RabbitMQ without losing any,
collects telemetry, evaluates alerts and serves a control API.

Usage: vigil COMMAND [OPTIONS]

Commands:
  run                 run the agent in the foreground (what systemd starts)
  config validate     check a configuration file; exit 0 when valid
  config show         print the effective configuration (secrets redacted)
  status              ask a running agent for its status over the control API
  alerts              list, acknowledge, resolve and silence a running agent's alerts
  secret new          add a new API token to the secrets file and print it once
  connect-url         print the Quick Connect URL for the dashboard
  version             print the version
  help                this text

`vigil COMMAND --help` lists a command's options.
)";

template <size_t N>
std::string options_help(const std::string& usage, const option (&opts)[N]) {
  std::string text = "Usage: " + usage + "\n\nOptions:\n";
  for (auto& o : opts) {
    std::string left = std::string{"  --"} + o.name + (o.value ? std::string{" "} + o.value : "");
    left.resize(std::max<size_t>(left.size() + 2, 32), ' ');
    text += left + o.help + "\n";
  }
  text += "  --help                        this text\n";
  return text;
}

// Sets a dotted key in a JSON object, creating the intermediate objects.
void set_key(nlohmann::json& doc, const std::string& dotted, nlohmann::json value) {
  nlohmann::json* cur = &doc;
  size_t start = 0;
  while (true) {
    auto dot = dotted.find('.', start);
    cur = &(*cur)[dotted.substr(start, dot - start)];
    if (dot == std::string::npos)
      break;
    start = dot + 1;
  }
  *cur = std::move(value);
}

// Arguments that are not options are collected in `positionals` when it is given, and are
// errors otherwise.
template <size_t N>
void parse_options(parsed_command_line& out, const std::vector<std::string>& args, size_t first,
                   const option (&opts)[N], const std::string& usage,
                   std::vector<std::string>* positionals = nullptr) {
  for (size_t i = first; i < args.size(); ++i) {
    auto arg = args[i];
    if (arg == "--help" || arg == "-h") {
      out.help = options_help(usage, opts);
      out.cmd = command::help;
      return;
    }
    if (positionals && arg.rfind("-", 0) != 0) {
      positionals->push_back(arg);
      continue;
    }
    if (arg.rfind("--", 0) != 0) {
      out.errors.push_back("unexpected argument '" + arg + "'");
      continue;
    }
    std::optional<std::string> inline_value;
    if (auto eq = arg.find('='); eq != std::string::npos) {
      inline_value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    }
    auto name = arg.substr(2);
    auto o = std::find_if(std::begin(opts), std::end(opts),
                          [&](const option& x) { return name == x.name; });
    if (o == std::end(opts)) {
      std::vector<std::string> names;
      for (auto& x : opts)
        names.emplace_back(x.name);
      auto msg = "unknown option '" + arg + "'";
      if (auto m = closest_match(name, names))
        msg += "; did you mean '--" + *m + "'?";
      out.errors.push_back(msg);
      continue;
    }
    std::string value;
    if (o->value != nullptr) {
      if (inline_value) {
        value = *inline_value;
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        out.errors.push_back("option " + arg + " needs a value (" + o->value + ")");
        continue;
      }
    } else if (inline_value) {
      out.errors.push_back("option " + arg + " takes no value");
      continue;
    }
    auto& cfg = out.config;
    if (name == "config") {
      cfg.config_path = value;
      cfg.config_path_explicit = true;
    } else if (name == "url") {
      out.api_url = value;
    } else if (name == "name") {
      out.token_name = value;
    } else if (name == "scope") {
      if (value != "read" && value != "control")
        out.errors.push_back("option --scope must be read or control, not '" + value + "'");
      out.token_scope = value;
    } else if (name == "host") {
      out.connect_host = value;
    } else if (name == "state") {
      if (value != "firing" && value != "resolved")
        out.errors.push_back("option --state must be firing or resolved, not '" + value + "'");
      out.alert_state = value;
    } else if (name == "limit") {
      unsigned n = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec != std::errc{} || end != value.data() + value.size() || n < 1 || n > 10000)
        out.errors.push_back("option --limit must be a number from 1 to 10000, not '" + value +
                             "'");
      out.alert_limit = n;
    } else if (name == "json") {
      out.json_output = true;
    } else if (name == "log-file") {
      auto& files = cfg.command_line["sources"]["files"];
      if (!files.is_array())
        files = nlohmann::json::array();
      files.push_back({{"path", value}});
      cfg.option_names["sources.files"] = "--log-file";
    } else if (name == "from-beginning") {
      set_key(cfg.command_line, "sources.read_from", "beginning");
      cfg.option_names["sources.read_from"] = "--from-beginning";
    } else if (o->value == nullptr) {
      set_key(cfg.command_line, o->key, true);
      cfg.option_names[o->key] = arg;
    } else {
      set_key(cfg.command_line, o->key, value);
      cfg.option_names[o->key] = arg;
    }
  }
}

// `vigil alerts [ACTION] [ARGUMENTS] [OPTIONS]`; options may come between the arguments.
void parse_alerts(parsed_command_line& out, const std::vector<std::string>& args) {
  out.cmd = command::alerts;
  size_t first = 1;
  if (args.size() > 1 && args[1].rfind("-", 0) != 0) {
    out.alerts_action = args[1];
    first = 2;
  }
  auto action = std::find_if(std::begin(alerts_actions), std::end(alerts_actions),
                             [&](const alerts_action& a) { return out.alerts_action == a.name; });
  if (action == std::end(alerts_actions)) {
    std::vector<std::string> names;
    for (auto& a : alerts_actions)
      names.emplace_back(a.name);
    auto msg = "unknown alerts action '" + out.alerts_action + "'";
    if (auto m = closest_match(out.alerts_action, names))
      msg += "; did you mean '" + *m + "'?";
    out.errors.push_back(msg);
    out.help = options_help(alerts_usage, alerts_options);
    return;
  }
  parse_options(out, args, first, alerts_options, alerts_usage, &out.arguments);
  if (out.cmd == command::help)
    return;
  auto& wanted = action->arguments;
  if (out.arguments.size() < wanted.size()) {
    std::string missing;
    for (auto i = out.arguments.size(); i < wanted.size(); ++i)
      missing += (missing.empty() ? "" : " ") + wanted[i];
    out.errors.push_back("alerts " + out.alerts_action + " needs " + missing);
  }
  for (auto i = wanted.size(); i < out.arguments.size(); ++i)
    out.errors.push_back("unexpected argument '" + out.arguments[i] + "'");
  if (out.alerts_action != "list" && (!out.alert_state.empty() || out.alert_limit != 0))
    out.errors.push_back("options --state and --limit apply only to 'vigil alerts list'");
  // The agent's own parser, so that what passes here is what it accepts.
  if (out.alerts_action == "silence" && out.arguments.size() == 2 &&
      !parse_history_step(out.arguments[1]))
    out.errors.push_back("DURATION must be like 30m, 2h or 1d, not '" + out.arguments[1] +
                         "' ('vigil alerts unsilence RULE' lifts a silence)");
}

} // namespace

parsed_command_line parse_command_line(int argc, const char* const* argv) {
  parsed_command_line out;
  std::vector<std::string> args(argv + 1, argv + argc);
  out.config.environment = vigil_environment();
  if (args.empty() || args[0] == "help" || args[0] == "--help" || args[0] == "-h") {
    out.help = overview;
    if (args.empty())
      out.errors.push_back("missing command");
    return out;
  }
  auto& sub = args[0];
  if (sub == "version" || sub == "--version") {
    out.cmd = command::version;
  } else if (sub == "run") {
    out.cmd = command::run;
    parse_options(out, args, 1, run_options, "vigil run [OPTIONS]");
  } else if (sub == "secret") {
    if (args.size() < 2 || args[1] != "new") {
      out.help = options_help("vigil secret new [OPTIONS]", secret_options);
      if (args.size() < 2 || (args[1] != "--help" && args[1] != "-h"))
        out.errors.push_back("secret needs 'new'");
      return out;
    }
    out.cmd = command::secret_new;
    parse_options(out, args, 2, secret_options, "vigil secret new [OPTIONS]");
  } else if (sub == "connect-url") {
    out.cmd = command::connect_url;
    parse_options(out, args, 1, connect_options, "vigil connect-url [OPTIONS]");
  } else if (sub == "compile-patterns") {
    out.cmd = command::compile_patterns;
  } else if (sub == "status") {
    out.cmd = command::status;
    parse_options(out, args, 1, status_options, "vigil status [OPTIONS]");
  } else if (sub == "alerts") {
    parse_alerts(out, args);
  } else if (sub == "config") {
    if (args.size() < 2 || (args[1] != "validate" && args[1] != "show")) {
      if (args.size() >= 2 && (args[1] == "--help" || args[1] == "-h")) {
        out.help = options_help("vigil config validate|show [OPTIONS]", config_options);
        return out;
      }
      out.help = options_help("vigil config validate|show [OPTIONS]", config_options);
      out.errors.push_back("config needs 'validate' or 'show'");
      return out;
    }
    out.cmd = args[1] == "validate" ? command::config_validate : command::config_show;
    parse_options(out, args, 2, config_options, "vigil config " + args[1] + " [OPTIONS]");
  } else {
    out.help = overview;
    std::vector<std::string> commands = {"run",    "config",      "status",  "alerts",
                                         "secret", "connect-url", "version", "help"};
    auto msg = "unknown command '" + sub + "'";
    if (auto m = closest_match(sub, commands))
      msg += "; did you mean '" + *m + "'?";
    out.errors.push_back(msg);
  }
  return out;
}

} // namespace vigil
