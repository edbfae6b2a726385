#pragma once

// Telemetry snapshots as history samples: every number of a snapshot under a documented
// metric name (docs/telemetry-format.md, "Metric names in the history"). The entity is part of
// the name (`disk./boot.used_percent`, `net.eth0.rx_bytes_per_s`, `user.alice.cpu_percent`),
// so one name is one series and labels stay empty.
//
// A section is emitted once per sample the collector took: a snapshot repeats the slow
// sections (filesystems, processes) and stale ones unchanged, and the history should not store
// those copies. Each section's values carry the time its collector sampled them.

#include "messages/history.hpp"
#include "messages/telemetry.hpp"

#include <array>
#include <optional>
#include <vector>

namespace vigil {

// What was emitted so far, per section: the sampled_at of its last emitted sample.
struct telemetry_sample_cursor {
  std::array<std::optional<wall_time>, telemetry_section_count> emitted{};
};

// The samples of the sections sampled after `cursor` (all of them for a fresh cursor), one
// metric_sample per section, plus `system.status_level` (0 light, 1 medium, 2 heavy) at the
// snapshot's time. Advances the cursor. Values that are not known are left out.
std::vector<metric_sample> telemetry_metric_samples(const telemetry_snapshot& snapshot,
                                                    telemetry_sample_cursor& cursor);

} // namespace vigil
