#pragma once

// Docker containers from the Engine API: HTTP/1.1 `GET /containers/json?all=1` on the daemon's
// unix socket (/var/run/docker.sock). One request per call, on a private io_context run by the
// calling thread and bounded by a deadline: the call blocks for at most `timeout`, so run it
// off the actor scheduler.

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace vigil::docker {

struct container_info {
  std::string id;           // full 64-hex id
  std::string name;         // first of Names, without the leading "/"
  std::string image;        // as created, e.g. "nginx:1.25"
  std::string state;        // created, running, paused, restarting, removing, exited, dead
  std::string status;       // human text: "Up 2 hours", "Exited (0) 3 days ago"
  std::int64_t created = 0; // seconds since the epoch
};

struct container_listing {
  bool reachable = false; // false: no engine at the socket (absent, refused, no permission)
  std::string reason;     // why not reachable
  std::vector<container_info> containers;
};

// The engine answered, but not usefully: a timeout, an HTTP error status, a body that is not
// the documented container list.
class engine_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// Parses the body of GET /containers/json (Engine API ContainerSummary[]). Throws engine_error.
std::vector<container_info> parse_container_list(const std::string& body);

// Lists every container (all=1: stopped ones too). A socket that does not exist, refuses the
// connection or may not be opened is "not reachable"; anything else that fails throws
// engine_error.
container_listing list_containers(const std::string& socket_path,
                                  std::chrono::milliseconds timeout);

} // namespace vigil::docker
