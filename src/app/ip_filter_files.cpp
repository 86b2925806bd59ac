#include "app/ip_filter_files.hpp"

#include <spdlog/spdlog.h>

#include "base/fs.hpp"
#include "safety/errors.hpp"
#include "safety/ip_filter.hpp"

namespace kith::app {
Result<LoadedIpFilter> load_ip_filter_files(const std::vector<std::string>& paths, bool log) {
  LoadedIpFilter out;
  for (const auto& path : paths) {
    auto text = base::read_file(path);
    if (!text) {
      return fail(safety::make_error_code(safety::errc::bad_list),
                  "cannot read IP filter " + path + " (setting safety.ipfilter): " + text.error().message);
    }
    auto format = safety::detect_ip_filter_format(path, *text);
    auto list = safety::parse_ip_filter(*text, format);
    const char* format_name = format == safety::IpFilterFormat::p2p ? "p2p" : "emule_dat";
    if (list.ranges.empty() && list.allowed == 0 && list.bad_lines > 0) {
      return fail(
          safety::make_error_code(safety::errc::bad_list),
          "IP filter " + path + " has no valid line (read as " + format_name + "; " + list.first_error + ")");
    }
    if (log && list.bad_lines > 0) {
      std::string numbers;
      for (int n : list.bad_line_numbers) numbers += (numbers.empty() ? "" : ", ") + std::to_string(n);
      spdlog::warn("IP filter {}: skipped {} bad lines (lines {}{}); first: {}", path, list.bad_lines,
                   numbers, list.bad_lines > static_cast<int>(list.bad_line_numbers.size()) ? ", ..." : "",
                   list.first_error);
    }
    if (log) spdlog::info("IP filter {}: {} blocked ranges ({})", path, list.ranges.size(), format_name);
    out.summary.files.push_back({path, format_name, list.ranges.size(), list.allowed, list.bad_lines,
                                 list.bad_line_numbers, list.first_error});
    for (auto& r : list.ranges) out.ranges.push_back({std::move(r.first), std::move(r.last)});
  }
  out.summary.ranges = out.ranges.size();
  return out;
}

}  // namespace kith::app
