#pragma once
// STUN messages (RFC 5389/8489) as TURN (RFC 5766/8656) and TURN TCP allocations (RFC 6062) use them:
// a sans-IO codec, so the framing and the checks can be tested and fuzzed without sockets. TurnClient
// (turn_client.hpp) and StunResponder (stun_responder.hpp) use it; everything a TURN server or a STUN
// client sends is outside input and goes through parse_stun first.
//
// Attributes are kept as raw (type, value) pairs in wire order, so a parsed message re-encodes to the
// same attributes; the helpers below read and write the typed ones TURN needs.
#include <array>
#include <boost/asio/ip/address.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"

namespace kith::net {

inline constexpr std::uint32_t STUN_MAGIC_COOKIE = 0x2112A442;
inline constexpr std::size_t STUN_HEADER_SIZE = 20;
// Nothing TURN sends comes near this; a bigger frame on a control connection is an attack or a bug.
inline constexpr std::size_t STUN_MAX_SIZE = 64 * 1024;

enum class StunClass : std::uint8_t { request = 0, indication = 1, success = 2, error = 3 };

// A 12-bit method; values other than these parse too (and are answered by nobody here).
enum class StunMethod : std::uint16_t {
  binding = 0x001,
  allocate = 0x003,
  refresh = 0x004,
  create_permission = 0x008,
  connect = 0x00a,
  connection_bind = 0x00b,
  connection_attempt = 0x00c,
};

namespace stun_attr {
inline constexpr std::uint16_t MAPPED_ADDRESS = 0x0001;
inline constexpr std::uint16_t USERNAME = 0x0006;
inline constexpr std::uint16_t MESSAGE_INTEGRITY = 0x0008;
inline constexpr std::uint16_t ERROR_CODE = 0x0009;
inline constexpr std::uint16_t LIFETIME = 0x000d;
inline constexpr std::uint16_t XOR_PEER_ADDRESS = 0x0012;
inline constexpr std::uint16_t REALM = 0x0014;
inline constexpr std::uint16_t NONCE = 0x0015;
inline constexpr std::uint16_t XOR_RELAYED_ADDRESS = 0x0016;
inline constexpr std::uint16_t REQUESTED_TRANSPORT = 0x0019;
inline constexpr std::uint16_t XOR_MAPPED_ADDRESS = 0x0020;
inline constexpr std::uint16_t CONNECTION_ID = 0x002a;
inline constexpr std::uint16_t SOFTWARE = 0x8022;
inline constexpr std::uint16_t FINGERPRINT = 0x8028;
}  // namespace stun_attr

inline constexpr std::uint8_t STUN_TRANSPORT_TCP = 6;  // REQUESTED-TRANSPORT's protocol number

using StunTransactionId = std::array<std::uint8_t, 12>;

struct StunAttribute {
  std::uint16_t type = 0;
  std::string value;  // without padding
};

struct StunMessage {
  StunMethod method = StunMethod::binding;
  StunClass cls = StunClass::request;
  StunTransactionId transaction_id{};
  std::vector<StunAttribute> attributes;

  // The first attribute of that type, or null.
  const std::string* find(std::uint16_t type) const;
  void add(std::uint16_t type, std::string value) { attributes.push_back({type, std::move(value)}); }
};

struct StunAddress {
  boost::asio::ip::address ip;
  std::uint16_t port = 0;
  std::string to_string() const;  // "1.2.3.4:5", "[::1]:5"
};

struct StunError {
  int code = 0;        // 300..699
  std::string reason;  // the server's text: outside input, escape it before showing it
};

StunTransactionId random_transaction_id();

// The wire bytes. With a key, any MESSAGE-INTEGRITY and FINGERPRINT in `msg` are left out and fresh
// ones appended (HMAC-SHA1 with the key, then CRC-32); without one, attributes are written as they are.
// Keeping the message within STUN_MAX_SIZE is the caller's part (the length field has 16 bits).
std::string encode(const StunMessage& msg, std::optional<std::string_view> integrity_key);
// Without credentials (StunResponder's Binding answers): the attributes as they are, then FINGERPRINT.
// `msg` must not carry MESSAGE-INTEGRITY or FINGERPRINT itself.
std::string encode_with_fingerprint(const StunMessage& msg);

// Strict: the whole of `bytes` is one message (header, magic cookie, length a multiple of 4 and equal
// to what follows, attributes padded and within bounds, at most STUN_MAX_SIZE); a FINGERPRINT must be
// last and match. Attributes after MESSAGE-INTEGRITY other than FINGERPRINT are dropped (RFC 8489
// § 14.5: they are not covered by it). MESSAGE-INTEGRITY is not checked here: see check_integrity.
Result<StunMessage> parse_stun(std::string_view bytes);

// True when `raw` (a message parse_stun accepted) carries a MESSAGE-INTEGRITY that matches `key`.
bool check_integrity(std::string_view raw, std::string_view key);

// For framing over TCP: 20 + the length field, or 0 when these bytes cannot begin a STUN message
// (fewer than 20, the top two bits set, no magic cookie, a length not a multiple of 4, or a frame
// over STUN_MAX_SIZE).
std::size_t stun_frame_size(std::string_view first_20_bytes);

// The long-term credential key: MD5(username ":" realm ":" password). The password is used as given
// (no SASLprep): fine for the ASCII passwords TURN servers are configured with.
std::string long_term_key(std::string_view username, std::string_view realm, std::string_view password);

// XOR-MAPPED-ADDRESS, XOR-RELAYED-ADDRESS, XOR-PEER-ADDRESS (IPv4 and IPv6).
std::string xor_address_value(const StunAddress& address, const StunTransactionId& id);
std::optional<StunAddress> parse_xor_address(std::string_view value, const StunTransactionId& id);
// MAPPED-ADDRESS (plain, RFC 3489 style).
std::string address_value(const StunAddress& address);
std::optional<StunAddress> parse_address(std::string_view value);

// The first attribute of `type`, decoded; nullopt when absent or malformed.
std::optional<StunAddress> xor_address(const StunMessage& msg, std::uint16_t type);
std::optional<std::uint32_t> u32_attribute(const StunMessage& msg, std::uint16_t type);  // LIFETIME, ...
void add_u32(StunMessage& msg, std::uint16_t type, std::uint32_t value);
std::optional<StunError> error_code(const StunMessage& msg);
void add_error_code(StunMessage& msg, int code, std::string_view reason);
void add_requested_transport(StunMessage& msg, std::uint8_t protocol);

}  // namespace kith::net
