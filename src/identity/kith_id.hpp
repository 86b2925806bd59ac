#pragma once
// kith IDs: how a person's public key is written for people. base32 (lower case, no padding) of the
// 32-byte Ed25519 public key followed by a 2-byte checksum (the first two bytes of
// SHA-256("kith-id" || key)), so a mistyped or truncated ID is caught: 55 characters.
#include <string>
#include <string_view>

#include "base/error.hpp"
#include "crypto/sign.hpp"

namespace kith::identity {

std::string encode_id(const crypto::PublicKey& key);
// Error base::errc::bad_input with a message saying what is wrong (length, character, checksum).
Result<crypto::PublicKey> decode_id(std::string_view id);

}  // namespace kith::identity
