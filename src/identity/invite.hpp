#pragma once
// Invite links: how a person hands their kith ID to someone, with a display name and optional
// address hints where one of their nodes listens for contact channels.
//   kith:<kith ID>?name=<percent-encoded UTF-8>&addr=<host:port>&addr=[v6]:port
// A bare kith ID is also accepted where an invite is (no name, no hints). See docs/wire.md.
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "crypto/sign.hpp"

namespace kith::identity {

struct Invite {
  crypto::PublicKey key{};
  std::string id;                  // kith ID of key
  std::string name;                // may be empty; at most MAX_NAME bytes, no control characters
  std::vector<std::string> addrs;  // "host:port" or "[v6]:port", at most MAX_ADDRS
  // The person's doorbell secret (BELL_BYTES random-looking bytes, base32, lower case) or empty: whoever
  // holds the invite can ring them on the DHT when it cannot dial them (docs/protocol/channel.md §
  // Doorbell).
  std::string bell;
};

inline constexpr std::size_t MAX_INVITE = 2048;
inline constexpr std::size_t MAX_NAME = 64;
inline constexpr std::size_t MAX_ADDRS = 8;
inline constexpr std::size_t BELL_BYTES = 16;

std::string format_invite(const Invite& invite);
// Accepts an invite link or a bare kith ID. base::errc::bad_input with what is wrong.
Result<Invite> parse_invite(std::string_view text);
// "host:port" with a port 1-65535 and a host of letters, digits, '.', '-', a dotted IPv4 address or a
// bracketed IPv6 address (base::parse_host_port).
bool valid_address_hint(std::string_view hint);
// A doorbell secret as invites carry it: base32 of exactly BELL_BYTES bytes.
bool valid_bell(std::string_view bell);
// A display name: 1..MAX_NAME bytes, no control characters.
bool valid_name(std::string_view name);

}  // namespace kith::identity
