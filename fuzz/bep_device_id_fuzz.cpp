// Fuzzes the parsers of Syncthing device IDs (src/bep/device_id.hpp): text typed or pasted by people,
// and Device.id bytes from a peer's ClusterConfig. Invariants: a parsed ID formats to text that parses
// back to the same ID and formats the same; bytes that make an ID are the ID's bytes.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "bep/device_id.hpp"
#include "bep/luhn.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  if (auto id = kith::bep::parse_device_id(input)) {
    const std::string text = kith::bep::to_string(*id);
    auto again = kith::bep::parse_device_id(text);
    if (!again || *again != *id || kith::bep::to_string(*again) != text) std::abort();
  }
  if (auto id = kith::bep::device_id_from_bytes(input)) {
    if (kith::bep::to_bytes(*id) != input) std::abort();
  }
  (void)kith::bep::luhn32(input);
  return 0;
}
