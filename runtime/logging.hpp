#pragma once

// vigil's own log: spdlog to stderr (journald adds timestamps under systemd) and
// optionally a size-rotated file. Secrets never reach it: only redacted values are
// ever passed to the logger.

#include "messages/settings.hpp"

namespace vigil {

/// Installs the default logger for `s.log`; safe to call again on reload, while other
/// threads log.
void configure_logging(const log_settings& s);

} // namespace vigil
