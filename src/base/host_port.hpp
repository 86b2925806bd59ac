#pragma once
// The one parser of "host:port" text: settings (api.listen, bt.listen entries, dht bootstrap nodes),
// --peer, invite and presence-record address hints, daemon.json. Accepted forms:
//   1.2.3.4:6881         an IPv4 address (dotted quad, checked)
//   [2001:db8::1]:6881   an IPv6 address, always in brackets (without them "::1:6881" is ambiguous),
//                        optionally with its interface: [fe80::1%eth0]:6881
//   host.example:6881    a name: letters, digits, '-' and '.', at most 253 characters
// The port is 1 to 5 decimal digits, 0..65535, and 1..65535 unless the caller allows 0 ("pick a free
// port" in a listen setting). Errors are base.bad_input with a message that gives the reason but not the
// text itself: the text may come from a peer, so the caller decides how to show it.
#include <cstdint>
#include <string>
#include <string_view>

#include "base/error.hpp"

namespace kith::base {

enum class HostKind { ipv4, ipv6, name };

struct HostPort {
  std::string host;  // without brackets; an IPv6 host may end in "%<interface>"
  std::uint16_t port = 0;
  HostKind kind = HostKind::name;

  // Back to text: "1.2.3.4:80", "[::1]:80", "name:80" (parse_host_port accepts it again).
  std::string to_string() const;
};

enum class PortRule {
  nonzero,    // 1..65535: an address to dial or hand to a peer
  allow_zero  // 0..65535: an address to listen on, where 0 picks a free port
};

Result<HostPort> parse_host_port(std::string_view text, PortRule rule = PortRule::nonzero);

// "host:port" with brackets around an IPv6 host (one that contains ':'), for text built from parts.
std::string join_host_port(std::string_view host, std::uint16_t port);

}  // namespace kith::base
