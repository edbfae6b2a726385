#pragma once

// Loads the settings from layers — built-in defaults, the config file (JSON with
// comments), the 0600 secrets file, the environment and the command line, each
// overriding the one before — and validates them. Every problem names where it
// came from (file and key, variable, or option) and what is wrong.

#include "messages/settings.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vigil {

inline constexpr const char* default_config_path = "/etc/vigil/vigil.json";

struct config_inputs {
  std::string config_path = default_config_path;
  bool config_path_explicit = false; // --config given: the file must exist
  // Command-line overrides as a JSON object in the settings' shape; values may be
  // strings that are converted to the key's type. `option_names` maps a dotted key
  // to the option that set it, for error messages.
  nlohmann::json command_line = nlohmann::json::object();
  std::map<std::string, std::string> option_names;
  std::map<std::string, std::string> environment; // VIGIL_* variables
  // POST /api/config: an RFC 7396 merge patch of the config file's document (null removes a
  // key), loaded as if it were written there. Refused when it names a secret or an unknown
  // key, or does not fit a key's type. The file itself is not touched.
  std::optional<nlohmann::json> config_patch;
};

struct config_result {
  settings_ptr value; // set when errors is empty
  std::vector<std::string> errors;
  std::vector<std::string> warnings;
  // With config_patch: the config file's document after the patch (what to write).
  std::optional<nlohmann::json> patched_document;
  bool ok() const { return errors.empty(); }
};

/// Reads the VIGIL_* variables this loader understands from the process environment.
std::map<std::string, std::string> vigil_environment();

config_result load_config(const config_inputs& in);

/// The effective settings as JSON in the config file's shape; secrets redacted.
nlohmann::json settings_to_json(const settings& s);

std::optional<duration> parse_duration(std::string_view text);
std::string format_duration(duration d);
std::optional<uint64_t> parse_byte_size(std::string_view text);

/// The candidate closest to `key` by edit distance, if it is close enough to be a
/// plausible typo.
std::optional<std::string> closest_match(std::string_view key,
                                         const std::vector<std::string>& candidates);

} // namespace vigil
