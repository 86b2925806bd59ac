// Fuzzes LAN beacons (src/lan), which arrive from anyone on the segment: the codec and the receive
// filter that sits in front of it. Invariants: a beacon that decodes is exactly BEACON_SIZE bytes and
// parses to the same fields without verification; the filter never accepts what decode rejects.
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "lan/beacon.hpp"
#include "lan/filter.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace kith::lan;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto decoded = decode_beacon(input);
  if (decoded) {
    if (input.size() != BEACON_SIZE || !looks_like_beacon(input)) std::abort();
    auto parsed = parse_beacon_unverified(input);
    if (!parsed || !(*parsed == *decoded)) std::abort();
  }
  BeaconFilter filter({}, kith::crypto::PublicKey{});
  const auto now = BeaconFilter::Clock::time_point{} + std::chrono::hours(1);
  auto d = filter.consider("192.0.2.1", input, now);
  if (d.verdict == Verdict::accepted && !decoded) std::abort();
  if (decoded && d.verdict != Verdict::accepted && d.verdict != Verdict::own) std::abort();
  // The same datagram again is never accepted twice.
  if (filter.consider("192.0.2.1", input, now).verdict == Verdict::accepted) std::abort();
  return 0;
}
