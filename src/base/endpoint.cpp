#include "base/endpoint.hpp"

#include <arpa/inet.h>

#include <cctype>

namespace kith::base {
namespace {

Error bad(std::string_view text, const std::string& why) {
  return Error{make_error_code(errc::bad_input), "'" + std::string(text) + "' " + why};
}

bool is_ipv4(const std::string& host) {
  in_addr a{};
  return ::inet_pton(AF_INET, host.c_str(), &a) == 1;
}

bool is_ipv6(const std::string& host) {
  in6_addr a{};
  return ::inet_pton(AF_INET6, host.c_str(), &a) == 1;
}

bool is_dns_name(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  std::size_t label = 0;
  for (std::size_t i = 0; i < host.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(host[i]);
    if (c == '.') {
      if (label == 0) return false;  // empty label: "a..b", ".a"
      label = 0;
      continue;
    }
    if (!std::isalnum(c) && c != '-') return false;
    if (++label > 63) return false;
  }
  return true;
}

Result<HostPort> parse(std::string_view text, PortRule rule, bool names_allowed) {
  const std::string expected =
      names_allowed ? "is not HOST:PORT (e.g. example.org:6881, 10.0.0.1:6881 or [2001:db8::1]:6881)"
                    : "is not IP:PORT (e.g. 0.0.0.0:6881, 127.0.0.1:0 or [::]:6881; an IP address, not a "
                      "name)";
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return tl::unexpected(bad(text, expected));
  std::string_view host = text.substr(0, colon);
  std::string_view port = text.substr(colon + 1);
  HostPort out;
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return tl::unexpected(bad(text, expected));
    out.host = std::string(host.substr(1, host.size() - 2));
    if (!is_ipv6(out.host)) return tl::unexpected(bad(text, "has no valid IPv6 address in its brackets"));
    out.ipv6 = true;
  } else {
    out.host = std::string(host);
    // An IPv6 address must be bracketed: "::1:80" cannot tell the address from the port.
    if (out.host.find(':') != std::string::npos)
      return tl::unexpected(bad(text, "needs brackets around its IPv6 address, e.g. [::1]:6881"));
    if (!is_ipv4(out.host) && !(names_allowed && is_dns_name(out.host)))
      return tl::unexpected(bad(text, expected));
  }
  if (port.empty() || port.size() > 5) return tl::unexpected(bad(text, "needs a port number 0-65535"));
  unsigned long value = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return tl::unexpected(bad(text, "needs a port number 0-65535"));
    value = value * 10 + static_cast<unsigned long>(c - '0');
  }
  if (value > 65535) return tl::unexpected(bad(text, "needs a port number 0-65535"));
  if (value == 0 && !rule.allow_zero) return tl::unexpected(bad(text, "needs a port number 1-65535"));
  out.port = static_cast<std::uint16_t>(value);
  return out;
}

}  // namespace

std::string HostPort::text() const { return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port); }

Result<HostPort> parse_ip_port(std::string_view text, PortRule rule) { return parse(text, rule, false); }

Result<HostPort> parse_host_port(std::string_view text, PortRule rule) { return parse(text, rule, true); }

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
