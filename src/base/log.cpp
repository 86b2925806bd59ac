#include "base/log.hpp"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace kith::base {

void init_logging(const std::string& level, const std::filesystem::path& log_file) {
  std::shared_ptr<spdlog::logger> logger;
  try {
    if (log_file.empty()) {
      logger = spdlog::stderr_color_mt("kith");
    } else {
      logger = spdlog::basic_logger_mt("kith", log_file.string());
    }
  } catch (const spdlog::spdlog_ex&) {
    // Already initialised (e.g. twice in one test binary) or the log file is unwritable: keep stderr.
    logger = spdlog::get("kith");
    if (!logger) logger = spdlog::stderr_color_mt("kith-fallback");
  }
  logger->set_level(spdlog::level::from_str(level));
  logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ %v");
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

}  // namespace kith::base
