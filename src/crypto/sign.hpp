#pragma once
// Ed25519 signatures (libsodium). The secret key never leaves this module: callers hold a
// SigningKey and ask it to sign; they only ever see public keys and signatures.
#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "base/error.hpp"

namespace kith::crypto {

using PublicKey = std::array<std::uint8_t, 32>;
using Signature = std::array<std::uint8_t, 64>;
// 32 secret bytes: a shared secret, a derived key or a key seed (box.hpp). Same type as PublicKey;
// the name says which one a parameter holds.
using SymmetricKey = std::array<std::uint8_t, 32>;

class SigningKey;
// Defined in box.cpp; a friend of SigningKey because it needs the secret scalar.
Result<SymmetricKey> pair_secret(const SigningKey& mine, const PublicKey& theirs);

class SigningKey {
 public:
  // Reads the key file, or creates it (mode 0600, folder 0700) with a fresh random key.
  static Result<SigningKey> load_or_create(const std::filesystem::path& file);
  static Result<SigningKey> generate();
  // The key pair whose Ed25519 seed is `seed` (deterministic): for keys both ends of a contact pair
  // can compute, such as the pseudonymous DHT key of a presence record (rendezvous).
  static SigningKey from_seed(const SymmetricKey& seed);

  const PublicKey& public_key() const { return m_public; }
  Signature sign(std::string_view message) const;

  SigningKey(SigningKey&& other) noexcept;
  SigningKey& operator=(SigningKey&&) = delete;
  SigningKey(const SigningKey&) = delete;
  ~SigningKey();  // wipes the secret

 private:
  friend class TlsIdentityBuilder;  // tls.cpp: hands the seed to OpenSSL for the channel certificate
  friend class BepKey;              // bep_tls.cpp: the same, for the folder-sync certificate
  friend Result<SymmetricKey> pair_secret(const SigningKey& mine, const PublicKey& theirs);
  SigningKey() = default;
  std::array<std::uint8_t, 64> m_secret{};  // libsodium's seed + public key layout
  PublicKey m_public{};
};

bool verify(const PublicKey& key, std::string_view message, const Signature& signature);

}  // namespace kith::crypto
