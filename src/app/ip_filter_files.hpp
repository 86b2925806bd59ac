#pragma once
// Reads the IP filter files named by the `safety.ipfilter` setting and parses them with safety's
// parsers. The I/O half of the IP filter: safety stays sans-IO, swarm gets plain ranges.
#include <cstdint>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "swarm/types.hpp"

namespace kith::app {

// What one file of the filter held.
struct IpFilterFile {
  std::string path;
  std::string format;  // "p2p" or "emule_dat"
  std::size_t ranges = 0;
  int allowed = 0;  // lines that allow rather than block (not applied)
  int bad_lines = 0;
  std::vector<int> bad_line_numbers;  // the first few
  std::string first_error;
};

struct IpFilterSummary {
  std::vector<IpFilterFile> files;
  std::size_t ranges = 0;
};

struct LoadedIpFilter {
  std::vector<swarm::AddressRange> ranges;
  IpFilterSummary summary;
};

// `paths`: the files of the setting (Settings::get_list; none: no filter).
// Bad lines are skipped and reported in the summary (and logged as a warning). Fails, with
// safety::errc::bad_list, when a file cannot be read or has lines but not one valid range: a
// filter the user asked for must not silently be missing. `log`: false to only check the files
// (the settings registry, which may run before logging is set up, when spdlog writes to stdout).
Result<LoadedIpFilter> load_ip_filter_files(const std::vector<std::string>& paths, bool log = true);

}  // namespace kith::app
