#include "wire/frame.hpp"

#include <google/protobuf/stubs/logging.h>

namespace kith::wire {
namespace {

Error bad(const std::string& why) { return Error{base::make_error_code(base::errc::bad_input), why}; }

}  // namespace

std::string encode_frame(pb::Frame frame) {
  frame.set_version(VERSION);
  std::string body = frame.SerializeAsString();
  const auto n = static_cast<std::uint32_t>(body.size());
  std::string out;
  out.reserve(4 + body.size());
  out += static_cast<char>(n >> 24);
  out += static_cast<char>(n >> 16);
  out += static_cast<char>(n >> 8);
  out += static_cast<char>(n);
  out += body;
  return out;
}

Result<std::optional<pb::Frame>> FrameDecoder::next() {
  if (m_buffer.size() < 4) return std::optional<pb::Frame>{};
  const auto* p = reinterpret_cast<const unsigned char*>(m_buffer.data());
  const std::uint32_t n =
      (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
  if (n > MAX_FRAME)
    return tl::unexpected(
        bad("frame of " + std::to_string(n) + " bytes is over the limit of " + std::to_string(MAX_FRAME)));
  if (m_buffer.size() < 4 + std::size_t{n}) return std::optional<pb::Frame>{};
  pb::Frame frame;
  bool parsed;
  {
    // A peer's bad bytes (e.g. invalid UTF-8 in a string field) make libprotobuf log to stderr on
    // every frame: silenced, the channel is closed with our own error instead.
    google::protobuf::LogSilencer quiet;
    parsed = frame.ParseFromArray(m_buffer.data() + 4, static_cast<int>(n));
  }
  m_buffer.erase(0, 4 + std::size_t{n});
  if (!parsed) return tl::unexpected(bad("a frame is not a valid kith.wire.pb.Frame"));
  if (frame.version() != VERSION)
    return tl::unexpected(
        bad("frame version " + std::to_string(frame.version()) + " is not spoken here (1)"));
  if (frame.body_case() == pb::Frame::BODY_NOT_SET)
    return tl::unexpected(bad("a frame carries no body this version knows"));
  return std::optional<pb::Frame>{std::move(frame)};
}

}  // namespace kith::wire
