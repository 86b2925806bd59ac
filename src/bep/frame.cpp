#include "bep/frame.hpp"

#include <google/protobuf/stubs/logging.h>

#include <cstdio>
#include <limits>
#include <stdexcept>

#include "bep/bytes.hpp"
#include "bep/lz4.hpp"

namespace kith::bep {
namespace {

Error bad(std::string why) { return Error{base::make_error_code(base::errc::bad_input), std::move(why)}; }

// What a Syncthing older than v0.14 sends first (its Hello magic, or a v0.13 ClusterConfig's header):
// named in the error, since the peer is a real but old Syncthing, not noise.
bool is_old_bep(std::uint32_t first) {
  return first == 0x9F79BC40 || first == 0x00010000 || first == 0x00010001;
}

std::string hex32(std::uint32_t v) {
  char text[11];
  std::snprintf(text, sizeof text, "0x%08X", v);
  return text;
}

// A peer's bad bytes (e.g. invalid UTF-8 in a string field) make libprotobuf log to stderr: silenced,
// the caller gets our error instead.
bool quiet_parse(google::protobuf::MessageLite& msg, const char* data, std::size_t size) {
  if (size > static_cast<std::size_t>(std::numeric_limits<int>::max())) return false;  // protobuf's limit
  google::protobuf::LogSilencer quiet;
  return msg.ParseFromArray(data, static_cast<int>(size));
}

}  // namespace

std::string encode_hello(const pb::Hello& hello) {
  const std::string body = hello.SerializeAsString();
  if (body.size() > MAX_HELLO)
    throw std::length_error("BEP Hello of " + std::to_string(body.size()) + " bytes exceeds " +
                            std::to_string(MAX_HELLO) + " (a device name that long?)");
  std::string out;
  out.reserve(6 + body.size());
  put_be32(out, HELLO_MAGIC);
  put_be16(out, static_cast<std::uint16_t>(body.size()));
  out += body;
  return out;
}

Result<std::optional<pb::Hello>> take_hello(std::string& buffer) {
  if (buffer.size() < 4) return std::optional<pb::Hello>{};
  const std::uint32_t magic = get_be32(buffer.data());
  if (magic != HELLO_MAGIC) {
    if (is_old_bep(magic))
      return tl::unexpected(bad("the peer speaks a BEP older than Syncthing v0.14's, not spoken here"));
    return tl::unexpected(bad("not a BEP Hello: magic " + hex32(magic) + ", expected " + hex32(HELLO_MAGIC)));
  }
  if (buffer.size() < 6) return std::optional<pb::Hello>{};
  const std::size_t n = get_be16(buffer.data() + 4);
  if (n > MAX_HELLO)
    return tl::unexpected(bad("BEP Hello of " + std::to_string(n) + " bytes exceeds the " +
                              std::to_string(MAX_HELLO) + "-byte limit"));
  if (buffer.size() < 6 + n) return std::optional<pb::Hello>{};
  pb::Hello hello;
  if (!quiet_parse(hello, buffer.data() + 6, n))
    return tl::unexpected(bad("BEP Hello of " + std::to_string(n) + " bytes does not parse"));
  buffer.erase(0, 6 + n);
  return std::optional<pb::Hello>{std::move(hello)};
}

std::string encode_message(pb::MessageType type, const google::protobuf::MessageLite& msg,
                           bool allow_compression) {
  std::string body = msg.SerializeAsString();
  pb::Header header;
  header.set_type(type);
  if (allow_compression && body.size() >= COMPRESSION_THRESHOLD) {
    if (auto packed = lz4_compress(body)) {
      header.set_compression(pb::MESSAGE_COMPRESSION_LZ4);
      body = std::move(*packed);
    }
  }
  const std::string head = header.SerializeAsString();  // at most a few bytes: two small varints
  std::string out;
  out.reserve(2 + head.size() + 4 + body.size());
  put_be16(out, static_cast<std::uint16_t>(head.size()));
  out += head;
  put_be32(out, static_cast<std::uint32_t>(body.size()));
  out += body;
  return out;
}

Result<std::optional<Message>> take_message(std::string& buffer, std::size_t max_body) {
  if (buffer.size() < 2) return std::optional<Message>{};
  const std::size_t head_size = get_be16(buffer.data());
  if (head_size > MAX_HEADER)
    return tl::unexpected(bad("BEP header of " + std::to_string(head_size) + " bytes exceeds the " +
                              std::to_string(MAX_HEADER) + "-byte limit"));
  if (buffer.size() < 2 + head_size + 4) return std::optional<Message>{};
  pb::Header header;
  if (!quiet_parse(header, buffer.data() + 2, head_size))
    return tl::unexpected(bad("BEP header of " + std::to_string(head_size) + " bytes does not parse"));
  const auto compression = header.compression();
  if (compression != pb::MESSAGE_COMPRESSION_NONE && compression != pb::MESSAGE_COMPRESSION_LZ4)
    return tl::unexpected(bad("BEP " + type_name(header.type()) + " message uses unknown compression " +
                              std::to_string(static_cast<int>(compression))));
  const std::size_t body_at = 2 + head_size + 4;
  const std::uint32_t body_size = get_be32(buffer.data() + 2 + head_size);
  if (body_size > max_body)
    return tl::unexpected(bad("BEP " + type_name(header.type()) + " message of " + std::to_string(body_size) +
                              " bytes exceeds the " + size_text(max_body) + " limit"));
  if (buffer.size() < body_at + body_size) return std::optional<Message>{};

  const std::string_view wire(buffer.data() + body_at, body_size);
  Message out{header.type(), {}};
  if (compression == pb::MESSAGE_COMPRESSION_LZ4) {
    auto plain = lz4_decompress(wire, max_body);
    if (!plain) {
      plain.error().message = "BEP " + type_name(header.type()) + " message: " + plain.error().message;
      return tl::unexpected(std::move(plain.error()));
    }
    out.body = std::move(*plain);
  } else {
    out.body.assign(wire);
  }
  buffer.erase(0, body_at + body_size);
  return std::optional<Message>{std::move(out)};
}

Status parse_body_into(const Message& m, google::protobuf::MessageLite& msg) {
  if (!quiet_parse(msg, m.body.data(), m.body.size()))
    return tl::unexpected(bad("BEP " + type_name(m.type) + " message of " + std::to_string(m.body.size()) +
                              " bytes does not parse as " + msg.GetTypeName()));
  return {};
}

std::string type_name(pb::MessageType type) {
  if (!pb::MessageType_IsValid(type)) return "type " + std::to_string(static_cast<int>(type));
  constexpr std::string_view prefix = "MESSAGE_TYPE_";
  return std::string(pb::MessageType_Name(type).substr(prefix.size()));
}

}  // namespace kith::bep
