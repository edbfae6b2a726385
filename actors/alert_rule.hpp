#pragma once

// One alert rule as an actor. It subscribes to the telemetry hub, reads its metric from each
// snapshot (one value per subject: a mount, an interface, a unit, a user), and moves each
// subject through ok → pending → firing → ok: pending while breached for less than the rule's
// duration (a shorter spike raises nothing), firing once breached that long, back to ok only
// past the clear threshold (hysteresis). It tells the alert manager of each firing, of a
// reminder every cooldown while firing, and of the recovery.
//
// The snapshot's timestamp is the rule's clock, so tests drive a rule with snapshots of
// their own. A rule that (re)starts asks the manager which of its subjects are firing and
// resumes them: a restart neither repeats a notification nor forgets a recovery. A manager
// that restarts is reconciled with the other way round: the rule pauses until the new one
// answers, then reports the firings it does not know and the recoveries it missed.
//
// The rule reads settings from `alerts` on configure: unchanged, it keeps its timers;
// changed, it starts over; gone or disabled, it stops (the manager starts new rules).

#include "messages/alerts.hpp"
#include "messages/settings.hpp"
#include "messages/telemetry.hpp"

#include <caf/typed_event_based_actor.hpp>

#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace vigil {

// --- pure logic, exposed for tests ---------------------------------------------------------------

/// The seed's rules (cpu_critical … high_processes) plus load, services and persistent users.
std::vector<alert_rule_settings> builtin_alert_rules();

/// The built-in rules (when default_rules) with configured ones applied by id, then the
/// configured rules with new ids; disabled rules are left out.
std::vector<alert_rule_settings> effective_alert_rules(const alerts_settings& s);

/// The rule named `id` among the effective ones, if enabled.
std::optional<alert_rule_settings> find_alert_rule(const alerts_settings& s, const std::string& id);

bool same_alert_rule(const alert_rule_settings& a, const alert_rule_settings& b);

/// Errors of a rule's settings, each naming the key below `key` (e.g. "alerts.rules[2]").
std::vector<std::string> check_alert_rule(const alert_rule_settings& r, const std::string& key);

/// One subject's value in a snapshot.
struct rule_reading {
  std::string subject;
  double value = 0;
  std::optional<wall_time> since; // persistent_user: the hub's run start
  std::string cause;
  std::vector<std::string> top_consumers;
};

struct rule_readings {
  bool evaluated = false; // false: the section is missing or stale; nothing changes
  std::vector<rule_reading> readings;
  std::vector<std::string> held; // present but not measurable now (a hung mount): kept as is
};

rule_readings read_rule_metric(const alert_rule_settings& r, const telemetry_snapshot& snap);

/// A moving average in one-minute buckets over a window (baseline rules). It answers only
/// once a sixth of the window is covered, so a fresh start does not compare against noise.
class moving_baseline {
public:
  void add(wall_time at, double value, duration window);
  /// Replaces what was learnt by `level` over just enough minutes to answer.
  void seed(wall_time now, double level, duration window);
  std::optional<double> average(wall_time now, duration window) const;

private:
  struct bucket {
    int64_t minute = 0;
    double sum = 0;
    uint32_t count = 0;
  };
  std::deque<bucket> buckets_;
};

enum class alert_phase : uint8_t { ok, pending, firing };

struct alert_tracker {
  alert_phase phase = alert_phase::ok;
  wall_time since{};       // breach start (pending and firing)
  wall_time last_notice{}; // the last firing or reminder
  double peak = 0;
  double last_value = 0;
  double compared_with = 0; // the threshold the last value was compared with
  moving_baseline baseline;
};

/// Advances a subject's tracker with one reading taken at `now`; returns the change to
/// report, if any.
std::optional<alert_change> step_alert(alert_tracker& t, const alert_rule_settings& r,
                                       const rule_reading& reading, wall_time now);

// --- the actor -----------------------------------------------------------------------------------

struct alert_rule_state {
  alert_rule_settings rule;
  std::map<std::string, alert_tracker> trackers; // by subject
  bool adopted = false;        // the manager's firing subjects were taken over (once, at start)
  alert_manager_actor manager; // the one in sync with the trackers; null: (re)connecting
  caf::actor_addr dead_manager;
  caf::actor_addr hub;
  caf::actor_addr dead_hub;
  std::string hostname; // of the latest snapshot
  static inline const char* name = "alert_rule";
};

alert_rule_actor::behavior_type
alert_rule(alert_rule_actor::stateful_pointer<alert_rule_state> self, alert_rule_settings rule);

/// The running alert manager (registered as "alerts"), or a null handle.
alert_manager_actor find_alert_manager(caf::actor_system& sys);

} // namespace vigil
