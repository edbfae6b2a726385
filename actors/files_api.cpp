#include "actors/files_api.hpp"

#include "io/logs/timestamp_parser.hpp"

#include <algorithm>
#include <charconv>
#include <optional>

namespace vigil {

namespace {

using nlohmann::json;

std::string iso(std::chrono::system_clock::time_point time) {
  return format_iso8601_utc(std::chrono::floor<std::chrono::milliseconds>(time));
}

// The whole of `text` as a number, else nullopt.
template <class Integer>
std::optional<Integer> parse_integer(const std::string& text) {
  Integer value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size())
    return std::nullopt;
  return value;
}

http_response bad_parameter(const std::string& parameter, const std::string& detail) {
  return json_error_response(400, "bad request", parameter + ": " + detail);
}

} // namespace

std::variant<browse_request, http_response>
parse_files_request(const std::map<std::string, std::string>& query, uint64_t file_max_bytes) {
  browse_request request;
  request.max_bytes = file_max_bytes;
  auto path = query.find("path");
  if (path == query.end() || path->second.empty())
    return bad_parameter("path", "required: an absolute path below one of api.file_roots");
  request.path = path->second;
  if (auto offset = query.find("offset"); offset != query.end()) {
    auto value = parse_integer<int64_t>(offset->second);
    if (!value)
      return bad_parameter("offset",
                           "expected an integer (negative: bytes before the end), not \"" +
                               offset->second + "\"");
    request.offset = *value;
  }
  if (auto max_bytes = query.find("max_bytes"); max_bytes != query.end()) {
    auto value = parse_integer<uint64_t>(max_bytes->second);
    if (!value)
      return bad_parameter("max_bytes",
                           "expected a non-negative integer, not \"" + max_bytes->second + "\"");
    request.max_bytes = std::min(*value, file_max_bytes);
  }
  return request;
}

json directory_listing_json(const directory_listing& listing) {
  json entries = json::array();
  for (const auto& entry : listing.entries)
    entries.push_back({{"name", entry.name},
                       {"type", to_string(entry.kind)},
                       {"size", entry.size},
                       {"modified", iso(entry.modified)}});
  return {{"path", listing.path},          {"type", "directory"},
          {"entries", std::move(entries)}, {"count", listing.entries.size()},
          {"total", listing.total},        {"truncated", listing.truncated}};
}

json file_chunk_json(const file_chunk& chunk) {
  return {{"path", chunk.path},     {"type", "file"},
          {"size", chunk.size},     {"modified", iso(chunk.modified)},
          {"offset", chunk.offset}, {"next_offset", chunk.next_offset},
          {"eof", chunk.eof},       {"content", chunk.text}};
}

http_response files_response(const browse_result& result) {
  if (auto* listing = std::get_if<directory_listing>(&result))
    return {200, "application/json", directory_listing_json(*listing).dump(), {}};
  if (auto* chunk = std::get_if<file_chunk>(&result))
    return {200, "application/json", file_chunk_json(*chunk).dump(), {}};
  const auto& failure = std::get<browse_error>(result);
  switch (failure.kind) {
  case browse_error_kind::bad_request:
    return json_error_response(400, "bad request", failure.detail);
  case browse_error_kind::forbidden:
    return json_error_response(403, "forbidden", failure.detail);
  case browse_error_kind::not_found:
    return json_error_response(404, "not found", failure.detail);
  case browse_error_kind::not_regular:
    return json_error_response(403, "not a regular file", failure.detail);
  case browse_error_kind::io_error:
    break;
  }
  return json_error_response(500, "read failed", failure.detail);
}

void answer_files(control_api_actor::stateful_pointer<control_api_state> self,
                  const http_request& req, http_responder respond) {
  const auto& api = self->state.current->api;
  auto parsed = parse_files_request(req.query, api.file_max_bytes);
  if (auto* bad = std::get_if<http_response>(&parsed))
    return respond(std::move(*bad));
  // On the actor's thread: a read is at most api.file_max_bytes (≤ 64 MiB), a listing at most
  // 10,000 entries, and no FIFO or device is opened, so only a hung network mount could stall it.
  respond(files_response(browse(api.file_roots, std::get<browse_request>(parsed))));
}

} // namespace vigil
