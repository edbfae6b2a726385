#pragma once

// `vigil run`: builds the actor system from the settings, starts the supervision
// tree, turns signals into shutdown (SIGTERM/SIGINT) and reload (SIGHUP), and
// returns the process exit code once every actor has stopped.

#include "runtime/config_loader.hpp"

namespace vigil {

int run_agent(const config_inputs& inputs);

} // namespace vigil
