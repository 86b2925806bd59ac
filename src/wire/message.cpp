#include "wire/message.hpp"

#include <google/protobuf/stubs/logging.h>

#include <algorithm>

namespace kith::wire {
namespace {

constexpr std::string_view DOMAIN = "kith-msg-v1\n";

Error bad(const std::string& why) {
  return Error{base::make_error_code(base::errc::bad_input), "refused a message: " + why};
}

}  // namespace

std::string to_bytes(const crypto::PublicKey& key) {
  return std::string(reinterpret_cast<const char*>(key.data()), key.size());
}

Result<crypto::PublicKey> key_from_bytes(std::string_view bytes) {
  if (bytes.size() != 32)
    return tl::unexpected(bad("a key is " + std::to_string(bytes.size()) + " bytes, not 32"));
  crypto::PublicKey k;
  std::copy(bytes.begin(), bytes.end(), k.begin());
  return k;
}

pb::SignedMessage sign_message(const pb::MessageBody& body, const crypto::SigningKey& author) {
  pb::SignedMessage out;
  out.set_body(body.SerializeAsString());
  const auto sig = author.sign(std::string(DOMAIN) + out.body());
  out.set_signature(std::string(reinterpret_cast<const char*>(sig.data()), sig.size()));
  return out;
}

Result<pb::MessageBody> open_message(const pb::SignedMessage& message) {
  pb::MessageBody body;
  google::protobuf::LogSilencer quiet;  // see frame.cpp
  if (message.body().size() > MAX_TEXT + 4096 || !body.ParseFromString(message.body()))
    return tl::unexpected(bad("the body does not parse"));
  if (body.id().size() != MESSAGE_ID_SIZE) return tl::unexpected(bad("the id is not 16 bytes"));
  auto author = key_from_bytes(body.author());
  if (!author) return tl::unexpected(author.error());
  if (body.text().size() > MAX_TEXT) return tl::unexpected(bad("the text is over 16 KiB"));
  if (body.seq() == 0) return tl::unexpected(bad("seq must start at 1"));
  if (body.has_group()) {
    const auto& g = body.group();
    if (!body.recipient().empty()) return tl::unexpected(bad("a group message has no single recipient"));
    if (g.id().size() != MESSAGE_ID_SIZE) return tl::unexpected(bad("the group id is not 16 bytes"));
    if (g.name().size() > 64) return tl::unexpected(bad("the group name is over 64 bytes"));
    if (!key_from_bytes(g.creator())) return tl::unexpected(bad("the group creator is not a key"));
    if (g.members_size() < 2 || g.members_size() > MAX_GROUP_MEMBERS)
      return tl::unexpected(bad("a group has 2 to 32 members"));
    bool author_in = false, creator_in = false;
    for (const auto& m : g.members()) {
      if (m.key().size() != 32 || m.name().size() > 64)
        return tl::unexpected(bad("a group member is malformed"));
      author_in |= m.key() == body.author();
      creator_in |= m.key() == g.creator();
    }
    if (!author_in || !creator_in)
      return tl::unexpected(bad("the author or creator is not a member of the group"));
  } else if (!key_from_bytes(body.recipient())) {
    return tl::unexpected(bad("a direct message needs a 32-byte recipient"));
  }
  if (message.signature().size() != 64) return tl::unexpected(bad("the signature is not 64 bytes"));
  crypto::Signature sig;
  std::copy(message.signature().begin(), message.signature().end(), sig.begin());
  if (!crypto::verify(*author, std::string(DOMAIN) + message.body(), sig))
    return tl::unexpected(bad("the author's signature does not match"));
  return body;
}

}  // namespace kith::wire
