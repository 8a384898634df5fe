#include "core/log.h"

#include <spdlog/sinks/stdout_sinks.h>

namespace tierkv {

std::shared_ptr<spdlog::logger> MakeStderrLogger(const std::string& name, const std::string& level) {
  auto logger = spdlog::get(name);
  if (!logger) logger = spdlog::stderr_logger_mt(name);
  logger->set_pattern("%L %v");
  logger->set_level(spdlog::level::from_str(level));
  return logger;
}

}  // namespace tierkv
