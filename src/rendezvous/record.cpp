#include "rendezvous/record.hpp"

#include "identity/invite.hpp"
#include "rendezvous/errors.hpp"

namespace kith::rendezvous {
namespace {

// The publisher's key is part of every label, so the two directions of one pair get unrelated keys
// from the one (symmetric) pair secret.
std::string label(std::string_view purpose, const crypto::PublicKey& publisher) {
  std::string out = "kith-presence-v1 ";
  out += purpose;
  out += ' ';
  out.append(reinterpret_cast<const char*>(publisher.data()), publisher.size());
  return out;
}

tl::unexpected<Error> bad(std::string message) {
  return fail(make_error_code(errc::bad_record), "presence record: " + std::move(message));
}

// The version byte is authenticated with the sealed part, so it cannot be changed on its own.
constexpr char VERSION_AD[] = {static_cast<char>(RECORD_VERSION)};
std::string_view version_ad() { return {VERSION_AD, 1}; }

}  // namespace

PairKeys derive_pair_keys(const crypto::SymmetricKey& pair_secret, const crypto::PublicKey& publisher) {
  PairKeys k;
  k.dht_seed = crypto::derive_key(pair_secret, label("dht-key", publisher));
  k.dht_key = crypto::SigningKey::from_seed(k.dht_seed).public_key();
  auto salt = crypto::derive_key(pair_secret, label("salt", publisher));
  k.salt.assign(reinterpret_cast<const char*>(salt.data()), SALT_SIZE);
  k.aead_key = crypto::derive_key(pair_secret, label("aead", publisher));
  return k;
}

std::string encode_presence(const Presence& presence) {
  std::string out;
  auto t = static_cast<std::uint64_t>(presence.published_at);
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((t >> shift) & 0xff));
  out.push_back(static_cast<char>(presence.addrs.size()));
  for (const auto& a : presence.addrs) {
    out.push_back(static_cast<char>(a.size()));
    out += a;
  }
  return out;
}

Result<Presence> parse_presence(std::string_view p) {
  if (p.size() < 9) return bad("too short");
  Presence out;
  std::uint64_t t = 0;
  for (int i = 0; i < 8; ++i) t = (t << 8) | static_cast<unsigned char>(p[static_cast<std::size_t>(i)]);
  out.published_at = static_cast<std::int64_t>(t);
  std::size_t count = static_cast<unsigned char>(p[8]);
  if (count > MAX_ADDRS) return bad("too many addresses");
  std::size_t pos = 9;
  for (std::size_t i = 0; i < count; ++i) {
    if (pos >= p.size()) return bad("truncated");
    std::size_t len = static_cast<unsigned char>(p[pos++]);
    if (len == 0 || p.size() - pos < len) return bad("truncated address");
    auto addr = p.substr(pos, len);
    pos += len;
    if (!identity::valid_address_hint(addr)) return bad("an address is not host:port");
    out.addrs.emplace_back(addr);
  }
  if (pos != p.size()) return bad("trailing bytes");
  return out;
}

Result<std::string> encode_record(const PairKeys& keys, const Presence& presence) {
  if (presence.addrs.size() > MAX_ADDRS)
    return fail(base::make_error_code(base::errc::invalid_argument), "more than 8 addresses");
  for (const auto& a : presence.addrs) {
    if (a.size() > MAX_ADDR_SIZE || !identity::valid_address_hint(a))
      return fail(base::make_error_code(base::errc::invalid_argument), "'" + a + "' is not host:port");
  }
  std::string plain = encode_presence(presence);
  std::string out(1, static_cast<char>(RECORD_VERSION));
  out += crypto::seal(keys.aead_key, plain, version_ad());
  if (out.size() > MAX_RECORD)
    return fail(base::make_error_code(base::errc::invalid_argument),
                "the addresses do not fit in one DHT record (" + std::to_string(out.size()) + " bytes)");
  return out;
}

Result<Presence> decode_record(const PairKeys& keys, std::string_view value, std::int64_t now_ms,
                               std::int64_t max_age_ms) {
  if (value.size() > MAX_RECORD) return bad("larger than a DHT item can be");
  if (value.size() < 1 + crypto::SEAL_OVERHEAD + 9) return bad("too short");
  if (static_cast<std::uint8_t>(value[0]) != RECORD_VERSION)
    return bad("version " + std::to_string(static_cast<unsigned char>(value[0])) + " is not known");
  auto plain = crypto::open(keys.aead_key, value.substr(1), version_ad());
  if (!plain) return bad("not sealed for this reader");
  auto presence = parse_presence(*plain);
  if (!presence) return presence;
  // published_at is outside input and may be anything: with both times positive the subtractions
  // below cannot overflow.
  if (presence->published_at <= 0 || now_ms < 0) return bad("no valid publication time");
  if (presence->published_at < now_ms && now_ms - presence->published_at > max_age_ms)
    return fail(make_error_code(errc::stale), "presence record is older than the maximum age");
  if (presence->published_at > now_ms && presence->published_at - now_ms > MAX_CLOCK_SKEW_MS)
    return fail(make_error_code(errc::stale), "presence record is dated in the future");
  return presence;
}

}  // namespace kith::rendezvous
