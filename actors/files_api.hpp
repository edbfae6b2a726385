#pragma once

// GET /api/files on the control API: a read-only file browser below api.file_roots (default
// /var/log). A directory answers its entries, a regular file a window of its content as text.
// The parameter parsing and the JSON are plain functions (tested without actors).
//
//   path       absolute; required. Resolved with realpath and refused (403) unless it is one of
//              the roots or below one, so neither ".." nor a symlink leads out of them.
//   offset     files: the first byte (default 0); negative: that many bytes before the end
//   max_bytes  files: the most bytes answered (default and ceiling: api.file_max_bytes)
//
// Errors are {"error", "detail"}: 400 a bad parameter (the detail names it), 403 outside the
// roots, not readable by the agent, or not a regular file or directory (FIFO, device, socket:
// never opened), 404 no such path inside a root, 500 a read failed.

#include "actors/control_api.hpp"
#include "io/files/file_browser.hpp"
#include "io/http/http_message.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <variant>

namespace vigil {

// The request, or the 400 answering a bad parameter. max_bytes is capped at `file_max_bytes`.
std::variant<browse_request, http_response>
parse_files_request(const std::map<std::string, std::string>& query, uint64_t file_max_bytes);

// {"path", "type": "directory", "entries": [{"name", "type", "size", "modified"}], "count",
// "total", "truncated"}; `modified` in ISO 8601 UTC.
nlohmann::json directory_listing_json(const directory_listing& listing);

// {"path", "type": "file", "size", "modified", "offset", "next_offset", "eof", "content"}.
nlohmann::json file_chunk_json(const file_chunk& chunk);

// The whole answer of one browse: 200 with the JSON above, or the error's status.
http_response files_response(const browse_result& result);

// Answers GET /api/files from the roots in the current settings.
void answer_files(control_api_actor::stateful_pointer<control_api_state> self,
                  const http_request& req, http_responder respond);

} // namespace vigil
