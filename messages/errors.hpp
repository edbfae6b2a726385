#pragma once

// vigil's own error codes, carried in caf::error with the category "vigil".

#include <caf/error.hpp>
#include <caf/make_message.hpp> // CAF_ERROR_CODE_ENUM builds a caf::message

#include <cstdint>
#include <string>

namespace vigil {

enum class errc : uint8_t {
  outbox_full = 1, // the stream's byte bound is reached: retry later, keep the data
  storage_failed,  // SQLite failed (disk full, I/O): retry later, keep the data
  not_connected,   // the sink has no connection
};

inline std::string to_string(errc x) {
  switch (x) {
  case errc::outbox_full:
    return "outbox_full";
  case errc::storage_failed:
    return "storage_failed";
  case errc::not_connected:
    return "not_connected";
  }
  return "unknown";
}

} // namespace vigil

CAF_ERROR_CODE_ENUM(vigil::errc, "vigil")
