#pragma once

// The telemetry hub merges the collectors' sections into one immutable snapshot (sequence,
// timestamp, node id, hostname), marks a section stale when it was not refreshed within 3 ×
// its interval (a crashed collector is restarted by the telemetry supervisor meanwhile; the
// other sections keep flowing), tracks users above the per-user thresholds, classifies the
// system Light/Medium/Heavy, and publishes each snapshot to its subscribers by pointer.
//
// Subscribers send (subscribe, actor) and receive (publish, telemetry_snapshot_ptr) at most
// once per telemetry.interval; they are monitored and dropped when they die. (query) answers
// the latest snapshot. The history store restores the user-pressure state after a restart
// with (restore, user_pressure_state): runs of users still above a threshold keep their
// original `since`.

#include "io/system/host_info.hpp"
#include "messages/supervision.hpp"
#include "messages/telemetry.hpp"

#include <caf/typed_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <array>
#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace vigil {

using telemetry_hub_actor = caf::typed_actor<
    // From the collectors: a fresh section.
    caf::reacts_to<atom::publish, cpu_section_ptr>,
    caf::reacts_to<atom::publish, memory_section_ptr>,
    caf::reacts_to<atom::publish, disk_io_section_ptr>,
    caf::reacts_to<atom::publish, network_section_ptr>,
    caf::reacts_to<atom::publish, filesystems_section_ptr>,
    caf::reacts_to<atom::publish, processes_section_ptr>,
    caf::reacts_to<atom::publish, services_section_ptr>,
    caf::reacts_to<atom::publish, containers_section_ptr>,
    // From a collector: its last sample failed (the section keeps its previous data).
    caf::reacts_to<atom::failed, telemetry_section, std::string>,
    // Live snapshots: (publish, telemetry_snapshot_ptr) to the actor until it leaves or dies.
    caf::reacts_to<atom::subscribe, caf::actor>, caf::reacts_to<atom::unsubscribe, caf::actor>,
    // The latest snapshot (built now when none was published yet).
    caf::replies_to<atom::query>::with<telemetry_snapshot_ptr>,
    // Users above a threshold as saved by a previous run (history store).
    caf::reacts_to<atom::restore, user_pressure_state>,
    // INTERNAL: publish a snapshot now / periodic check that keeps snapshots (and staleness)
    // coming when no collector delivers.
    caf::reacts_to<atom::publish>, caf::reacts_to<atom::tick>, configurable>;

// --- pure logic, exposed for tests ---------------------------------------------------------------

struct status_inputs {
  std::optional<double> cpu_percent;
  std::optional<double> memory_percent;
  std::optional<double> load_per_core; // 1-minute load ÷ logical cores
  std::span<const user_entry> users;   // listed users (telemetry.users filters applied)
  std::size_t persistent_users = 0;
};

// SysMedic's classification with thresholds from telemetry.status and telemetry.users.
system_status classify_system_status(const status_inputs& in, const telemetry_settings& cfg);

std::string_view load_level_name(load_level level);  // "light", "medium", "heavy"
std::string_view load_level_label(load_level level); // "Light Usage", "Medium Usage", "Heavy Load"

// Advances the per-user tracking with one processes sample taken at `now`: a user (and metric)
// at or above its threshold starts or continues a run; below it (or no longer listed) the run
// ends. Runs of at least cfg.users.persistent_after are marked persistent.
void track_user_pressure(std::vector<user_pressure_entry>& tracked,
                         const std::vector<user_entry>& users, wall_time now,
                         const telemetry_settings& cfg);

// Merges a saved state: a run the hub does not track yet is taken over as is; one it tracks
// keeps the earlier `since`.
void restore_user_pressure(std::vector<user_pressure_entry>& tracked,
                           const user_pressure_state& saved);

std::string_view telemetry_section_name(telemetry_section s); // "cpu", "memory", "disk_io", ...

// --- the actor -----------------------------------------------------------------------------------

struct telemetry_hub_state {
  using steady = std::chrono::steady_clock;
  settings_ptr current;
  // The next snapshot as far as it is known between publications: the latest section of each
  // collector, the sections' states and the user-pressure runs. A snapshot is a copy of it.
  telemetry_snapshot draft;
  std::array<std::optional<steady::time_point>, telemetry_section_count> received; // last update
  steady::time_point started{};
  std::vector<caf::actor> subscribers;
  telemetry_snapshot_ptr latest;
  uint64_t sequence = 0;
  std::optional<steady::time_point> last_publish;
  bool publish_pending = false;
  cached_host_info host{std::chrono::minutes{1}};
  static inline const char* name = "telemetry_hub";
};

telemetry_hub_actor::behavior_type
telemetry_hub(telemetry_hub_actor::stateful_pointer<telemetry_hub_state> self,
              settings_ptr current);

// The hub registered as "telemetry" (the current incarnation), or a null handle.
telemetry_hub_actor find_telemetry_hub(caf::actor_system& sys);

} // namespace vigil
