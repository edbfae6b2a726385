#include "actors/systemd_watchdog.hpp"

#include "io/system/systemd_notify.hpp"

#include <caf/all.hpp>

namespace vigil {

systemd_watchdog_actor::behavior_type
systemd_watchdog(systemd_watchdog_actor::stateful_pointer<systemd_watchdog_state> self,
                 std::chrono::microseconds interval) {
  self->state.interval = interval;
  self->send(self, atom::tick_v);
  return {
      [=](atom::tick) {
        notify_watchdog();
        ++self->state.pings;
        self->delayed_send(self, self->state.interval / 2, atom::tick_v);
      },
      [=](atom::status) { return self->state.pings; },
      [](atom::configure, const settings_ptr&) {},
  };
}

} // namespace vigil
