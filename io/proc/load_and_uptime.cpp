#include "io/proc/load_and_uptime.hpp"

#include "io/proc/text_scan.hpp"

#include <stdexcept>

namespace vigil::proc {

using namespace detail;

namespace {

std::runtime_error malformed(std::string_view origin) {
  return std::runtime_error(std::string(origin) + ": malformed content");
}

} // namespace

load_average parse_load_average(std::string_view text, std::string_view origin) {
  // "0.92 1.40 1.62 5/109 4303"
  load_average load;
  if (!parse_double(next_token(text), load.one_minute) ||
      !parse_double(next_token(text), load.five_minutes) ||
      !parse_double(next_token(text), load.fifteen_minutes))
    throw malformed(origin);
  auto tasks = next_token(text);
  auto slash = tasks.find('/');
  if (slash == std::string_view::npos ||
      !parse_integer(tasks.substr(0, slash), load.running_tasks) ||
      !parse_integer(tasks.substr(slash + 1), load.total_tasks))
    throw malformed(origin);
  next_integer(text, load.last_pid); // optional
  return load;
}

system_uptime parse_uptime(std::string_view text, std::string_view origin) {
  // "10535.99 6905.25"
  system_uptime uptime;
  if (!parse_double(next_token(text), uptime.uptime_seconds))
    throw malformed(origin);
  parse_double(next_token(text), uptime.idle_seconds); // optional
  return uptime;
}

load_and_uptime_reader::load_and_uptime_reader(const std::filesystem::path& root)
    : loadavg_path_(path_under(root, "proc/loadavg"))
    , uptime_path_(path_under(root, "proc/uptime"))
    , file_(256) {}

load_average load_and_uptime_reader::read_load_average() {
  return parse_load_average(file_.read(loadavg_path_), loadavg_path_);
}

system_uptime load_and_uptime_reader::read_uptime() {
  return parse_uptime(file_.read(uptime_path_), uptime_path_);
}

} // namespace vigil::proc
