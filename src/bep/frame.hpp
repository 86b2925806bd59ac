#pragma once
// BEP v1 framing (sans-IO; docs/protocol/bep.md). Each side first sends one Hello:
//   magic 0x2EA7D90B (BE32) | length (BE16, at most 32767) | pb::Hello
// and then messages, each
//   header length (BE16) | pb::Header | body length (BE32) | body
// where the body is the message's protobuf bytes, or with MESSAGE_COMPRESSION_LZ4 a BE32 uncompressed
// length and one LZ4 block. The take_* functions read from the front of a buffer that the caller
// appends received bytes to, and remove what they consumed; they refuse a length over its limit
// before waiting for (or allocating) the bytes it announces.
#include <google/protobuf/message_lite.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "base/error.hpp"
#include "bep/bep.pb.h"

namespace kith::bep {

inline constexpr std::uint32_t HELLO_MAGIC = 0x2EA7D90B;
// Syncthing refuses a Hello over 32767 bytes (its length is read as a positive int16).
inline constexpr std::size_t MAX_HELLO = 32767;
// A header is a few bytes; its length too is a positive int16 for Syncthing.
inline constexpr std::size_t MAX_HEADER = 32767;
// Syncthing allows 500 MB; our largest message is a Response with one block (16 MiB at most) or a
// batched Index, which Syncthing keeps far below this.
inline constexpr std::size_t MAX_MESSAGE = 64 * 1024 * 1024;
// Syncthing compresses no body shorter than this.
inline constexpr std::size_t COMPRESSION_THRESHOLD = 128;

// Magic, length and the serialized Hello. Throws std::length_error when the Hello serializes to more
// than MAX_HELLO bytes (a caller's bug: Syncthing panics there too).
std::string encode_hello(const pb::Hello& hello);

// The peer's Hello, once all its bytes are in `buffer` (nullopt until then; nothing is consumed).
// Errors (base::errc::bad_input): another magic (an older Syncthing's is named as such), a length
// over MAX_HELLO, bytes that are not a Hello. After an error, close the connection.
Result<std::optional<pb::Hello>> take_hello(std::string& buffer);

// One message after the Hello. `type` may be a value MessageType does not name: Syncthing skips such
// messages (room for future types), so the caller should too. `body` is the uncompressed protobuf.
struct Message {
  pb::MessageType type;
  std::string body;
};

// Header, length and body, LZ4-compressed when allow_compression is set, the body is at least
// COMPRESSION_THRESHOLD bytes and compression saves at least 1/32 of it (Syncthing's rules). Which
// messages to allow it for is the caller's business: Syncthing follows the compression configured for
// the peer (metadata, the default: all but Response; always; never).
std::string encode_message(pb::MessageType type, const google::protobuf::MessageLite& msg,
                           bool allow_compression);

// The next whole message at the front of `buffer`, nullopt if more bytes are needed (nothing is
// consumed then). Errors (base::errc::bad_input), each saying what was wrong: a header over
// MAX_HEADER or not a Header, a compression this side does not know, a body over max_body (on the
// wire or, for LZ4, announced uncompressed: refused before allocating), a corrupt LZ4 body or one
// that decompresses to another length than announced. After an error, close the connection.
Result<std::optional<Message>> take_message(std::string& buffer, std::size_t max_body = MAX_MESSAGE);

// Parses `m.body` into `msg`: base::errc::bad_input (naming the message type) when it does not parse.
Status parse_body_into(const Message& m, google::protobuf::MessageLite& msg);

template <class T>
Result<T> parse_body(const Message& m) {
  T out;
  if (auto ok = parse_body_into(m, out); !ok) return tl::unexpected(std::move(ok.error()));
  return out;
}

// "INDEX" for MESSAGE_TYPE_INDEX, "type 42" for a type MessageType does not name: for messages.
std::string type_name(pb::MessageType type);

}  // namespace kith::bep
