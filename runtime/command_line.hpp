#pragma once

// vigil's command line: subcommands, their options, and the mapping of `run`'s
// options (including the seed daemon's flags) onto configuration keys.

#include "runtime/config_loader.hpp"

#include <string>
#include <vector>

namespace vigil {

// compile_patterns is internal: the agent runs itself with it to compile Hyperscan patterns
// outside its own address space (io/logs/pattern_compiler.hpp).
enum class command {
  run,
  config_validate,
  config_show,
  status,
  alerts,
  secret_new,
  connect_url,
  version,
  help,
  compile_patterns
};

struct parsed_command_line {
  command cmd = command::help;
  config_inputs config;
  std::string api_url; // `vigil status --url`, `vigil alerts --url`
  // `vigil alerts ACTION ARGUMENTS`: list (the default), rules, ack ID, resolve ID,
  // silence RULE DURATION, unsilence RULE.
  std::string alerts_action = "list";
  std::vector<std::string> arguments;
  std::string alert_state;          // `vigil alerts list --state`: firing, resolved; "": both
  unsigned alert_limit = 0;         // `vigil alerts list --limit`; 0: the API's default
  bool json_output = false;         // `vigil alerts --json`: the API's answer as it is
  std::string token_name;           // `vigil secret new --name`, `vigil connect-url --name`
  std::string token_scope = "read"; // `vigil secret new --scope`
  std::string connect_host;         // `vigil connect-url --host`
  std::string help;                 // text for `help` / `--help`
  std::vector<std::string> errors;
};

parsed_command_line parse_command_line(int argc, const char* const* argv);

} // namespace vigil
