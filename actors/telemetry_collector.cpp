#include "actors/telemetry_collector.hpp"

#include "actors/container_collector.hpp"
#include "actors/cpu_collector.hpp"
#include "actors/disk_collector.hpp"
#include "actors/filesystem_collector.hpp"
#include "actors/memory_collector.hpp"
#include "actors/network_collector.hpp"
#include "actors/process_collector.hpp"
#include "actors/service_collector.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

namespace vigil {

namespace detail {

void report_collector_error(const char* actor_name, std::string& last_error,
                            const std::string& what) {
  if (what != last_error) // once per distinct failure, not once per tick
    spdlog::warn("{}: {}; its telemetry section keeps its last value", actor_name, what);
  last_error = what;
}

void report_collector_recovered(const char* actor_name, std::string& last_error) {
  spdlog::info("{}: sampling works again", actor_name);
  last_error.clear();
}

telemetry_hub_actor resolve_hub(caf::actor_system& sys, const telemetry_hub_actor& configured) {
  return configured ? configured : find_telemetry_hub(sys);
}

} // namespace detail

namespace {

using spawn_function = telemetry_collector_actor (*)(caf::actor_system&, collector_options,
                                                     settings_ptr);

child_spec_ptr collector_spec(std::string name, spawn_function spawn) {
  return std::make_shared<child_spec>(
      child_spec{std::move(name), [spawn](caf::actor_system& sys, const settings_ptr& s) {
                   return caf::actor_cast<caf::actor>(spawn(sys, collector_options{}, s));
                 }});
}

} // namespace

std::vector<child_spec_ptr> telemetry_collector_specs() {
  return {
      collector_spec("cpu_collector", spawn_cpu_collector),
      collector_spec("memory_collector", spawn_memory_collector),
      collector_spec("disk_collector", spawn_disk_collector),
      collector_spec("network_collector", spawn_network_collector),
      collector_spec("filesystem_collector", spawn_filesystem_collector),
      collector_spec("process_collector", spawn_process_collector),
      collector_spec("service_collector", spawn_service_collector),
      collector_spec("container_collector", spawn_container_collector),
  };
}

} // namespace vigil
