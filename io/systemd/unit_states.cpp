#include "io/systemd/unit_states.hpp"

#include <systemd/sd-bus.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <map>
#include <memory>

namespace vigil::systemd {

namespace {

constexpr const char* manager_service = "org.freedesktop.systemd1";
constexpr const char* manager_path = "/org/freedesktop/systemd1";
constexpr const char* manager_interface = "org.freedesktop.systemd1.Manager";
constexpr const char* service_interface = "org.freedesktop.systemd1.Service";
// One unit as ListUnits and ListUnitsByNames return it: name, description, load, active, sub,
// following, object path, job id, job type, job path.
constexpr const char* unit_row = "(ssssssouso)";

constexpr std::string_view well_known_names[] = {
    "apache2", "caddy",      "containerd",      "cron",   "crond",        "docker", "haproxy",
    "httpd",   "mariadb",    "memcached",       "mongod", "mysql",        "mysqld", "nginx",
    "openvpn", "postgresql", "rabbitmq-server", "redis",  "redis-server", "ssh",    "sshd",
};
// Template instances: postgresql@15-main.service, openvpn@client.service, ...
constexpr std::string_view well_known_templates[] = {"openvpn-client@", "openvpn-server@",
                                                     "openvpn@", "postgresql@"};

constexpr std::string_view unit_suffixes[] = {".service", ".socket",    ".target", ".timer",
                                              ".mount",   ".automount", ".path",   ".slice",
                                              ".scope",   ".device",    ".swap"};

struct bus_error_guard {
  sd_bus_error error = SD_BUS_ERROR_NULL;
  ~bus_error_guard() { sd_bus_error_free(&error); }
};

struct message_deleter {
  void operator()(sd_bus_message* m) const { sd_bus_message_unref(m); }
};
using message_ptr = std::unique_ptr<sd_bus_message, message_deleter>;

std::string errno_text(int negative_errno) {
  return std::strerror(-negative_errno);
}

std::string with_suffix(const std::string& name) {
  for (auto suffix : unit_suffixes)
    if (name.size() > suffix.size() &&
        name.compare(name.size() - suffix.size(), suffix.size(), suffix.data()) == 0)
      return name;
  return name + ".service";
}

// What a configured unit that systemd does not know is shown as.
unit_state not_found_unit(const std::string& name) {
  return unit_state{name, "", "not-found", "inactive", "dead", "", {}};
}

bool has_main_process(const unit_state& u) {
  return u.name.size() > 8 && u.name.compare(u.name.size() - 8, 8, ".service") == 0 &&
         u.active_state != "inactive" && u.active_state != "failed";
}

// Thrown inside read(): the service manager is not there (no owner of its name, a connection
// that went away), which the caller reports as "not reachable" rather than as an error.
struct unreachable {
  std::string reason;
};

void check_call(int r, const sd_bus_error& e, const char* what) {
  if (r >= 0)
    return;
  if (sd_bus_error_is_set(&e)) {
    if (sd_bus_error_has_name(&e, SD_BUS_ERROR_SERVICE_UNKNOWN) ||
        sd_bus_error_has_name(&e, SD_BUS_ERROR_NAME_HAS_NO_OWNER))
      throw unreachable{std::string{"no systemd on the bus: "} + (e.message ? e.message : e.name)};
    if (sd_bus_error_has_name(&e, SD_BUS_ERROR_DISCONNECTED))
      throw unreachable{std::string{"the bus connection was lost: "} +
                        (e.message ? e.message : e.name)};
    if (sd_bus_error_has_name(&e, SD_BUS_ERROR_NO_REPLY) ||
        sd_bus_error_has_name(&e, SD_BUS_ERROR_TIMEOUT))
      throw bus_error(std::string{what} + ": systemd did not answer in time");
    throw bus_error(std::string{what} + ": " + e.name + ": " + (e.message ? e.message : ""));
  }
  if (r == -ETIMEDOUT)
    throw bus_error(std::string{what} + ": systemd did not answer in time");
  if (r == -ENOTCONN || r == -ECONNRESET || r == -EPIPE || r == -ESHUTDOWN)
    throw unreachable{std::string{"the bus connection was lost: "} + errno_text(r)};
  throw bus_error(std::string{what} + ": " + errno_text(r));
}

void read_unit_rows(sd_bus_message* reply, std::vector<unit_state>& out) {
  auto fail = [](int r) {
    if (r < 0)
      throw bus_error("malformed unit list from systemd: " + errno_text(r));
  };
  fail(sd_bus_message_enter_container(reply, SD_BUS_TYPE_ARRAY, unit_row));
  for (;;) {
    const char *name = nullptr, *description = nullptr, *load = nullptr, *active = nullptr,
               *sub = nullptr, *following = nullptr, *path = nullptr, *job_type = nullptr,
               *job_path = nullptr;
    std::uint32_t job_id = 0;
    int r = sd_bus_message_read(reply, unit_row, &name, &description, &load, &active, &sub,
                                &following, &path, &job_id, &job_type, &job_path);
    fail(r);
    if (r == 0)
      break;
    unit_state u;
    u.name = name;
    u.description = description;
    u.load_state = load;
    u.active_state = active;
    u.sub_state = sub;
    u.object_path = path;
    out.push_back(std::move(u));
  }
  fail(sd_bus_message_exit_container(reply));
}

} // namespace

std::string_view unit_status(const unit_state& u) {
  if (u.load_state == "not-found")
    return "not-found";
  if (u.active_state == "active" || u.active_state == "reloading")
    return "running";
  if (u.active_state == "failed")
    return "failed";
  if (u.active_state == "activating")
    return "starting";
  if (u.active_state == "deactivating")
    return "stopping";
  return "stopped";
}

bool is_well_known_service(std::string_view unit_name) {
  constexpr std::string_view suffix = ".service";
  if (unit_name.size() <= suffix.size() ||
      unit_name.substr(unit_name.size() - suffix.size()) != suffix)
    return false;
  auto base = unit_name.substr(0, unit_name.size() - suffix.size());
  if (std::find(std::begin(well_known_names), std::end(well_known_names), base) !=
      std::end(well_known_names))
    return true;
  return std::any_of(
      std::begin(well_known_templates), std::end(well_known_templates),
      [&](std::string_view t) { return base.size() > t.size() && base.substr(0, t.size()) == t; });
}

unit_state_reader::unit_state_reader(std::string bus_address, std::chrono::milliseconds timeout)
    : address_(std::move(bus_address))
    , timeout_(timeout) {}

unit_state_reader::~unit_state_reader() {
  disconnect();
}

void unit_state_reader::disconnect() {
  if (bus_)
    sd_bus_flush_close_unref(bus_);
  bus_ = nullptr;
}

bool unit_state_reader::connect(std::string& reason) {
  if (bus_)
    return true;
  sd_bus* bus = nullptr;
  int r = 0;
  if (address_.empty()) {
    r = sd_bus_open_system(&bus);
  } else {
    r = sd_bus_new(&bus);
    if (r >= 0)
      r = sd_bus_set_address(bus, address_.c_str());
    if (r >= 0)
      r = sd_bus_set_bus_client(bus, 1);
    if (r >= 0)
      r = sd_bus_start(bus);
  }
  if (r >= 0)
    r = sd_bus_set_method_call_timeout(
        bus, static_cast<std::uint64_t>(
                 std::chrono::duration_cast<std::chrono::microseconds>(timeout_).count()));
  if (r < 0) {
    if (bus)
      sd_bus_unref(bus);
    reason = "cannot connect to " +
             (address_.empty() ? std::string{"the system bus"} : "the bus at " + address_) + ": " +
             errno_text(r);
    return false;
  }
  bus_ = bus;
  return true;
}

unit_listing unit_state_reader::read(const std::vector<std::string>& units) {
  unit_listing out;
  if (!connect(out.reason))
    return out;
  try {
    std::vector<unit_state> loaded;
    {
      bus_error_guard e;
      sd_bus_message* raw = nullptr;
      int r = sd_bus_call_method(bus_, manager_service, manager_path, manager_interface,
                                 "ListUnits", &e.error, &raw, "");
      message_ptr reply{raw};
      check_call(r, e.error, "ListUnits");
      read_unit_rows(reply.get(), loaded);
    }
    if (units.empty()) {
      out.discovered = true;
      for (auto& u : loaded)
        if (is_well_known_service(u.name))
          out.units.push_back(std::move(u));
      std::sort(out.units.begin(), out.units.end(),
                [](auto& a, auto& b) { return a.name < b.name; });
    } else {
      std::vector<std::string> wanted; // `units` with their suffixes
      wanted.reserve(units.size());
      for (auto& name : units)
        wanted.push_back(with_suffix(name));
      std::map<std::string, unit_state> by_name;
      for (auto& u : loaded)
        by_name.emplace(u.name, std::move(u));
      // Units systemd has not loaded (inactive and unreferenced, or no such file):
      // ListUnitsByNames loads them to tell which.
      std::vector<std::string> missing;
      for (auto& name : wanted)
        if (!by_name.count(name))
          missing.push_back(name);
      if (!missing.empty()) {
        std::vector<const char*> names;
        for (auto& n : missing)
          names.push_back(n.c_str());
        names.push_back(nullptr);
        sd_bus_message* raw_call = nullptr;
        int r = sd_bus_message_new_method_call(bus_, &raw_call, manager_service, manager_path,
                                               manager_interface, "ListUnitsByNames");
        message_ptr call{raw_call};
        if (r >= 0)
          r = sd_bus_message_append_strv(call.get(), const_cast<char**>(names.data()));
        bus_error_guard e;
        sd_bus_message* raw = nullptr;
        if (r >= 0)
          r = sd_bus_call(bus_, call.get(), 0, &e.error, &raw);
        message_ptr reply{raw};
        if (r < 0 && sd_bus_error_has_name(&e.error, SD_BUS_ERROR_UNKNOWN_METHOD)) {
          // systemd < 230: what is not loaded is reported as not found.
          for (auto& n : missing)
            by_name.emplace(n, not_found_unit(n));
        } else {
          check_call(r, e.error, "ListUnitsByNames");
          std::vector<unit_state> listed;
          read_unit_rows(reply.get(), listed);
          for (auto& u : listed)
            by_name.emplace(u.name, std::move(u));
        }
      }
      for (auto& name : wanted) {
        auto it = by_name.find(name);
        out.units.push_back(it != by_name.end() ? it->second : not_found_unit(name));
      }
    }
    for (auto& u : out.units) {
      if (!has_main_process(u) || u.object_path.empty())
        continue;
      bus_error_guard pe;
      std::uint32_t pid = 0;
      if (sd_bus_get_property_trivial(bus_, manager_service, u.object_path.c_str(),
                                      service_interface, "MainPID", &pe.error, 'u', &pid) >= 0 &&
          pid > 0)
        u.main_pid = pid;
    }
  } catch (const unreachable& u) {
    disconnect();
    return unit_listing{false, u.reason, false, {}};
  } catch (const bus_error&) {
    disconnect(); // a fresh connection next time: nothing half-read stays queued
    throw;
  }
  out.reachable = true;
  return out;
}

} // namespace vigil::systemd
