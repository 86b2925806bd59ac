#pragma once
// The one parser of "host:port" text: settings (api.listen, channel.listen, bt.listen entries, dht
// bootstrap nodes), --peer, invite and presence-record address hints, daemon.json. Accepted forms:
//   1.2.3.4:6881         an IPv4 address (dotted quad, checked)
//   [2001:db8::1]:6881   an IPv6 address, always in brackets (without them "::1:6881" is ambiguous),
//                        optionally with its interface (dial addresses only): [fe80::1%eth0]:6881
//   host.example:6881    a DNS name (parse_host_port only): letters, digits, '-' and '.', labels of
//                        1 to 63 characters, at most 253 characters in all
// The port is 1 to 5 decimal digits, 0..65535, and 1..65535 unless the caller allows 0 ("pick a free
// port" in a listen setting). So a setting is checked when it is set by exactly the rules the code
// that uses it applies (see app/settings.cpp). Errors are base.bad_input with a message that gives
// the reason but not the text itself: the text may come from a peer, so the caller decides how to
// show it.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

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

// HOST:PORT: an IPv4 address, a bracketed IPv6 address (with an optional %interface) or a DNS name.
Result<HostPort> parse_host_port(std::string_view text, PortRule rule = PortRule::nonzero);

// IP:PORT: as parse_host_port, but the host must be an IP literal (no name, no %interface): an
// address to listen on, which is never resolved.
Result<HostPort> parse_ip_port(std::string_view text, PortRule rule = PortRule::nonzero);

// "host:port" with brackets around an IPv6 host (one that contains ':'), for text built from parts.
std::string join_host_port(std::string_view host, std::uint16_t port);

// A comma-separated list: items trimmed of spaces and tabs, empty items dropped.
std::vector<std::string> split_list(std::string_view text);

}  // namespace kith::base
