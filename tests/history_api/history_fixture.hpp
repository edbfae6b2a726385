#pragma once

// Shared by the history_api tests: real actors registered by name as the agent does, the
// control API on an ephemeral loopback port, and a raw HTTP client that keeps the headers.

#include "actors/control_api.hpp"
#include "actors/history_store.hpp"
#include "actors/supervisor.hpp"
#include "actors/telemetry_collector.hpp"
#include "actors/telemetry_hub.hpp"
#include "tests/support/eventually.hpp"
#include "tests/support/http_get.hpp"
#include "tests/support/temp_directory.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <caf/all.hpp>
#include <gtest/gtest.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <functional>
#include <regex>
#include <thread>

namespace vigil::test {

using namespace std::chrono_literals;

// As runtime/agent.cpp: CAF 0.17's put() keeps an existing entry, so erase first.
template <class Handle>
Handle register_as(caf::actor_system& sys, const char* name, Handle h) {
  sys.registry().erase(caf::atom_from_string(name));
  sys.registry().put(caf::atom_from_string(name), caf::actor_cast<caf::strong_actor_ptr>(h));
  return h;
}

// Drops the names the tests register: a registered (detached) actor is referenced by the
// registry, and the actor system's destructor would wait for its thread forever.
struct registry_guard {
  caf::actor_system& sys;
  ~registry_guard() {
    for (auto name : {"history", "telemetry", "root", "outbox"})
      sys.registry().erase(caf::atom_from_string(name));
  }
};

// Stops an actor and waits until it is gone.
template <class Handle>
void stop_actor(caf::actor_system& sys, const Handle& h,
                caf::exit_reason reason = caf::exit_reason::user_shutdown) {
  if (!h)
    return;
  caf::scoped_actor self{sys};
  self->monitor(h);
  self->send_exit(h, reason);
  self->receive([](const caf::down_msg&) {},
                caf::after(std::chrono::seconds{15}) >> [] { ADD_FAILURE() << "actor not down"; });
}

// The hub plus the production collectors under a "telemetry" supervisor; the hub registered
// as "telemetry" on every (re)start.
inline supervisor_actor spawn_telemetry_tree(caf::actor_system& sys, const settings_ptr& s) {
  auto children = telemetry_collector_specs();
  children.insert(children.begin(), std::make_shared<child_spec>(child_spec{
                                        "hub", [](caf::actor_system& sys, const settings_ptr& s) {
                                          return caf::actor_cast<caf::actor>(register_as(
                                              sys, "telemetry", sys.spawn(telemetry_hub, s)));
                                        }}));
  return sys.spawn(supervisor, "telemetry", children, s);
}

inline history_status history_status_of(caf::actor_system& sys, const history_actor& h) {
  caf::scoped_actor self{sys};
  history_status result;
  self->request(h, 10s, atom::status_v)
      .receive([&](history_status& x) { result = std::move(x); },
               [&](caf::error& err) { ADD_FAILURE() << sys.render(err); });
  return result;
}

// The control API on 127.0.0.1, an ephemeral port, one Asio thread. The port is read from
// the "listening on" log line (the actor does not expose its server).
class control_api_harness {
public:
  control_api_harness(caf::actor_system& sys, settings_ptr s)
      : sys_(sys) {
    sink_ = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(256);
    previous_ = spdlog::default_logger();
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("test", sink_));
    io_thread_ = std::thread{[this] { io_.run(); }};
    auto copy = *s;
    copy.api.bind = "127.0.0.1";
    copy.api.control_port = 0;
    control_api_hooks hooks;
    hooks.effective_config = [] { return nlohmann::json::object(); };
    hooks.reload_config = [] { return std::pair{200, nlohmann::json::object()}; };
    api_ = sys.spawn(control_api, &io_, std::make_shared<const settings>(copy), hooks);
    std::regex re{"control API listening on http://127\\.0\\.0\\.1:([0-9]+)"};
    eventually([&] {
      for (auto& line : sink_->last_formatted()) {
        std::smatch m;
        if (std::regex_search(line, m, re)) {
          port_ = static_cast<uint16_t>(std::stoi(m[1]));
          return true;
        }
      }
      return false;
    });
  }

  ~control_api_harness() {
    stop_actor(sys_, api_);
    guard_.reset();
    io_.stop();
    io_thread_.join();
    spdlog::set_default_logger(previous_);
  }

  uint16_t port() const { return port_; }

private:
  caf::actor_system& sys_;
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink_;
  std::shared_ptr<spdlog::logger> previous_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_ =
      boost::asio::make_work_guard(io_);
  std::thread io_thread_;
  control_api_actor api_;
  uint16_t port_ = 0;
};

} // namespace vigil::test
