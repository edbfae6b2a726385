#pragma once

// The CLI's side of the control API (`vigil status`, `vigil alerts`): the address and a token
// come from the same configuration the agent reads, unless --url is given; one request is
// sent and its answer awaited.

#include "runtime/command_line.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace vigil {

struct agent_request {
  std::string method = "GET";
  std::string target;         // path and query: "/api/alerts?state=firing"
  nlohmann::json body;        // sent as JSON unless null
  bool needs_control = false; // prefer a token with the control scope
};

struct agent_answer {
  // 0: the agent answered, whatever the status; 1: the configuration is invalid; 3: the agent
  // is not reachable. The reason for 1 and 3 has been written to stderr.
  int exit_code = 0;
  int status = 0;      // the HTTP status when exit_code is 0
  std::string text;    // the body as received
  nlohmann::json body; // the body parsed; is_discarded() when it is not JSON
};

/// Sends `request` to the agent `cl` designates (its --config, --secrets-file and --url) and
/// waits for the answer, at most 10 s.
agent_answer ask_agent(const parsed_command_line& cl, const agent_request& request);

/// Writes an error answer's detail ({"error", "detail"}, or the text when it is not JSON) to
/// stderr. Returns 1, the exit code of an API error.
int report_api_error(const agent_answer& answer);

} // namespace vigil
