#pragma once

// The state of systemd units, read from systemd's manager over D-Bus with sd-bus:
// org.freedesktop.systemd1.Manager.ListUnits (one call for every loaded unit), ListUnitsByNames
// for configured units that are not loaded, and the MainPID property of running services.
// Every call is blocking and bounded by the timeout: use the reader off the actor scheduler.
// Not thread-safe (an sd-bus connection belongs to one thread).

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

// libsystemd's handle, declared here so that the header does not pull in <systemd/sd-bus.h>.
struct sd_bus;

namespace vigil::systemd {

struct unit_state {
  std::string name;         // "nginx.service"
  std::string description;  // "A high performance web server ..."
  std::string load_state;   // loaded, not-found, masked, error, ...
  std::string active_state; // active, reloading, inactive, failed, activating, deactivating
  std::string sub_state;    // running, exited, dead, failed, auto-restart, ...
  std::string object_path;  // systemd's D-Bus object of the unit (where MainPID is read)
  std::optional<std::uint32_t> main_pid; // services with a main process only
};

// What a unit's state means for a dashboard: "running", "stopped", "failed", "starting",
// "stopping" or "not-found" (no such unit file).
std::string_view unit_status(const unit_state& u);

// Services the agent looks for when no unit list is configured (docker, ssh, nginx, ...):
// true for "docker.service", "sshd.service", "postgresql@15-main.service", ...
bool is_well_known_service(std::string_view unit_name);

struct unit_listing {
  bool reachable = false;  // false: no service manager on the bus (no bus, no systemd)
  std::string reason;      // why not reachable
  bool discovered = false; // true: the units were picked by is_well_known_service
  std::vector<unit_state> units;
};

// The bus answered, but not as systemd does (an error reply, a malformed message, a timeout).
class bus_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

class unit_state_reader {
public:
  // bus_address empty: the system bus (DBUS_SYSTEM_BUS_ADDRESS or /run/dbus/system_bus_socket);
  // else a D-Bus address such as "unix:path=/tmp/x/bus".
  unit_state_reader(std::string bus_address, std::chrono::milliseconds timeout);
  ~unit_state_reader();
  unit_state_reader(const unit_state_reader&) = delete;
  unit_state_reader& operator=(const unit_state_reader&) = delete;

  // The state of `units` (in that order; a name without a suffix gets ".service"), or, when
  // `units` is empty, of the well-known services that systemd has loaded. Connects on first
  // use and again after a failure, so a bus that appears later is picked up. Throws bus_error
  // when the service manager answers wrongly or not in time.
  unit_listing read(const std::vector<std::string>& units);

private:
  bool connect(std::string& reason);
  void disconnect();

  std::string address_;
  std::chrono::milliseconds timeout_;
  sd_bus* bus_ = nullptr;
};

} // namespace vigil::systemd
