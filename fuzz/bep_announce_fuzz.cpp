// Fuzzes a local discovery datagram from anyone on the LAN (src/bep/announce.hpp). Invariants: an
// accepted announce stays within the limits and re-encodes to one that decodes the same; every
// announced address, resolved against an IPv4 and a scoped IPv6 source, is either dropped or a
// tcp:// URL that is no longer than the address and the source together.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "bep/announce.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace kith::bep;
  const std::string_view datagram(reinterpret_cast<const char*>(data), size);
  auto a = decode_announce(datagram);
  if (!a) return 0;
  if (datagram.size() > MAX_ANNOUNCE || a->addresses.size() > MAX_ANNOUNCE_ADDRESSES) std::abort();
  auto back = decode_announce(encode_announce(*a));
  if (!back || back->id != a->id || back->addresses != a->addresses || back->instance_id != a->instance_id)
    std::abort();
  for (const auto& address : a->addresses) {
    if (address.size() > MAX_ANNOUNCE_ADDRESS) std::abort();
    for (std::string_view source : {"198.18.0.11", "fe80::1%eth0"}) {
      auto r = resolve_announced(address, source);
      if (!r) continue;
      if (r->rfind("tcp://", 0) != 0 || r->size() > address.size() + source.size() + 16) std::abort();
    }
  }
  return 0;
}
