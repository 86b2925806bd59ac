#pragma once
// The presence record, sans-IO: what a person publishes on the DHT for ONE contact, and how that
// contact reads it. Format and reasoning: docs/wire.md § DHT presence record.
//
// For each ordered pair (publisher P, reader R) both sides can compute, from their pair secret
// (crypto::pair_secret), the same PairKeys: a pseudonymous Ed25519 key the record is stored and
// signed under, a salt, and an encryption key. A stranger who knows P's and R's public keys cannot
// compute any of them, so cannot find, link or read the record. P→R and R→P give different keys.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "crypto/box.hpp"
#include "crypto/sign.hpp"

namespace kith::rendezvous {

inline constexpr std::uint8_t RECORD_VERSION = 1;
// BEP 44 stores at most 1000 bytes of bencoded value; the record travels as one bencoded string
// ("996:" + 996 bytes = 1000), so no record above this size can come from the DHT.
inline constexpr std::size_t MAX_RECORD = 996;
inline constexpr std::size_t SALT_SIZE = 16;
inline constexpr std::size_t MAX_ADDRS = 8;        // as many as an invite may carry
inline constexpr std::size_t MAX_ADDR_SIZE = 255;  // one length byte
// A record dated this far after the reader's clock is refused (clocks disagree a little, not more).
inline constexpr std::int64_t MAX_CLOCK_SKEW_MS = 10 * 60 * 1000;

struct Presence {
  std::vector<std::string> addrs;  // "host:port" / "[v6]:port" of the contact-channel listener
  std::int64_t published_at = 0;   // unix milliseconds; also the BEP 44 seq
};

struct PairKeys {
  crypto::SymmetricKey dht_seed{};  // Ed25519 seed of the pseudonymous DHT key (SigningKey::from_seed)
  crypto::PublicKey dht_key{};      // its public key: the BEP 44 "k"
  std::string salt;                 // SALT_SIZE bytes: the BEP 44 "salt"
  crypto::SymmetricKey aead_key{};  // seals the record
};

// Keys of the records `publisher` writes for the other end of `pair_secret`.
PairKeys derive_pair_keys(const crypto::SymmetricKey& pair_secret, const crypto::PublicKey& publisher);

// The plaintext inside the seal: published_at (8 bytes, big-endian two's complement), address count
// (1 byte), then per address its length (1 byte) and bytes. Exposed for the fuzz target.
std::string encode_presence(const Presence& presence);
// rendezvous::errc::bad_record for anything but exactly that layout with valid addresses.
Result<Presence> parse_presence(std::string_view plaintext);

// version byte || crypto::seal(aead_key, encode_presence(p), associated = version byte).
// base::errc::invalid_argument for an invalid or over-long address list (the record would exceed
// MAX_RECORD or the reader would refuse it).
Result<std::string> encode_record(const PairKeys& keys, const Presence& presence);
// bad_record: size, version, seal or content wrong; stale: published_at older than `max_age_ms`
// before `now_ms`, or more than MAX_CLOCK_SKEW_MS after it.
Result<Presence> decode_record(const PairKeys& keys, std::string_view value, std::int64_t now_ms,
                               std::int64_t max_age_ms);

}  // namespace kith::rendezvous
