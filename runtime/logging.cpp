#include "runtime/logging.hpp"

#include <spdlog/sinks/dist_sink.h>
#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdlib>

namespace vigil {

void configure_logging(const log_settings& s) {
  std::vector<spdlog::sink_ptr> sinks;
  auto console = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  // Under systemd, journald timestamps every line itself.
  console->set_pattern(std::getenv("JOURNAL_STREAM") ? "[%l] %v" : "%Y-%m-%dT%H:%M:%S.%e [%l] %v");
  sinks.push_back(console);
  if (!s.file.empty()) {
    try {
      auto file = std::make_shared<spdlog::sinks::rotating_file_sink_mt>(s.file, s.file_max_bytes,
                                                                         s.file_max_files);
      file->set_pattern("%Y-%m-%dT%H:%M:%S.%e [%l] %v");
      sinks.push_back(file);
    } catch (const spdlog::spdlog_ex& e) {
      console->log(spdlog::details::log_msg{"vigil", spdlog::level::err,
                                            "cannot open log file " + s.file + ": " + e.what()});
    }
  }
  // One logger for the life of the process: actors log through spdlog's raw default-logger
  // pointer while a reload runs here, so a reload swaps the sinks inside it (under the
  // distributing sink's lock) instead of replacing the logger they may be using.
  static const auto outputs = std::make_shared<spdlog::sinks::dist_sink_mt>();
  static const auto logger = [] {
    auto l = std::make_shared<spdlog::logger>("vigil", outputs);
    l->flush_on(spdlog::level::info);
    spdlog::set_default_logger(l);
    return l;
  }();
  outputs->set_sinks(std::move(sinks));
  logger->set_level(spdlog::level::from_str(s.level));
}

} // namespace vigil
