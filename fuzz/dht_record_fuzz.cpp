// Fuzzes what rendezvous reads from the DHT. Anyone can store any bytes under a key a contact looks
// up only if they can sign for it, but a contact (or a bug) can still seal anything, so both layers are
// fuzzed: the outer record (size, version, seal) and the plaintext inside the seal, which the input is
// also sealed into with a fixed key so that decode_record runs end to end. Invariant: a parsed
// plaintext encodes back to the same bytes.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "crypto/box.hpp"
#include "rendezvous/record.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace kith;
  static const rendezvous::PairKeys keys =
      rendezvous::derive_pair_keys(crypto::SymmetricKey{}, crypto::PublicKey{});
  constexpr std::int64_t NOW = 1'800'000'000'000, MAX_AGE = 2 * 3'600'000;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  (void)rendezvous::decode_record(keys, input, NOW, MAX_AGE);
  if (auto p = rendezvous::parse_presence(input)) {
    if (rendezvous::encode_presence(*p) != input) std::abort();
  }
  const char version = static_cast<char>(rendezvous::RECORD_VERSION);
  std::string sealed(1, version);
  sealed += crypto::seal(keys.aead_key, input, std::string_view(&version, 1));
  auto opened = rendezvous::decode_record(keys, sealed, NOW, MAX_AGE);
  if (opened && sealed.size() <= rendezvous::MAX_RECORD && rendezvous::encode_presence(*opened) != input)
    std::abort();
  return 0;
}
