#pragma once
// Secrets shared by two key holders, key derivation and authenticated encryption (libsodium).
//
// pair_secret() turns "my Ed25519 key + your Ed25519 public key" into 32 bytes only the two of us
// can compute (X25519 on the keys' Montgomery forms), the same bytes on both sides. derive_key()
// makes independent keys from it for different purposes; seal()/open() encrypt with
// XChaCha20-Poly1305 (random 24-byte nonces are safe with it, so no nonce state is kept).
#include <string>
#include <string_view>

#include "base/error.hpp"
#include "crypto/sign.hpp"

namespace kith::crypto {

inline constexpr std::size_t SEAL_OVERHEAD = 24 + 16;  // nonce + Poly1305 tag

// Declared in sign.hpp (it is SigningKey's friend): X25519(mine, theirs), hashed with both public
// keys in sorted order, so pair_secret(a, B) == pair_secret(b, A). base::errc::bad_input for a
// public key that is not a valid curve point or has low order (the shared point would be
// predictable).
//   Result<SymmetricKey> pair_secret(const SigningKey& mine, const PublicKey& theirs);

// A 32-byte key for one purpose, named by `label` (BLAKE2b keyed with `secret`). Different labels
// give independent keys; the secret cannot be recovered from them.
SymmetricKey derive_key(const SymmetricKey& secret, std::string_view label);

// nonce(24) || ciphertext || tag(16). `associated` is authenticated but not encrypted (and not
// included in the output): open() must be given the same bytes.
std::string seal(const SymmetricKey& key, std::string_view plaintext, std::string_view associated = {});
// base::errc::bad_input when `sealed` is too short, or was not sealed with this key and
// associated data, or was changed.
Result<std::string> open(const SymmetricKey& key, std::string_view sealed, std::string_view associated = {});

}  // namespace kith::crypto
