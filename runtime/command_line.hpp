#pragma once

// vigil's command line: subcommands, their options, and the mapping of `run`'s
// options (including the seed daemon's flags) onto configuration keys.

#include "runtime/config_loader.hpp"

#include <string>
#include <vector>

namespace vigil {

enum class command { run, config_validate, config_show, status, version, help };

struct parsed_command_line {
  command cmd = command::help;
  config_inputs config;
  std::string status_url; // `vigil status --url`
  std::string help;       // text for `help` / `--help`
  std::vector<std::string> errors;
};

parsed_command_line parse_command_line(int argc, const char* const* argv);

} // namespace vigil
