// Fuzzes what identity parses from outside: kith IDs (typed or pasted by people) and the publisher
// signature parameters of magnet links. Invariant: a decoded ID encodes back to the same text
// (modulo case).
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "identity/kith_id.hpp"
#include "identity/link_signature.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  if (auto key = kith::identity::decode_id(input)) {
    std::string lower(input);
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (kith::identity::encode_id(*key) != lower) std::abort();
  }
  if (auto sig = kith::identity::parse_link_signature(input); sig && *sig) {
    (void)kith::identity::verify_link_signature(**sig, "", "");
  }
  return 0;
}
