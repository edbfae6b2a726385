#pragma once

// Writes one secret into the secrets file (JSON, mode 0600) without ever leaving a
// partial or world-readable file: a private temporary file in the same directory is
// written, synced and renamed over the old one. Other keys are kept; comments are not.

#include <nlohmann/json_fwd.hpp>

#include <functional>
#include <string>
#include <vector>

namespace vigil {

/// Sets `key_path` (e.g. {"backend", "token"}) to `value` in the JSON file at `path`,
/// creating the file (0600) when missing. Throws std::runtime_error naming the file.
void write_secret(const std::string& path, const std::vector<std::string>& key_path,
                  const std::string& value);

/// Reads the JSON object at `path` (an empty one when the file is missing), lets `edit` change
/// it and writes it back (0600). Throws std::runtime_error naming the file.
void edit_secrets(const std::string& path, const std::function<void(nlohmann::json&)>& edit);

} // namespace vigil
