#pragma once

// The agent's persistent identity: a UUID kept in the state directory. It is
// derived once from /etc/machine-id (hashed with an application key, as systemd
// recommends, so the machine id itself is not disclosed) or random when there is
// none, and never from an IP address, which changes and collides behind NAT.

#include <string>

namespace vigil {

/// Returns the UUID stored in `state_dir`/node_id, creating it on first use.
/// Throws std::system_error naming the file when it cannot be read or written.
std::string load_or_create_node_id(const std::string& state_dir,
                                   const std::string& machine_id_path = "/etc/machine-id");

/// True for the canonical 8-4-4-4-12 lower-case hex form.
bool is_uuid(const std::string& text);

} // namespace vigil
