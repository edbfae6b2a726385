#pragma once

// sd_notify(3) for Type=notify services: readiness, stopping, status text and the
// watchdog keep-alive. Every call is a no-op when not started by systemd.

#include <chrono>
#include <optional>
#include <string>

namespace vigil {

void notify_ready(const std::string& status);
void notify_reloading();
void notify_stopping();
void notify_status(const std::string& status);
void notify_watchdog();

/// The WatchdogSec= interval systemd expects pings within, if enabled for us.
std::optional<std::chrono::microseconds> watchdog_interval();

} // namespace vigil
