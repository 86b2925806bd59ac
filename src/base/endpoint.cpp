#include "base/endpoint.hpp"

#include <arpa/inet.h>

#include <array>

namespace kith::base {
namespace {

constexpr std::size_t MAX_NAME = 253;  // the longest DNS name (RFC 1035, without the final dot)
constexpr std::size_t MAX_LABEL = 63;  // the longest label of one

tl::unexpected<Error> bad(std::string why) { return fail(make_error_code(errc::bad_input), std::move(why)); }

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_name_char(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '.';
}

bool valid_ip(int family, std::string_view text) {
  std::array<unsigned char, 16> out{};
  if (text.size() > 64) return false;  // longer than any address; also bounds the copy below
  const std::string z(text);           // inet_pton wants a NUL-terminated string
  return ::inet_pton(family, z.c_str(), out.data()) == 1;
}

// An interface name as Linux allows it (IFNAMSIZ - 1 = 15 bytes), or an interface index.
bool valid_zone(std::string_view zone) {
  if (zone.empty() || zone.size() > 15) return false;
  for (char c : zone)
    if (!is_name_char(c) && c != '_') return false;
  return true;
}

// Labels of 1..63 characters: no "a..b", no ".a" (a final dot, the DNS root, is allowed).
bool valid_labels(std::string_view name) {
  std::size_t label = 0;
  for (char c : name) {
    if (c != '.') {
      if (++label > MAX_LABEL) return false;
      continue;
    }
    if (label == 0) return false;
    label = 0;
  }
  return true;
}

Result<std::uint16_t> parse_port(std::string_view text, PortRule rule) {
  if (text.empty()) return bad("the port after ':' is missing");
  if (text.size() > 5) return bad("the port is not a number from 0 to 65535");
  unsigned long value = 0;
  for (char c : text) {
    if (!is_digit(c)) return bad("the port is not a number from 0 to 65535");
    value = value * 10 + static_cast<unsigned long>(c - '0');
  }
  if (value > 65535) return bad("the port is not a number from 0 to 65535");
  if (value == 0 && rule == PortRule::nonzero) return bad("port 0 cannot be dialled (use 1 to 65535)");
  return static_cast<std::uint16_t>(value);
}

// `names`: whether the host may be a DNS name (parse_host_port) or must be an IP (parse_ip_port);
// the messages then show the form the caller asked for.
Result<HostPort> parse(std::string_view text, PortRule rule, bool names) {
  const std::string form =
      names ? "HOST:PORT or [IPv6]:PORT" : "IP:PORT, e.g. 0.0.0.0:6881, 127.0.0.1:0 or [::]:6881";
  if (text.empty()) return bad("the address is empty (expected " + form + ")");
  HostPort out;
  std::string_view port;
  if (text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos) return bad("'[' without a matching ']'");
    if (close + 1 == text.size() || text[close + 1] != ':')
      return bad("no ':PORT' after the bracketed IPv6 address");
    auto host = text.substr(1, close - 1);
    // A link-local address carries its interface: [fe80::1%eth0] (LAN discovery reports these).
    auto address = host.substr(0, host.find('%'));
    if (!valid_ip(AF_INET6, address)) return bad("the part in brackets is not an IPv6 address");
    if (address.size() < host.size() && !valid_zone(host.substr(address.size() + 1)))
      return bad("the interface after '%' is not a network interface name");
    out.host = std::string(host);
    out.kind = HostKind::ipv6;
    port = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return bad("no ':PORT' (expected " + form + ")");
    auto host = text.substr(0, colon);
    if (host.find(':') != std::string_view::npos)
      return bad("an IPv6 address must be in brackets: [ADDRESS]:PORT");
    if (host.empty()) return bad("the host before ':' is missing");
    bool dotted = true;  // only digits and dots: meant as IPv4, so it must be a valid one
    for (char c : host) {
      if (!is_name_char(c)) return bad("the host has a character other than letters, digits, '-' and '.'");
      if (!is_digit(c) && c != '.') dotted = false;
    }
    if (dotted) {
      if (!valid_ip(AF_INET, host)) return bad("the host is not an IPv4 address");
      out.kind = HostKind::ipv4;
    } else {
      if (host.size() > MAX_NAME) return bad("the host name is longer than 253 characters");
      if (!valid_labels(host))
        return bad("the host name has an empty part or one longer than 63 characters between its dots");
      out.kind = HostKind::name;
    }
    out.host = std::string(host);
    port = text.substr(colon + 1);
  }
  auto p = parse_port(port, rule);
  if (!p) return tl::unexpected(p.error());
  out.port = *p;
  return out;
}

}  // namespace

Result<HostPort> parse_host_port(std::string_view text, PortRule rule) { return parse(text, rule, true); }

Result<HostPort> parse_ip_port(std::string_view text, PortRule rule) {
  auto hp = parse(text, rule, false);
  if (!hp) return hp;
  if (hp->kind == HostKind::name)
    return bad("the host is a name, not an IP address (e.g. 0.0.0.0:6881, 127.0.0.1:0 or [::]:6881)");
  if (hp->host.find('%') != std::string::npos)
    return bad("an address to listen on takes no '%interface' (bind the address itself)");
  return hp;
}

std::string HostPort::to_string() const { return join_host_port(host, port); }

std::string join_host_port(std::string_view host, std::uint16_t port) {
  std::string out;
  if (host.find(':') != std::string_view::npos)
    out.append("[").append(host).append("]");
  else
    out.append(host);
  return out + ":" + std::to_string(port);
}

std::vector<std::string> split_list(std::string_view text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find(',', start);
    if (end == std::string_view::npos) end = text.size();
    auto item = text.substr(start, end - start);
    auto b = item.find_first_not_of(" \t");
    auto e = item.find_last_not_of(" \t");
    if (b != std::string_view::npos) out.emplace_back(item.substr(b, e - b + 1));
    start = end + 1;
  }
  return out;
}

}  // namespace kith::base
