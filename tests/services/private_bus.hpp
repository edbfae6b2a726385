#pragma once

// A private D-Bus for tests: dbus-daemon started (and ended, by PID) on a unix socket in a
// temp directory, and `fake_systemd`, a small sd-bus object that owns org.freedesktop.systemd1
// and answers Manager.ListUnits, Manager.ListUnitsByNames and the Service.MainPID property from
// a table the test changes.

#include "tests/support/child_process.hpp"
#include "tests/support/temp_directory.hpp"

#include <systemd/sd-bus.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace vigil::test {

class private_dbus {
public:
  explicit private_dbus(const std::filesystem::path& dir)
      : dir_(dir)
      , socket_(dir / "bus")
      , config_(dir / "bus.conf") {
    std::ofstream{config_}
        << R"(<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <listen>unix:path=)"
        << socket_.string() << R"(</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
)";
    start();
  }

  // Starts dbus-daemon; true once it listens.
  bool start() {
    std::error_code ec;
    std::filesystem::remove(socket_, ec);
    daemon_ = std::make_unique<child_process>(
        std::vector<std::string>{"/usr/bin/dbus-daemon", "--config-file=" + config_.string(),
                                 "--nofork", "--nopidfile", "--print-address"},
        (dir_ / ("dbus-daemon-" + std::to_string(++starts_) + ".log")).string());
    return daemon_->started() && daemon_->wait_for_output("unix:", std::chrono::seconds{20});
  }

  // Ends dbus-daemon by its PID and waits for it.
  void stop() {
    if (!daemon_)
      return;
    daemon_->signal(SIGTERM);
    daemon_->wait_for_exit(std::chrono::seconds{20});
    daemon_.reset();
  }

  std::string address() const { return "unix:path=" + socket_.string(); }
  std::string output() const { return daemon_ ? daemon_->output() : std::string{}; }

private:
  std::filesystem::path dir_;
  std::filesystem::path socket_;
  std::filesystem::path config_;
  std::unique_ptr<child_process> daemon_;
  int starts_ = 0;
};

struct fake_unit {
  std::string name;
  std::string description;
  std::string load_state = "loaded";
  std::string active_state = "active";
  std::string sub_state = "running";
  std::uint32_t main_pid = 0;
  bool loaded = true; // false: not in ListUnits, only found by ListUnitsByNames
};

class fake_systemd {
public:
  fake_systemd(const std::string& address, std::vector<fake_unit> units)
      : units_(std::move(units)) {
    check(sd_bus_new(&bus_), "sd_bus_new");
    check(sd_bus_set_address(bus_, address.c_str()), "sd_bus_set_address");
    check(sd_bus_set_bus_client(bus_, 1), "sd_bus_set_bus_client");
    check(sd_bus_start(bus_), "sd_bus_start");
    check(sd_bus_add_object_vtable(bus_, nullptr, "/org/freedesktop/systemd1",
                                   "org.freedesktop.systemd1.Manager", manager_vtable, this),
          "add manager");
    check(sd_bus_add_fallback_vtable(bus_, nullptr, unit_prefix, "org.freedesktop.systemd1.Service",
                                     service_vtable, find_unit, this),
          "add service");
    check(sd_bus_request_name(bus_, "org.freedesktop.systemd1", 0), "request name");
    loop_ = std::thread{[this] { run(); }};
  }

  ~fake_systemd() {
    stop_ = true;
    loop_.join();
    sd_bus_flush_close_unref(bus_);
  }

  fake_systemd(const fake_systemd&) = delete;
  fake_systemd& operator=(const fake_systemd&) = delete;

  void set_state(const std::string& name, const std::string& active, const std::string& sub,
                 std::uint32_t main_pid) {
    std::lock_guard lock{mtx_};
    for (auto& u : units_)
      if (u.name == name) {
        u.active_state = active;
        u.sub_state = sub;
        u.main_pid = main_pid;
      }
  }

  int list_calls() const { return list_calls_; }

private:
  static constexpr const char* unit_prefix = "/org/freedesktop/systemd1/unit";

  static void check(int r, const char* what) {
    if (r < 0)
      throw std::runtime_error(std::string{"fake systemd: "} + what +
                               " failed: " + std::to_string(r));
  }

  void run() {
    while (!stop_) {
      int r = sd_bus_process(bus_, nullptr);
      if (r < 0)
        return; // the daemon went away
      if (r > 0)
        continue;
      sd_bus_wait(bus_, 50'000);
    }
  }

  static std::string path_of(const std::string& name) {
    char* path = nullptr;
    sd_bus_path_encode(unit_prefix, name.c_str(), &path);
    std::string out = path ? path : "/";
    free(path);
    return out;
  }

  static int append_row(sd_bus_message* reply, const fake_unit& u) {
    return sd_bus_message_append(reply, "(ssssssouso)", u.name.c_str(), u.description.c_str(),
                                 u.load_state.c_str(), u.active_state.c_str(), u.sub_state.c_str(),
                                 "", path_of(u.name).c_str(), 0u, "", "/");
  }

  static int reply_rows(sd_bus_message* call, const std::vector<fake_unit>& rows) {
    sd_bus_message* reply = nullptr;
    int r = sd_bus_message_new_method_return(call, &reply);
    if (r >= 0)
      r = sd_bus_message_open_container(reply, 'a', "(ssssssouso)");
    for (auto& u : rows)
      if (r >= 0)
        r = append_row(reply, u);
    if (r >= 0)
      r = sd_bus_message_close_container(reply);
    if (r >= 0)
      r = sd_bus_send(nullptr, reply, nullptr);
    sd_bus_message_unref(reply);
    return r < 0 ? r : 1;
  }

  static int list_units(sd_bus_message* m, void* userdata, sd_bus_error*) {
    auto* self = static_cast<fake_systemd*>(userdata);
    ++self->list_calls_;
    std::vector<fake_unit> rows;
    {
      std::lock_guard lock{self->mtx_};
      for (auto& u : self->units_)
        if (u.loaded)
          rows.push_back(u);
    }
    return reply_rows(m, rows);
  }

  static int list_units_by_names(sd_bus_message* m, void* userdata, sd_bus_error*) {
    auto* self = static_cast<fake_systemd*>(userdata);
    char** names = nullptr;
    int r = sd_bus_message_read_strv(m, &names);
    if (r < 0)
      return r;
    std::vector<fake_unit> rows;
    {
      std::lock_guard lock{self->mtx_};
      for (char** n = names; n && *n; ++n) {
        fake_unit row{*n, "", "not-found", "inactive", "dead", 0, false};
        for (auto& u : self->units_)
          if (u.name == *n)
            row = u;
        rows.push_back(row);
        free(*n);
      }
    }
    free(names);
    return reply_rows(m, rows);
  }

  static int find_unit(sd_bus*, const char* path, const char*, void* userdata, void** found,
                       sd_bus_error*) {
    auto* self = static_cast<fake_systemd*>(userdata);
    std::lock_guard lock{self->mtx_};
    for (auto& u : self->units_)
      if (path_of(u.name) == path) {
        *found = userdata;
        return 1;
      }
    return 0;
  }

  static int main_pid(sd_bus*, const char* path, const char*, const char*, sd_bus_message* reply,
                      void* userdata, sd_bus_error*) {
    auto* self = static_cast<fake_systemd*>(userdata);
    std::uint32_t pid = 0;
    {
      std::lock_guard lock{self->mtx_};
      for (auto& u : self->units_)
        if (path_of(u.name) == path)
          pid = u.main_pid;
    }
    return sd_bus_message_append(reply, "u", pid);
  }

  static inline const sd_bus_vtable manager_vtable[] = {
      SD_BUS_VTABLE_START(0),
      SD_BUS_METHOD("ListUnits", "", "a(ssssssouso)", list_units, SD_BUS_VTABLE_UNPRIVILEGED),
      SD_BUS_METHOD("ListUnitsByNames", "as", "a(ssssssouso)", list_units_by_names,
                    SD_BUS_VTABLE_UNPRIVILEGED),
      SD_BUS_VTABLE_END};

  static inline const sd_bus_vtable service_vtable[] = {
      SD_BUS_VTABLE_START(0), SD_BUS_PROPERTY("MainPID", "u", main_pid, 0, 0), SD_BUS_VTABLE_END};

  sd_bus* bus_ = nullptr;
  std::mutex mtx_;
  std::vector<fake_unit> units_;
  std::atomic<bool> stop_{false};
  std::atomic<int> list_calls_{0};
  std::thread loop_;
};

} // namespace vigil::test
