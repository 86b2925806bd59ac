// Fuzz target: what `kith get` accepts from outside — magnet links and .torrent bytes.
#include <cstdint>
#include <string_view>

#include "swarm/source.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  (void)kith::swarm::parse_magnet(input);
  (void)kith::swarm::parse_torrent(input);
  return 0;
}
