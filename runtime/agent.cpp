#include "runtime/agent.hpp"

#include "actors/alert_manager.hpp"
#include "actors/alert_sender.hpp"
#include "actors/amqp_publisher.hpp"
#include "actors/backend_poster.hpp"
#include "actors/control_api.hpp"
#include "actors/history_store.hpp"
#include "actors/journal_reader.hpp"
#include "actors/live_log_hub.hpp"
#include "actors/log_sources.hpp"
#include "actors/outbox.hpp"
#include "actors/supervisor.hpp"
#include "actors/systemd_watchdog.hpp"
#include "actors/telemetry_collector.hpp"
#include "actors/telemetry_feed.hpp"
#include "actors/telemetry_hub.hpp"
#include "actors/ws_listener.hpp"
#include "io/system/atomic_file.hpp"
#include "io/system/node_identity.hpp"
#include "io/system/systemd_notify.hpp"
#include "runtime/logging.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <malloc.h>
#include <mutex>
#include <pthread.h>
#include <sys/stat.h>
#include <system_error>
#include <thread>

namespace vigil {

namespace {

using namespace std::chrono_literals;

// How long an orderly shutdown may take before the process exits anyway.
constexpr auto shutdown_deadline = 30s;

// Settings that the running process cannot change; a reload keeps the old value
// and says so.
std::vector<std::string> restart_only_changes(const settings& old, settings& next) {
  std::vector<std::string> kept;
  auto keep = [&](const char* key, auto& old_value, auto& new_value) {
    if (old_value != new_value) {
      kept.emplace_back(key);
      new_value = old_value;
    }
  };
  keep("state_dir", old.state_dir, next.state_dir);
  keep("scheduler_threads", old.scheduler_threads, next.scheduler_threads);
  keep("api.bind", old.api.bind, next.api.bind);
  keep("api.control_port", old.api.control_port, next.api.control_port);
  keep("api.ws_port", old.api.ws_port, next.api.ws_port);
  keep("api.telemetry_ws_port", old.api.telemetry_ws_port, next.api.telemetry_ws_port);
  keep("api.threads", old.api.threads, next.api.threads);
  keep("node_id", old.node_id, next.node_id);
  next.fault_injection = old.fault_injection;
  return kept;
}

// The one place the running configuration changes: SIGHUP and the control API both
// come here. An invalid file is rejected with its reasons; the old settings stay.
class config_reloader {
public:
  config_reloader(config_inputs inputs, settings_ptr current)
      : inputs_(std::move(inputs))
      , current_(std::move(current)) {}

  settings_ptr current() const {
    std::lock_guard lock{mtx_};
    return current_;
  }

  config_result reload(const supervisor_actor& root) {
    std::lock_guard lock{mtx_};
    notify_reloading();
    return apply(load_config(inputs_), root);
  }

  // POST /api/config: the patch is validated with the files as they are; only a valid result
  // is written to the config file (atomically, keeping its mode) and applied as a reload.
  // Nothing changes when it is refused or cannot be written (std::system_error).
  config_result update(const nlohmann::json& patch, const supervisor_actor& root) {
    std::lock_guard lock{mtx_};
    auto candidate = inputs_;
    candidate.config_patch = patch;
    auto loaded = load_config(candidate);
    if (!loaded.ok())
      return loaded;
    struct stat st {};
    auto mode = ::stat(inputs_.config_path.c_str(), &st) == 0 ? st.st_mode & 07777 : 0644;
    write_file_atomically(inputs_.config_path, loaded.patched_document->dump(2) + "\n", mode);
    spdlog::info("configuration file {} updated through the API", inputs_.config_path);
    notify_reloading();
    return apply(std::move(loaded), root);
  }

private:
  // Makes a loaded configuration the running one (or logs why it is not).
  config_result apply(config_result loaded, const supervisor_actor& root) {
    if (!loaded.ok()) {
      spdlog::error("configuration reload rejected; keeping the running configuration:");
      for (auto& e : loaded.errors)
        spdlog::error("  {}", e);
      notify_ready("reload rejected");
      return loaded;
    }
    auto next = *loaded.value;
    for (auto& key : restart_only_changes(*current_, next))
      loaded.warnings.push_back(key + " changed; it takes effect after a restart");
    for (auto& w : loaded.warnings)
      spdlog::warn("{}", w);
    current_ = std::make_shared<const settings>(std::move(next));
    loaded.value = current_;
    configure_logging(current_->log);
    caf::anon_send(root, atom::configure_v, current_);
    spdlog::info("configuration reloaded");
    notify_ready("running");
    return loaded;
  }

  config_inputs inputs_;
  mutable std::mutex mtx_;
  settings_ptr current_;
};

supervisor_actor find_root(caf::actor_system& sys) {
  return caf::actor_cast<supervisor_actor>(sys.registry().get(caf::atom("root")));
}

std::pair<int, nlohmann::json> reload_response(const config_result& r) {
  if (!r.ok())
    return {400,
            {{"error", "invalid configuration"},
             {"detail", "the running configuration was kept"},
             {"errors", r.errors}}};
  return {200, {{"status", "reloaded"}, {"warnings", r.warnings}}};
}

// Actors that others find by name: the registry always holds the current incarnation,
// so a restarted outbox or supervisor is found again without re-wiring anyone.
constexpr const char* registered_names[] = {
    "root",    "outbox",    "publisher",  "tailers", "journal",    "backend", "telemetry",
    "history", "live_logs", "telem_feed", "alerts",  "alertrules", "webhook", "email"};

template <class Handle>
caf::actor register_as(caf::actor_system& sys, const char* name, Handle h) {
  // CAF 0.17's put() keeps an existing entry: without the erase a restarted actor would not
  // replace its dead predecessor.
  sys.registry().erase(caf::atom_from_string(name));
  sys.registry().put(caf::atom_from_string(name), caf::actor_cast<caf::strong_actor_ptr>(h));
  return caf::actor_cast<caf::actor>(h);
}

child_spec_ptr spec(std::string name,
                    std::function<caf::actor(caf::actor_system&, const settings_ptr&)> start,
                    bool is_supervisor = false) {
  return std::make_shared<child_spec>(
      child_spec{std::move(name), std::move(start), restart_policy::permanent, is_supervisor});
}

// Delivery: the outbox (state database) and, when configured, the broker publisher and
// the backend poster.
child_spec_ptr delivery_supervisor(boost::asio::io_context& io) {
  return spec(
      "delivery",
      [&io](caf::actor_system& sys, const settings_ptr& s) {
        std::vector<child_spec_ptr> children{
            spec("outbox", [](caf::actor_system& sys, const settings_ptr& s) {
              return register_as(sys, "outbox", sys.spawn<caf::detached>(outbox, s));
            })};
        if (!s->rabbitmq.url.empty())
          children.push_back(
              spec("amqp_publisher", [](caf::actor_system& sys, const settings_ptr& s) {
                return register_as(sys, "publisher", sys.spawn<caf::detached>(amqp_publisher, s));
              }));
        if (!s->backend.url.empty())
          children.push_back(
              spec("backend_poster", [&io](caf::actor_system& sys, const settings_ptr& s) {
                return register_as(sys, "backend", sys.spawn(backend_poster, &io, s));
              }));
        return caf::actor_cast<caf::actor>(sys.spawn(supervisor, "delivery", children, s));
      },
      true);
}

std::vector<child_spec_ptr> root_children(boost::asio::io_context& io, config_reloader& reloader) {
  // Start order matters: on shutdown they stop in reverse, so the API and the sources
  // stop (and flush) before the outbox they feed.
  std::vector<child_spec_ptr> children;
  children.push_back(delivery_supervisor(io));
  children.push_back(spec(
      "tailers",
      [](caf::actor_system& sys, const settings_ptr& s) {
        return register_as(sys, "tailers",
                           sys.spawn(supervisor, "tailers", std::vector<child_spec_ptr>{}, s));
      },
      true));
  children.push_back(spec("log_sources", [&io](caf::actor_system& sys, const settings_ptr& s) {
    return caf::actor_cast<caf::actor>(sys.spawn(log_sources, s, &io));
  }));
  // Local telemetry history: its own SQLite file and thread; started before the hub that
  // feeds it, so it stops (and flushes) after it.
  children.push_back(spec("history", [](caf::actor_system& sys, const settings_ptr& s) {
    return register_as(sys, "history", sys.spawn<caf::detached>(history, s));
  }));
  // Telemetry: the hub first (it stops last), then one collector per section.
  children.push_back(spec(
      "telemetry",
      [](caf::actor_system& sys, const settings_ptr& s) {
        auto children = telemetry_collector_specs();
        children.insert(children.begin(),
                        spec("hub", [](caf::actor_system& sys, const settings_ptr& s) {
                          return register_as(sys, "telemetry", sys.spawn(telemetry_hub, s));
                        }));
        return caf::actor_cast<caf::actor>(sys.spawn(supervisor, "telemetry", children, s));
      },
      true));
  // Alerts, after the history and the hub they use. Start order: the channels' senders, the
  // manager (it starts the rule actors under "alert_rules"), the rules; so on shutdown the
  // rules stop first and the senders last.
  children.push_back(spec(
      "alerts",
      [&io](caf::actor_system& sys, const settings_ptr& s) {
        auto sender = [&io](const char* channel) {
          return spec(std::string{channel} + "_sender", [&io, channel](caf::actor_system& sys,
                                                                       const settings_ptr& s) {
            return register_as(sys, channel, sys.spawn(alert_sender, &io, std::string{channel}, s));
          });
        };
        std::vector<child_spec_ptr> children{
            sender("webhook"), sender("email"),
            spec("manager",
                 [](caf::actor_system& sys, const settings_ptr& s) {
                   return register_as(sys, "alerts", sys.spawn(alert_manager, s));
                 }),
            spec(
                "alert_rules",
                [](caf::actor_system& sys, const settings_ptr& s) {
                  return register_as(
                      sys, "alertrules",
                      sys.spawn(supervisor, "alert_rules", std::vector<child_spec_ptr>{}, s));
                },
                true)};
        return caf::actor_cast<caf::actor>(sys.spawn(supervisor, "alerts", children, s));
      },
      true));
  children.push_back(spec("journal_reader", [](caf::actor_system& sys, const settings_ptr& s) {
    return register_as(sys, "journal", sys.spawn(journal_reader, s));
  }));
  // Live streams for WebSocket clients: the outbox feeds "live_logs" after each commit; the
  // telemetry feed joins the hub only while sessions watch. Both streams run from the start,
  // as the seed's did. (Function actors always get an argument here: CAF 0.17 binds a
  // reference to a null argument tuple when there is none, which UBSan aborts on.)
  children.push_back(spec("live_logs", [](caf::actor_system& sys, const settings_ptr&) {
    return register_as(sys, "live_logs", sys.spawn(live_log_hub, true));
  }));
  children.push_back(spec("telemetry_feed", [](caf::actor_system& sys, const settings_ptr&) {
    return register_as(sys, "telem_feed", sys.spawn(telemetry_feed, true));
  }));
  children.push_back(std::make_shared<child_spec>(child_spec{
      "control_api", [&io, &reloader](caf::actor_system& sys, const settings_ptr& s) {
        control_api_hooks hooks;
        hooks.effective_config = [&reloader] { return settings_to_json(*reloader.current()); };
        hooks.update_config = [&reloader, &sys](const nlohmann::json& patch) {
          try {
            return reload_response(reloader.update(patch, find_root(sys)));
          } catch (const std::system_error& e) {
            return std::pair<int, nlohmann::json>{
                500, {{"error", "configuration not written"}, {"detail", e.what()}}};
          }
        };
        hooks.reload_config = [&reloader, &sys] {
          return reload_response(reloader.reload(find_root(sys)));
        };
        return caf::actor_cast<caf::actor>(sys.spawn(control_api, &io, s, std::move(hooks)));
      }}));
  // The seeds' WebSocket ports (8755 live logs, 8756 telemetry); stopped first on shutdown,
  // which closes their sessions.
  children.push_back(spec("ws_listener", [&io](caf::actor_system& sys, const settings_ptr& s) {
    return caf::actor_cast<caf::actor>(sys.spawn(ws_listener, &io, s, ws_session_options{}));
  }));
  if (auto interval = watchdog_interval()) {
    children.push_back(std::make_shared<child_spec>(child_spec{
        "systemd_watchdog", [iv = *interval](caf::actor_system& sys, const settings_ptr&) {
          return caf::actor_cast<caf::actor>(sys.spawn(systemd_watchdog, iv));
        }}));
  }
  return children;
}

// Blocks the signals the agent handles in the calling thread; every thread created
// afterwards (CAF's workers included) inherits the mask, so only sigwait sees them.
sigset_t block_handled_signals() {
  sigset_t sigs;
  sigemptyset(&sigs);
  for (int s : {SIGTERM, SIGINT, SIGHUP})
    sigaddset(&sigs, s);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  return sigs;
}

caf::expected<settings_ptr> prepare_state(const settings& loaded) {
  std::error_code ec;
  std::filesystem::create_directories(loaded.state_dir, ec);
  if (ec)
    return caf::make_error(caf::sec::runtime_error,
                           "cannot create state_dir " + loaded.state_dir + ": " + ec.message());
  auto s = loaded;
  if (s.node_id.empty()) {
    try {
      s.node_id = load_or_create_node_id(s.state_dir);
    } catch (const std::exception& e) {
      return caf::make_error(caf::sec::runtime_error, e.what());
    }
  }
  return std::make_shared<const settings>(std::move(s));
}

} // namespace

int run_agent(const config_inputs& inputs) {
  auto loaded = load_config(inputs);
  if (!loaded.ok()) {
    configure_logging(log_settings{});
    spdlog::critical("invalid configuration:");
    for (auto& e : loaded.errors)
      spdlog::critical("  {}", e);
    return 78; // EX_CONFIG: systemd's RestartPreventExitStatus can keep it from looping
  }
  configure_logging(loaded.value->log);
  for (auto& w : loaded.warnings)
    spdlog::warn("{}", w);
  auto prepared = prepare_state(*loaded.value);
  if (!prepared) {
    spdlog::critical("{}", caf::to_string(prepared.error().context()));
    return 73; // EX_CANTCREAT
  }
  auto current = *prepared;
  auto sigs = block_handled_signals();
  // One malloc arena: batches are built on scheduler threads and freed on the outbox's, and
  // an arena per thread kept ~10 MB of such freed memory each (500 busy files: 48 -> 37 MB).
  // The threads are few and mostly idle, so they hardly contend for it.
  mallopt(M_ARENA_MAX, 1);

  caf::actor_system_config cfg;
  // Work-sharing: idle workers sleep instead of spinning (see docs/architecture.md).
  cfg.set("scheduler.policy", caf::atom("sharing"));
  cfg.set("scheduler.max-threads", static_cast<size_t>(current->scheduler_threads));
  caf::actor_system sys{cfg};

  // One Asio context for HTTP and WebSocket, on api.threads threads.
  boost::asio::io_context io;
  auto io_guard = boost::asio::make_work_guard(io);
  std::vector<std::thread> io_threads;
  for (uint32_t i = 0; i < current->api.threads; ++i)
    io_threads.emplace_back([&io] { io.run(); });

  // Re-read the node id on reload from the resolved settings, not the (empty) file key.
  auto reload_inputs = inputs;
  reload_inputs.command_line["node_id"] = current->node_id;
  config_reloader reloader{reload_inputs, current};
  auto root = sys.spawn(supervisor, "vigil", root_children(io, reloader), current);
  register_as(sys, "root", root);

  // The signal thread uses `sys` and `reloader`, so it ends before they do: once every actor is
  // done, `finished` is set and a SIGTERM directed at the thread wakes it to return.
  std::atomic<bool> finished{false};
  std::thread signal_thread{[&sys, root, sigs, &reloader, &finished] {
    for (;;) {
      int sig = 0;
      if (sigwait(&sigs, &sig) != 0)
        continue;
      if (finished)
        return;
      if (sig == SIGHUP) {
        spdlog::info("SIGHUP: reloading configuration");
        reloader.reload(root);
        continue;
      }
      spdlog::info("{}: shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
      notify_stopping();
      caf::anon_send_exit(root, caf::exit_reason::user_shutdown);
      // A second signal or the deadline forces the exit: an actor that never stops
      // must not keep the process (and systemd's stop job) hanging. Interrupted waits (a
      // debugger or LeakSanitizer attaching) resume with the time left.
      auto deadline = std::chrono::steady_clock::now() + shutdown_deadline;
      for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left <= 0ns)
          break;
        timespec ts{static_cast<time_t>(left.count() / 1'000'000'000),
                    static_cast<long>(left.count() % 1'000'000'000)};
        siginfo_t info;
        bool second_signal = sigtimedwait(&sigs, &info, &ts) > 0;
        if (finished)
          return;
        if (second_signal)
          break;
      }
      spdlog::critical("shutdown did not finish in time; {} actors still running; exiting",
                       sys.registry().running());
      spdlog::default_logger()->flush();
      std::_Exit(2);
    }
  }};

  spdlog::info("vigil {} running; node_id {}; state_dir {}", VIGIL_VERSION, current->node_id,
               current->state_dir);
  notify_ready("running");
  sys.await_all_actors_done();
  finished = true;
  pthread_kill(signal_thread.native_handle(), SIGTERM);
  signal_thread.join();
  for (auto name : registered_names)
    sys.registry().erase(caf::atom_from_string(name));
  io_guard.reset();
  io.stop();
  for (auto& t : io_threads)
    t.join();
  spdlog::info("stopped");
  return 0;
}

} // namespace vigil
