// Fuzz target: the IP filter files (PeerGuardian .p2p, eMule ipfilter.dat) and block-list entries —
// text that comes from list publishers and users.
#include <cstdint>
#include <string_view>

#include "safety/block_entry.hpp"
#include "safety/ip_filter.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  using namespace kith::safety;
  for (auto format : {IpFilterFormat::p2p, IpFilterFormat::emule_dat}) {
    auto list = parse_ip_filter(input, format);
    // Invariants the swarm side relies on: every range parses back, one family, first <= last.
    for (const auto& r : list.ranges) {
      IpAddress a, b;
      if (!parse_ip_address(r.first, a) || !parse_ip_address(r.last, b) || a.v6 != b.v6 || b < a)
        __builtin_trap();
    }
    if (list.bad_line_numbers.size() > IpFilterList::MAX_BAD_LINE_NUMBERS) __builtin_trap();
  }
  (void)detect_ip_filter_format("list.txt", input);
  if (input.size() <= 80) {
    for (auto kind : {BlockKind::info_hash, BlockKind::peer_id}) {
      if (auto v = normalise_block_value(kind, input); v && kind == BlockKind::peer_id)
        (void)peer_id_pattern(*v);
    }
  }
  return 0;
}
