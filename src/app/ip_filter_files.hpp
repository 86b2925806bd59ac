#pragma once
// Reads the IP filter files named by the `safety.ipfilter` setting and parses them with safety's
// parsers. The I/O half of the IP filter: safety stays sans-IO, swarm gets plain ranges.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "swarm/types.hpp"

namespace kith::app {

struct LoadedIpFilter {
  std::vector<swarm::AddressRange> ranges;
  // {"files": [{path, format, ranges, allowed, bad_lines, bad_line_numbers, first_error}], "ranges": N}
  nlohmann::json summary;
};

// `paths`: the files of the setting (Settings::get_list; none: no filter).
// Bad lines are skipped and reported in the summary (and logged as a warning). Fails, with
// safety::errc::bad_list, when a file cannot be read or has lines but not one valid range: a
// filter the user asked for must not silently be missing. `log`: false to only check the files
// (the settings registry, which may run before logging is set up, when spdlog writes to stdout).
Result<LoadedIpFilter> load_ip_filter_files(const std::vector<std::string>& paths, bool log = true);

}  // namespace kith::app
