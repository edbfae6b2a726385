#pragma once

// Reads the expiry of a JSON Web Token without verifying it: the agent only needs to know
// when to ask the backend for a new one; the backend verifies signatures.

#include <chrono>
#include <optional>
#include <string_view>

namespace vigil {

/// The `exp` claim of a JWT (header.payload.signature, base64url), or nullopt when the token
/// is not a JWT or has no numeric `exp`.
std::optional<std::chrono::system_clock::time_point> jwt_expiry(std::string_view token);

} // namespace vigil
