#include "actors/supervisor.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace vigil {

namespace {

using namespace std::chrono_literals;

// How long a child may take to stop before it is killed.
constexpr auto stop_grace = 10s;

supervisor_state::child* find_child(supervisor_pointer self, const std::string& name) {
  for (auto& c : self->state.children)
    if (c.spec->name == name)
      return &c;
  return nullptr;
}

void start_child(supervisor_pointer self, supervisor_state::child& c) {
  c.handle = c.spec->start(self->home_system(), self->state.current);
  c.state = "running";
  self->monitor(c.handle);
}

// Stops the last live child; the down handler calls this again until none is left.
void stop_next_child(supervisor_pointer self) {
  auto& st = self->state;
  auto live = std::find_if(st.children.rbegin(), st.children.rend(),
                           [](auto& c) { return static_cast<bool>(c.handle); });
  if (live == st.children.rend()) {
    self->quit(st.exit_reason);
    return;
  }
  self->send_exit(live->handle, caf::exit_reason::user_shutdown);
  // A child that ignores the request must not hang the whole shutdown.
  auto victim = live->handle;
  caf::delayed_anon_send(victim, stop_grace,
                         caf::exit_msg{self->address(), caf::exit_reason::kill});
}

void on_child_down(supervisor_pointer self, const caf::down_msg& dm) {
  auto& st = self->state;
  auto i = std::find_if(st.children.begin(), st.children.end(),
                        [&](auto& c) { return c.handle && c.handle.address() == dm.source; });
  if (i == st.children.end())
    return;
  auto& c = *i;
  c.handle = nullptr;
  if (st.shutting_down) {
    c.state = "stopped";
    stop_next_child(self);
    return;
  }
  bool abnormal = dm.reason && dm.reason != caf::exit_reason::user_shutdown;
  if (!abnormal && c.spec->policy == restart_policy::transient) {
    c.state = "stopped";
    return;
  }
  c.last_error = dm.reason ? self->home_system().render(dm.reason) : "exited";
  auto& limits = st.current->supervision;
  auto now = caf::make_timestamp();
  c.crashes.push_back(now);
  while (!c.crashes.empty() && now - c.crashes.front() > limits.window)
    c.crashes.pop_front();
  if (c.crashes.size() > limits.max_restarts) {
    c.state = "failed";
    spdlog::error("{}: giving up on {} after {} crashes within {} ms; last error: {}", st.label,
                  c.spec->name, c.crashes.size(), limits.window.count(), c.last_error);
    return;
  }
  auto factor = uint64_t{1} << std::min<size_t>(c.crashes.size() - 1, 20);
  auto backoff = std::min<caf::timespan>(limits.backoff_max, limits.backoff_initial * factor);
  c.state = "restarting";
  ++c.restarts;
  spdlog::warn("{}: {} stopped ({}); restarting in {} ms", st.label, c.spec->name, c.last_error,
               std::chrono::duration_cast<std::chrono::milliseconds>(backoff).count());
  self->delayed_send(self, backoff, atom::restart_v, c.spec->name, c.generation);
}

child_status status_of(const supervisor_state::child& c) {
  return {c.spec->name, c.state, c.restarts, c.last_error, {}};
}

} // namespace

supervisor_actor::behavior_type supervisor(supervisor_pointer self, std::string label,
                                           std::vector<child_spec_ptr> children,
                                           settings_ptr current) {
  auto& st = self->state;
  st.label = std::move(label);
  st.current = std::move(current);
  for (auto& spec : children) {
    st.children.push_back({std::move(spec), {}, {}, 0, "running", {}, 0});
    start_child(self, st.children.back());
  }
  self->set_down_handler([=](caf::down_msg& dm) { on_child_down(self, dm); });
  self->set_exit_handler([=](caf::exit_msg& em) {
    auto& st = self->state;
    if (st.shutting_down)
      return;
    st.shutting_down = true;
    st.exit_reason = em.reason;
    for (auto& c : st.children)
      if (!c.handle && c.state == "restarting")
        c.state = "stopped";
    stop_next_child(self);
  });
  return {
      [=](atom::status) -> caf::result<std::vector<child_status>> {
        auto& st = self->state;
        auto result = std::make_shared<std::vector<child_status>>();
        auto pending = std::make_shared<size_t>(0);
        for (auto& c : st.children) {
          result->push_back(status_of(c));
          if (c.spec->is_supervisor && c.handle)
            ++*pending;
        }
        if (*pending == 0)
          return *result;
        // Only now: creating a promise takes over the reply to this request.
        auto rp = self->make_response_promise<std::vector<child_status>>();
        for (size_t i = 0; i < st.children.size(); ++i) {
          auto& c = st.children[i];
          if (!c.spec->is_supervisor || !c.handle)
            continue;
          auto sub = caf::actor_cast<supervisor_actor>(c.handle);
          auto done = [=]() mutable {
            if (--*pending == 0)
              rp.deliver(std::move(*result));
          };
          self->request(sub, 5s, atom::status_v)
              .then(
                  [=](std::vector<child_status>& xs) mutable {
                    (*result)[i].children = std::move(xs);
                    done();
                  },
                  [=](caf::error& err) mutable {
                    (*result)[i].last_error =
                        "status unavailable: " + self->home_system().render(err);
                    done();
                  });
        }
        return rp;
      },
      [=](atom::crash, std::string& path) -> caf::result<std::string> {
        auto& st = self->state;
        if (!st.current->fault_injection)
          return caf::make_error(
              caf::sec::invalid_argument,
              "fault injection is disabled; start with --enable-fault-injection");
        auto slash = path.find('/');
        auto* c = find_child(self, path.substr(0, slash));
        if (c == nullptr || !c->handle)
          return caf::make_error(caf::sec::invalid_argument, "no running child at " + path);
        if (slash != std::string::npos) {
          if (!c->spec->is_supervisor)
            return caf::make_error(caf::sec::invalid_argument, c->spec->name + " has no children");
          return self->delegate(caf::actor_cast<supervisor_actor>(c->handle), atom::crash_v,
                                path.substr(slash + 1));
        }
        spdlog::warn("{}: fault injection crashes {}", st.label, path);
        self->send_exit(c->handle, caf::make_error(caf::sec::runtime_error, "fault injection"));
        return st.label + "/" + path;
      },
      [=](atom::add_child, child_spec_ptr& spec) -> caf::actor {
        auto& st = self->state;
        if (auto* old = find_child(self, spec->name)) {
          if (old->handle) {
            self->demonitor(old->handle);
            self->send_exit(old->handle, caf::exit_reason::user_shutdown);
          }
          *old = {std::move(spec), {}, {}, 0, "running", {}, old->generation + 1};
          start_child(self, *old);
          return old->handle;
        }
        st.children.push_back({std::move(spec), {}, {}, 0, "running", {}, 0});
        start_child(self, st.children.back());
        return st.children.back().handle;
      },
      [=](atom::stop_child, const std::string& name) {
        auto& cs = self->state.children;
        auto i = std::find_if(cs.begin(), cs.end(), [&](auto& c) { return c.spec->name == name; });
        if (i == cs.end())
          return;
        if (i->handle) {
          self->demonitor(i->handle);
          self->send_exit(i->handle, caf::exit_reason::user_shutdown);
        }
        cs.erase(i);
      },
      [=](atom::restart, const std::string& name, uint64_t generation) {
        auto* c = find_child(self, name);
        if (c && !self->state.shutting_down && !c->handle && c->generation == generation &&
            c->state == "restarting")
          start_child(self, *c);
      },
      [=](atom::configure, settings_ptr& s) {
        self->state.current = s;
        for (auto& c : self->state.children)
          if (c.handle)
            caf::anon_send(c.handle, atom::configure_v, s);
      },
  };
}

} // namespace vigil
