#pragma once

#include "actors/cpu_collector.hpp"
#include "actors/disk_collector.hpp"
#include "actors/filesystem_collector.hpp"
#include "actors/memory_collector.hpp"
#include "actors/network_collector.hpp"
#include "actors/process_collector.hpp"
#include "tests/telemetry/fixture_machine.hpp"

#include <chrono>
#include <memory>

namespace vigil::test {

// 2025-01-01T00:00:00Z and five seconds later.
inline const wall_time wall0{std::chrono::milliseconds{1735689600000}};
inline const wall_time wall1 = wall0 + std::chrono::seconds{5};
inline const std::chrono::steady_clock::time_point steady0{std::chrono::hours{1000}};
inline const std::chrono::steady_clock::time_point steady1 = steady0 + std::chrono::seconds{5};

inline collector_options fixture_options(const fixture_machine& m) {
  collector_options o;
  o.root = m.root();
  o.user_name = fixture_user_name;
  return o;
}

// Round 0 as the baseline, round 1 five seconds later: the section of round 1.
template <class Sampler>
auto two_round_section(fixture_machine& m, const settings& s = {}) {
  Sampler sampler{fixture_options(m), s};
  auto first = sampler.sample(wall0, steady0);
  m.write_round(1);
  auto second = sampler.sample(wall1, steady1);
  m.write_round(0);
  return std::make_pair(first, second);
}

inline filesystems_section_ptr fixture_filesystems(const fixture_machine& m,
                                                   const settings& s = {}) {
  filesystem_sampler sampler{
      fixture_options(m), s,
      [&m](const std::string& p, struct ::statvfs& out) { return m.statvfs(p, out); }};
  return sampler.sample(wall1, steady1);
}

} // namespace vigil::test
