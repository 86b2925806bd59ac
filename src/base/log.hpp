#pragma once
// Logging goes through spdlog. The node logs to stderr (daemon) or to HOME/kith.log (CLI transient
// mode, so the progress line stays readable).
#include <filesystem>
#include <string>

namespace kith::base {

// level: "trace", "debug", "info", "warn", "error", "off". An empty log_file means stderr.
void init_logging(const std::string& level, const std::filesystem::path& log_file = {});

}  // namespace kith::base
