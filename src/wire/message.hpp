#pragma once
// Signed chat messages (sans-IO): building, signing and checking pb::SignedMessage.
// The signature covers "kith-msg-v1\n" || the serialized MessageBody exactly as sent, so a relay
// cannot change a byte and a receiver checks what it parses. See docs/protocol/channel.md.
#include <string>
#include <string_view>

#include "base/error.hpp"
#include "crypto/sign.hpp"
#include "wire/kith.pb.h"

namespace kith::wire {

inline constexpr std::size_t MESSAGE_ID_SIZE = 16;
inline constexpr std::size_t MAX_TEXT = 16 * 1024;
inline constexpr int MAX_GROUP_MEMBERS = 32;

pb::SignedMessage sign_message(const pb::MessageBody& body, const crypto::SigningKey& author);
// Parses and checks a signed message: field sizes and limits (id 16 bytes, keys 32, text at most
// MAX_TEXT, a group has 2..MAX_GROUP_MEMBERS members including its creator), then the author's
// signature. base::errc::bad_input says which check failed.
Result<pb::MessageBody> open_message(const pb::SignedMessage& message);

std::string to_bytes(const crypto::PublicKey& key);
// base::errc::bad_input unless 32 bytes.
Result<crypto::PublicKey> key_from_bytes(std::string_view bytes);

}  // namespace kith::wire
