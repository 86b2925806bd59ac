// Fuzzes safety::parse_report (reports in HOME/reports/ are read back by `kith reports`; anyone who
// can write that folder controls their bytes). Invariant: whatever parses must survive a round trip.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "safety/report.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto r = kith::safety::parse_report(std::string_view(reinterpret_cast<const char*>(data), size));
  if (r) {
    auto again = kith::safety::parse_report(kith::safety::to_json(*r).dump());
    if (!again || again->id != r->id || again->files.size() != r->files.size()) std::abort();
  }
  return 0;
}
