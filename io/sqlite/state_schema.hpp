#pragma once

#include "io/sqlite/sqlite_database.hpp"

#include <span>

namespace vigil {

// The schema of the agent's state database (outbox, checkpoints, event history). One ordered
// list because they share one file and one PRAGMA user_version; append new steps, never edit.
std::span<const sqlite_migration> state_schema_migrations();

// Applies the pending steps; cheap and idempotent, every store calls it on construction.
void ensure_state_schema(sqlite_database& db);

} // namespace vigil
