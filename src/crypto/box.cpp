#include "crypto/box.hpp"

#include <sodium.h>

#include <algorithm>

#include "crypto/init.hpp"

namespace kith::crypto {
namespace {

const unsigned char* bytes(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

// Domain separation: the same two keys used by some other protocol must not give the same secret.
constexpr std::string_view PAIR_DOMAIN = "kith-pair-secret-v1";

}  // namespace

Result<SymmetricKey> pair_secret(const SigningKey& mine, const PublicKey& theirs) {
  if (auto r = ensure_sodium(); !r) return tl::unexpected(r.error());
  auto bad = [] {
    return fail(base::make_error_code(base::errc::bad_input),
                "the contact's key is not a usable public key (not a curve point, or of low order)");
  };
  std::array<unsigned char, crypto_scalarmult_curve25519_BYTES> my_x{}, their_x{}, shared{};
  if (crypto_sign_ed25519_pk_to_curve25519(their_x.data(), theirs.data()) != 0) return bad();
  crypto_sign_ed25519_sk_to_curve25519(my_x.data(), mine.m_secret.data());
  // crypto_scalarmult fails when the result is the all-zero point, which a low-order key forces.
  int rc = crypto_scalarmult(shared.data(), my_x.data(), their_x.data());
  sodium_memzero(my_x.data(), my_x.size());
  if (rc != 0) return bad();
  const PublicKey& lo = std::min(mine.public_key(), theirs);
  const PublicKey& hi = std::max(mine.public_key(), theirs);
  crypto_generichash_state st;
  crypto_generichash_init(&st, nullptr, 0, 32);
  crypto_generichash_update(&st, bytes(PAIR_DOMAIN), PAIR_DOMAIN.size());
  crypto_generichash_update(&st, shared.data(), shared.size());
  crypto_generichash_update(&st, lo.data(), lo.size());
  crypto_generichash_update(&st, hi.data(), hi.size());
  SymmetricKey out{};
  crypto_generichash_final(&st, out.data(), out.size());
  sodium_memzero(shared.data(), shared.size());
  sodium_memzero(&st, sizeof st);
  return out;
}

SymmetricKey derive_key(const SymmetricKey& secret, std::string_view label) {
  (void)ensure_sodium();
  SymmetricKey out{};
  crypto_generichash(out.data(), out.size(), bytes(label), label.size(), secret.data(), secret.size());
  return out;
}

std::string seal(const SymmetricKey& key, std::string_view plaintext, std::string_view associated) {
  (void)ensure_sodium();
  constexpr std::size_t NONCE = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
  std::string out(NONCE + plaintext.size() + crypto_aead_xchacha20poly1305_ietf_ABYTES, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  randombytes_buf(o, NONCE);
  unsigned long long len = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(o + NONCE, &len, bytes(plaintext), plaintext.size(),
                                             bytes(associated), associated.size(), nullptr, o, key.data());
  out.resize(NONCE + static_cast<std::size_t>(len));
  return out;
}

Result<std::string> open(const SymmetricKey& key, std::string_view sealed, std::string_view associated) {
  if (auto r = ensure_sodium(); !r) return tl::unexpected(r.error());
  constexpr std::size_t NONCE = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
  static_assert(NONCE + crypto_aead_xchacha20poly1305_ietf_ABYTES == SEAL_OVERHEAD);
  if (sealed.size() < SEAL_OVERHEAD)
    return fail(base::make_error_code(base::errc::bad_input), "sealed data is too short");
  std::string out(sealed.size() - SEAL_OVERHEAD, '\0');
  unsigned long long len = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          reinterpret_cast<unsigned char*>(out.data()), &len, nullptr, bytes(sealed) + NONCE,
          sealed.size() - NONCE, bytes(associated), associated.size(), bytes(sealed), key.data()) != 0) {
    return fail(base::make_error_code(base::errc::bad_input),
                "sealed data does not open with this key (wrong key, or changed)");
  }
  out.resize(static_cast<std::size_t>(len));
  return out;
}

}  // namespace kith::crypto
