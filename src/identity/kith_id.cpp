#include "identity/kith_id.hpp"

#include "base/base32.hpp"
#include "base/hex.hpp"
#include "crypto/hash.hpp"

namespace kith::identity {
namespace {

std::string checksum(const crypto::PublicKey& key) {
  auto hex = crypto::sha256_hex(std::string("kith-id") + std::string(key.begin(), key.end()));
  auto raw = base::from_hex(hex.substr(0, 4));
  return raw ? *raw : std::string(2, '\0');
}

Error bad(const std::string& why) {
  return Error{base::make_error_code(base::errc::bad_input), "not a kith ID: " + why};
}

}  // namespace

std::string encode_id(const crypto::PublicKey& key) {
  return base::base32_encode(std::string(key.begin(), key.end()) + checksum(key));
}

Result<crypto::PublicKey> decode_id(std::string_view id) {
  if (id.size() != 55)
    return tl::unexpected(bad("it has " + std::to_string(id.size()) + " characters, not 55"));
  auto raw = base::base32_decode(id);
  if (!raw || raw->size() != 34) return tl::unexpected(bad("it has characters outside a-z and 2-7"));
  crypto::PublicKey key;
  std::copy(raw->begin(), raw->begin() + 32, key.begin());
  if (raw->substr(32) != checksum(key)) return tl::unexpected(bad("its checksum does not match (a typo?)"));
  return key;
}

}  // namespace kith::identity
