#pragma once

// Replaces a file without ever leaving it partial or, for a moment, with other permissions: a
// private temporary file in the same directory is written, synced and renamed over it.

#include <string>
#include <string_view>
#include <sys/types.h>

namespace vigil {

/// Writes `text` to `path` with permissions `mode`. Throws std::system_error whose text starts
/// with `path`; no temporary file is left behind.
void write_file_atomically(const std::string& path, std::string_view text, mode_t mode);

} // namespace vigil
