#pragma once
// Syncthing's Local Discovery Protocol v4 (sans-IO; docs/protocol/bep.md § Local discovery). One UDP
// datagram to port 21027 (IPv4 broadcast, IPv6 multicast ff12::8384):
//   magic 0x2EA7D90B (BE32) | pb::Announce
// No signature: anyone on the LAN can claim any device ID. An announce only says where a device may
// be; the TLS certificate checked when connecting is what proves who it is.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "bep/device_id.hpp"

namespace kith::bep {

inline constexpr std::uint32_t ANNOUNCE_MAGIC = 0x2EA7D90B;  // the BEP Hello's, as Syncthing has it
// Syncthing reads announces into a 64 KiB buffer and sets no limit of its own. Ours: a datagram
// above 8 KiB is refused unread. Syncthing 1.19 announces a handful of URLs (one per listener and
// interface address, relay URLs of a few hundred bytes): well under 2 KiB even on busy hosts.
inline constexpr std::size_t MAX_ANNOUNCE = 8192;
inline constexpr std::size_t MAX_ANNOUNCE_ADDRESSES = 64;
inline constexpr std::size_t MAX_ANNOUNCE_ADDRESS = 2083;  // the URL limit of Syncthing's old XDR schema

struct Announce {
  DeviceId id;
  std::vector<std::string> addresses;  // as sent: URLs, possibly with an empty host
  std::int64_t instance_id = 0;
};

// Magic and the protobuf. Throws std::length_error beyond MAX_ANNOUNCE or the address limits (a
// caller's bug: ours announces one or two short URLs).
std::string encode_announce(const Announce& announce);

// base::errc::bad_input, saying which rule failed (never echoing the bytes): over MAX_ANNOUNCE,
// shorter than the magic, another magic (Syncthing v0.13's 0x7D79BC40 is named), not an Announce,
// an ID that is not 32 bytes, more than MAX_ANNOUNCE_ADDRESSES addresses or one over
// MAX_ANNOUNCE_ADDRESS bytes.
Result<Announce> decode_announce(std::string_view datagram);

// An announced address made dialable by kith: a tcp:// URL (tcp4:// and tcp6:// too, if the source
// is of that family) whose empty or unspecified host (":22000", "0.0.0.0", "[::]") becomes the
// datagram's source IP, as Syncthing's registerDevice does. `source_ip` is text as "192.0.2.7" or
// "fe80::1%eth0". Returns "tcp://HOST:PORT" ("[v6]" bracketed), or nullopt for any other scheme
// (quic://, relay://: kith does not speak them), a bad port or a host that is not a literal IP.
std::optional<std::string> resolve_announced(std::string_view address, std::string_view source_ip);

}  // namespace kith::bep
