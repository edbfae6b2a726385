#pragma once

// `vigil secret new` and `vigil connect-url`: API tokens for people and dashboards.

#include "runtime/command_line.hpp"

#include <string>

namespace vigil {

/// Adds a new random token (256 bits, base64url) with the requested name and scope to
/// api.tokens in the secrets file (created 0600 when missing) and prints it once. A running
/// agent picks it up on reload (SIGHUP). Returns the exit status.
int run_secret_new(const parsed_command_line& cl);

/// Prints the Quick Connect URL, vigil://TOKEN@HOST:PORT/ (SysMedic's sysmedic:// form, with
/// the control port: it serves the API and the /ws streams). Returns the exit status.
int run_connect_url(const parsed_command_line& cl);

/// The URL host for `bind`: itself, bracketed when IPv6; `primary_ip` when it listens on all
/// addresses (0.0.0.0 or ::).
std::string connect_host_for(const std::string& bind, const std::string& primary_ip);

} // namespace vigil
