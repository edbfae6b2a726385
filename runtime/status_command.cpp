#include "runtime/status_command.hpp"

#include "runtime/agent_client.hpp"

#include <iostream>

namespace vigil {

int run_status_command(const parsed_command_line& cl) {
  agent_request request;
  request.target = "/status";
  auto answer = ask_agent(cl, request);
  if (answer.exit_code != 0)
    return answer.exit_code;
  std::cout << (answer.body.is_discarded() ? answer.text : answer.body.dump(2)) << "\n";
  return answer.status == 200 ? 0 : 1;
}

} // namespace vigil
