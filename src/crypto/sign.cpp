#include "crypto/sign.hpp"

#include <sodium.h>

#include "base/fs.hpp"
#include "crypto/init.hpp"

namespace kith::crypto {
namespace {

// Key file: "kith-ed25519-v1\n" + 32-byte seed. The public key is derived from the seed.
constexpr std::string_view MAGIC = "kith-ed25519-v1\n";

}  // namespace

Result<SigningKey> SigningKey::generate() {
  if (auto r = ensure_sodium(); !r) return tl::unexpected(r.error());
  SigningKey k;
  crypto_sign_keypair(k.m_public.data(), k.m_secret.data());
  return k;
}

SigningKey SigningKey::from_seed(const SymmetricKey& seed) {
  // ensure_sodium() only fails when libsodium cannot initialise at all; crypto_sign_seed_keypair
  // needs no random source, so there is nothing to report here.
  (void)ensure_sodium();
  SigningKey k;
  crypto_sign_seed_keypair(k.m_public.data(), k.m_secret.data(), seed.data());
  return k;
}

Result<SigningKey> SigningKey::load_or_create(const std::filesystem::path& file) {
  if (auto r = ensure_sodium(); !r) return tl::unexpected(r.error());
  std::error_code ec;
  if (std::filesystem::exists(file, ec)) {
    auto bytes = base::read_file(file, 4096);
    if (!bytes) return tl::unexpected(bytes.error());
    if (bytes->size() != MAGIC.size() + crypto_sign_SEEDBYTES ||
        bytes->compare(0, MAGIC.size(), MAGIC) != 0) {
      sodium_memzero(bytes->data(), bytes->size());
      return fail(
          base::make_error_code(base::errc::bad_input),
          file.string() +
              " is not a kith key file (restore it from a backup, or move it away to make a new key)");
    }
    SigningKey k;
    crypto_sign_seed_keypair(k.m_public.data(), k.m_secret.data(),
                             reinterpret_cast<const unsigned char*>(bytes->data() + MAGIC.size()));
    sodium_memzero(bytes->data(), bytes->size());
    return k;
  }
  auto k = generate();
  if (!k) return k;
  std::string content(MAGIC);
  content.append(reinterpret_cast<const char*>(k->m_secret.data()),
                 crypto_sign_SEEDBYTES);  // seed = first 32
  if (auto r = base::ensure_dir(file.parent_path(), 0700); !r) return tl::unexpected(r.error());
  auto written = base::atomic_write_file(file, content, 0600);
  sodium_memzero(content.data(), content.size());
  if (!written) return tl::unexpected(written.error());
  return k;
}

SigningKey::SigningKey(SigningKey&& other) noexcept : m_secret(other.m_secret), m_public(other.m_public) {
  sodium_memzero(other.m_secret.data(), other.m_secret.size());
}

SigningKey::~SigningKey() { sodium_memzero(m_secret.data(), m_secret.size()); }

Signature SigningKey::sign(std::string_view message) const {
  Signature sig{};
  crypto_sign_detached(sig.data(), nullptr, reinterpret_cast<const unsigned char*>(message.data()),
                       message.size(), m_secret.data());
  return sig;
}

bool verify(const PublicKey& key, std::string_view message, const Signature& signature) {
  if (!ensure_sodium()) return false;
  return crypto_sign_verify_detached(signature.data(), reinterpret_cast<const unsigned char*>(message.data()),
                                     message.size(), key.data()) == 0;
}

}  // namespace kith::crypto
