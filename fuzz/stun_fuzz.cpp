// Fuzzes what a TURN server sends a node (src/net/stun.hpp): every message on a TURN control or data
// connection goes through stun_frame_size and parse_stun before anything else looks at it. And what
// anyone sends the STUN responder (src/net/stun_responder.hpp): binding_answer never answers with more
// than 60 bytes over the request.
// Invariants: the frame size is 0 or 20 + the length field, a multiple of 4 and at most STUN_MAX_SIZE;
// parse_stun accepts only input of exactly that size; what it accepts re-encodes to a message that
// parses again to the same attributes (less its FINGERPRINT); a signed copy checks; check_integrity and the
// attribute helpers never crash.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "net/stun.hpp"
#include "net/stun_responder.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace kith::net;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const boost::asio::ip::udp::endpoint sender(boost::asio::ip::make_address("::ffff:198.51.100.7"), 4000);
  if (auto answer = binding_answer(input, sender); answer && answer->size() > size + 60) std::abort();
  const auto frame = stun_frame_size(input.substr(0, STUN_HEADER_SIZE));
  if (frame != 0 && (frame < STUN_HEADER_SIZE || frame % 4 != 0 || frame > STUN_MAX_SIZE)) std::abort();
  auto msg = parse_stun(input);
  (void)check_integrity(input, "key");
  if (!msg) return 0;
  if (frame != input.size()) std::abort();
  // Without its FINGERPRINT (which covered attributes after MESSAGE-INTEGRITY that parse_stun drops).
  auto plain = *msg;
  std::erase_if(plain.attributes, [](const StunAttribute& a) { return a.type == stun_attr::FINGERPRINT; });
  const auto again = parse_stun(encode(plain, std::nullopt));
  if (!again || again->attributes.size() != plain.attributes.size() || again->method != plain.method ||
      again->cls != plain.cls || again->transaction_id != plain.transaction_id)
    std::abort();
  for (std::size_t i = 0; i < plain.attributes.size(); ++i)
    if (again->attributes[i].type != plain.attributes[i].type ||
        again->attributes[i].value != plain.attributes[i].value)
      std::abort();
  (void)xor_address(*msg, stun_attr::XOR_RELAYED_ADDRESS);
  (void)xor_address(*msg, stun_attr::XOR_PEER_ADDRESS);
  (void)u32_attribute(*msg, stun_attr::LIFETIME);
  (void)error_code(*msg);
  if (const auto* v = msg->find(stun_attr::MAPPED_ADDRESS)) (void)parse_address(*v);
  // Signing what was parsed works too (the client signs its own requests the same way).
  const auto signed_bytes = encode(*msg, std::string_view("key"));
  if (signed_bytes.size() <= STUN_MAX_SIZE && !check_integrity(signed_bytes, "key")) std::abort();
  return 0;
}
