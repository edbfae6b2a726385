#pragma once

// `vigil status`: asks a running agent for /status over its control API and prints
// the JSON answer. The address and a token come from the same configuration the
// agent reads, unless --url is given.

#include "runtime/command_line.hpp"

namespace vigil {

int run_status_command(const parsed_command_line& cl);

} // namespace vigil
