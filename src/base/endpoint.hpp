#pragma once
// "host:port" text as kith reads it from settings: "127.0.0.1:7737", "[::1]:0",
// "router.bittorrent.com:6881". One parser, so that a setting is checked when it is set by exactly
// the rules the code that uses it applies (see app/settings.cpp).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"

namespace kith::base {

struct HostPort {
  std::string host;  // without brackets: "::1", "127.0.0.1", "example.org"
  std::uint16_t port = 0;
  bool ipv6 = false;  // host is an IPv6 literal (written in brackets)

  // "[::1]:80", "1.2.3.4:80", "example.org:80"
  std::string text() const;
};

struct PortRule {
  bool allow_zero = false;  // port 0: "any free port", meaningful only to listen on
};

// IP:PORT with the host an IPv4 literal (dotted quad) or an IPv6 literal in brackets; the port
// 0-65535 (decimal digits only), 0 only with allow_zero. bad_input with a message quoting `text`.
Result<HostPort> parse_ip_port(std::string_view text, PortRule rule = {});

// As parse_ip_port, but the host may also be a DNS name (letters, digits, '-', '.'; labels of at
// most 63 characters, 253 in all).
Result<HostPort> parse_host_port(std::string_view text, PortRule rule = {});

// A comma-separated list: items trimmed of spaces and tabs, empty items dropped.
std::vector<std::string> split_list(std::string_view text);

}  // namespace kith::base
