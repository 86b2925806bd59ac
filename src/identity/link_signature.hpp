#pragma once
// Publisher signatures on magnet links (`kith share --sign`). The sharer's key and an Ed25519
// signature over the torrent's info-hashes ride in two experimental magnet parameters, which other
// BitTorrent clients ignore (BEP 9 reserves "x." for such extensions):
//   &x.kith.pk=<kith ID>&x.kith.sig=<128 hex digits>
// Signed message: "kith-share-v1\n" + v1 info-hash hex (or "") + "\n" + v2 info-hash hex (or "").
// Both hashes are covered, so removing one from a hybrid link breaks the signature. See docs/wire.md.
#include <optional>
#include <string>
#include <string_view>

#include "base/error.hpp"
#include "crypto/sign.hpp"

namespace kith::identity {

struct LinkSignature {
  std::string signer;  // kith ID
  crypto::PublicKey key{};
  crypto::Signature signature{};
};

std::string share_message(std::string_view v1_hex, std::string_view v2_hex);
// The two parameters to append to a magnet link, starting with '&'.
std::string signature_params(const crypto::SigningKey& key, std::string_view v1_hex, std::string_view v2_hex);

// Reads x.kith.pk / x.kith.sig from a magnet link. nullopt: the link carries neither (unsigned).
// Error (base::errc::bad_input): only one of them, either repeated, or malformed.
Result<std::optional<LinkSignature>> parse_link_signature(std::string_view link);
bool verify_link_signature(const LinkSignature& s, std::string_view v1_hex, std::string_view v2_hex);

}  // namespace kith::identity
