#pragma once
// Framing of the contact channel (sans-IO): each frame is a 4-byte big-endian length followed by a
// serialized pb::Frame (kith.proto). The decoder takes bytes as they arrive and hands out whole frames;
// it refuses a frame longer than MAX_FRAME before buffering it, so a peer cannot make us allocate more.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/error.hpp"
#include "wire/kith.pb.h"

namespace kith::wire {

inline constexpr std::uint32_t VERSION = 1;
inline constexpr std::size_t MAX_FRAME = 64 * 1024;

// Sets frame.version and returns length prefix + bytes.
std::string encode_frame(pb::Frame frame);

class FrameDecoder {
 public:
  void feed(std::string_view bytes) { m_buffer.append(bytes); }
  // The next whole frame, nullopt if more bytes are needed. Errors (base::errc::bad_input): a length
  // over MAX_FRAME, bytes that are not a Frame, a version other than VERSION, a frame with no body.
  // After an error the decoder is unusable: close the channel.
  Result<std::optional<pb::Frame>> next();
  std::size_t buffered() const { return m_buffer.size(); }

 private:
  std::string m_buffer;
};

}  // namespace kith::wire
