#include "io/logs/pattern_compiler.hpp"
#include "runtime/agent.hpp"
#include "runtime/alerts_command.hpp"
#include "runtime/command_line.hpp"
#include "runtime/config_loader.hpp"
#include "runtime/status_command.hpp"
#include "runtime/token_commands.hpp"

#include <iostream>

using namespace vigil;

namespace {

int validate_or_show(const parsed_command_line& cl) {
  auto r = load_config(cl.config);
  for (auto& w : r.warnings)
    std::cerr << "warning: " << w << "\n";
  if (!r.ok()) {
    for (auto& e : r.errors)
      std::cerr << "error: " << e << "\n";
    return 1;
  }
  if (cl.cmd == command::config_show)
    std::cout << settings_to_json(*r.value).dump(2) << "\n";
  else
    std::cout << (cl.config.config_path_explicit ? cl.config.config_path : "configuration")
              << ": valid\n";
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  auto cl = parse_command_line(argc, argv);
  if (!cl.errors.empty()) {
    for (auto& e : cl.errors)
      std::cerr << "vigil: " << e << "\n";
    std::cerr << "Try 'vigil --help'.\n";
    return 2;
  }
  switch (cl.cmd) {
  case command::help:
    std::cout << cl.help;
    return 0;
  case command::version:
    std::cout << "vigil " << VIGIL_VERSION << "\n";
    return 0;
  case command::config_validate:
  case command::config_show:
    return validate_or_show(cl);
  case command::status:
    return run_status_command(cl);
  case command::alerts:
    return run_alerts_command(cl);
  case command::secret_new:
    return run_secret_new(cl);
  case command::connect_url:
    return run_connect_url(cl);
  case command::compile_patterns:
    return run_pattern_compiler(std::cin, std::cout);
  case command::run:
    // The Hyperscan compiler's code stays out of the long-running agent (see
    // pattern_compiler.hpp); /proc/self/exe runs this very binary even after an upgrade
    // replaced the file.
    compile_patterns_in_child("/proc/self/exe");
    return run_agent(cl.config);
  }
  return 2;
}
