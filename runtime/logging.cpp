#include "runtime/logging.hpp"

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
  auto logger = std::make_shared<spdlog::logger>("vigil", sinks.begin(), sinks.end());
  logger->set_level(spdlog::level::from_str(s.level));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

} // namespace vigil
