#include "bep/announce.hpp"

#include <arpa/inet.h>
#include <google/protobuf/stubs/logging.h>

#include <cctype>
#include <cstdio>
#include <stdexcept>

#include "bep/bep.pb.h"
#include "bep/bytes.hpp"

namespace kith::bep {
namespace {

// What Syncthing v0.13 announced with (an XDR packet): a real but old peer, named in the error.
constexpr std::uint32_t V13_MAGIC = 0x7D79BC40;

Error bad(std::string why) { return Error{base::make_error_code(base::errc::bad_input), std::move(why)}; }

std::string hex32(std::uint32_t v) {
  char text[11];
  std::snprintf(text, sizeof text, "0x%08X", v);
  return text;
}

bool is_ipv4(const std::string& host) {
  in_addr a;
  return inet_pton(AF_INET, host.c_str(), &a) == 1;
}

bool is_ipv6(const std::string& host) {
  in6_addr a;
  return inet_pton(AF_INET6, host.c_str(), &a) == 1;
}

// "fe80::1%eth0" -> is an IPv6 literal with a zone made of interface-name characters.
bool is_scoped_ipv6(const std::string& host) {
  const auto pct = host.find('%');
  if (pct == std::string::npos) return is_ipv6(host);
  const std::string zone = host.substr(pct + 1);
  if (zone.empty() || zone.size() > 15) return false;
  for (char c : zone)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_')) return false;
  return is_ipv6(host.substr(0, pct));
}

}  // namespace

std::string encode_announce(const Announce& announce) {
  if (announce.addresses.size() > MAX_ANNOUNCE_ADDRESSES)
    throw std::length_error("local discovery: too many addresses to announce");
  pb::Announce msg;
  msg.set_id(to_bytes(announce.id));
  for (const auto& a : announce.addresses) {
    if (a.size() > MAX_ANNOUNCE_ADDRESS) throw std::length_error("local discovery: an address is too long");
    msg.add_addresses(a);
  }
  msg.set_instance_id(announce.instance_id);
  std::string out;
  put_be32(out, ANNOUNCE_MAGIC);
  out += msg.SerializeAsString();
  if (out.size() > MAX_ANNOUNCE)
    throw std::length_error("local discovery: announce over " + size_text(MAX_ANNOUNCE));
  return out;
}

Result<Announce> decode_announce(std::string_view datagram) {
  if (datagram.size() > MAX_ANNOUNCE)
    return tl::unexpected(bad("an announce over " + size_text(MAX_ANNOUNCE)));
  if (datagram.size() < 4) return tl::unexpected(bad("a datagram shorter than the announce magic"));
  const std::uint32_t magic = get_be32(datagram.data());
  if (magic == V13_MAGIC)
    return tl::unexpected(bad("a Syncthing v0.13 announce (an older protocol, not spoken here)"));
  if (magic != ANNOUNCE_MAGIC)
    return tl::unexpected(
        bad("not an announce: magic " + hex32(magic) + ", expected " + hex32(ANNOUNCE_MAGIC)));
  pb::Announce msg;
  {
    // A peer's bad bytes (invalid UTF-8 in an address) make libprotobuf log: silenced, we say it.
    google::protobuf::LogSilencer quiet;
    if (!msg.ParseFromArray(datagram.data() + 4, static_cast<int>(datagram.size() - 4)))
      return tl::unexpected(bad("an announce that does not parse"));
  }
  auto id = device_id_from_bytes(msg.id());
  if (!id) return tl::unexpected(bad("an announce whose device ID is not 32 bytes"));
  if (static_cast<std::size_t>(msg.addresses_size()) > MAX_ANNOUNCE_ADDRESSES)
    return tl::unexpected(
        bad("an announce with more than " + std::to_string(MAX_ANNOUNCE_ADDRESSES) + " addresses"));
  Announce out;
  out.id = *id;
  out.instance_id = msg.instance_id();
  out.addresses.reserve(static_cast<std::size_t>(msg.addresses_size()));
  for (const auto& a : msg.addresses()) {
    if (a.size() > MAX_ANNOUNCE_ADDRESS)
      return tl::unexpected(
          bad("an announced address over " + std::to_string(MAX_ANNOUNCE_ADDRESS) + " bytes"));
    out.addresses.push_back(a);
  }
  return out;
}

std::optional<std::string> resolve_announced(std::string_view address, std::string_view source_ip) {
  std::string_view rest;
  int family = 0;  // 0 any, 4 or 6: the scheme restricts the family of a host taken from the source
  for (auto [scheme, f] : {std::pair{"tcp://", 0}, std::pair{"tcp4://", 4}, std::pair{"tcp6://", 6}}) {
    const std::string_view s(scheme);
    if (address.substr(0, s.size()) == s) {
      rest = address.substr(s.size());
      family = f;
      break;
    }
  }
  if (rest.data() == nullptr) return std::nullopt;
  rest = rest.substr(0, rest.find_first_of("/?#"));  // a path or options mean nothing for TCP
  const auto colon = rest.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::string host(rest.substr(0, colon));
  const std::string_view port_text = rest.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (port_text.empty() || port_text.size() > 5) return std::nullopt;
  unsigned port = 0;
  for (char c : port_text) {
    if (c < '0' || c > '9') return std::nullopt;
    port = port * 10 + static_cast<unsigned>(c - '0');
  }
  if (port == 0 || port > 65535) return std::nullopt;
  if (host.empty() || host == "0.0.0.0" || host == "::") {
    host = std::string(source_ip);
    const bool v4 = is_ipv4(host);
    if (!v4 && !is_scoped_ipv6(host)) return std::nullopt;
    if ((family == 4 && !v4) || (family == 6 && v4)) return std::nullopt;
  } else if (!is_ipv4(host) && !is_ipv6(host)) {
    return std::nullopt;  // a name (kith would resolve it: not from an unauthenticated datagram) or junk
  }
  const bool bracket = host.find(':') != std::string::npos;
  return "tcp://" + (bracket ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

}  // namespace kith::bep
