#include "net/nat.hpp"

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <map>
#include <set>

#include "base/endpoint.hpp"

namespace kith::net {
namespace ip = boost::asio::ip;

const char* to_string(NatType type) {
  switch (type) {
    case NatType::none:
      return "none";
    case NatType::endpoint_independent:
      return "endpoint-independent";
    case NatType::endpoint_dependent:
      return "endpoint-dependent";
    case NatType::unknown:
      break;
  }
  return "unknown";
}

bool is_private_ip(const std::string& text) {
  boost::system::error_code ec;
  auto a = ip::make_address(text, ec);
  if (ec) return true;
  if (a.is_v6() && a.to_v6().is_v4_mapped()) a = ip::make_address_v4(ip::v4_mapped, a.to_v6());
  if (a.is_v4()) {
    const auto v = a.to_v4().to_uint();
    auto in = [v](std::uint32_t net, int bits) { return (v >> (32 - bits)) == (net >> (32 - bits)); };
    return in(0x0A000000, 8) || in(0xAC100000, 12) || in(0xC0A80000, 16) || in(0x64400000, 10) ||
           in(0x7F000000, 8) || in(0xA9FE0000, 16) || in(0x00000000, 8);
  }
  const auto v6 = a.to_v6();
  const auto b = v6.to_bytes();
  return v6.is_loopback() || v6.is_link_local() || v6.is_unspecified() || (b[0] & 0xFE) == 0xFC;
}

namespace {

struct Parsed {
  std::string ip;
  std::uint16_t port;
};

bool parse(const std::string& text, Parsed& out) {
  auto hp = base::parse_ip_port(text);
  if (!hp) return false;
  out = {hp->host, hp->port};
  return true;
}

}  // namespace

NatReport classify_nat(const std::vector<Observation>& observations, const std::vector<std::string>& own_ips,
                       std::uint16_t listen_port) {
  NatReport r;
  // local port -> observer -> observed (the newest observation of each observer wins)
  std::map<std::uint16_t, std::map<std::string, std::string>> by_port;
  std::set<std::string> observers, ips;
  bool own = false;
  for (const auto& o : observations) {
    Parsed local, seen;
    if (!parse(o.local, local) || !parse(o.observed, seen) || is_private_ip(seen.ip)) continue;
    observers.insert(o.observer);
    ips.insert(seen.ip);
    if (std::find(own_ips.begin(), own_ips.end(), seen.ip) != own_ips.end()) own = true;
    by_port[local.port][o.observer] = o.observed;
  }
  r.observers = static_cast<int>(observers.size());
  r.public_ips.assign(ips.begin(), ips.end());
  if (own) {
    r.type = NatType::none;
    for (const auto& i : own_ips)
      if (ips.count(i)) r.public_addresses.push_back(base::join_host_port(i, listen_port));
    return r;
  }
  bool same = false, differ = false;
  std::set<std::string> listen_mappings;
  for (const auto& [port, seen] : by_port) {
    std::set<std::string> distinct;
    for (const auto& [who, addr] : seen) distinct.insert(addr);
    if (port == listen_port) r.listen_mappings.assign(distinct.begin(), distinct.end());
    if (seen.size() < 2) {
      if (port == listen_port) listen_mappings.insert(distinct.begin(), distinct.end());
      continue;
    }
    if (distinct.size() == 1) {
      same = true;
      if (port == listen_port) listen_mappings.insert(*distinct.begin());
    } else {
      differ = true;
    }
  }
  if (differ) {
    r.type = NatType::endpoint_dependent;
  } else if (same) {
    r.type = NatType::endpoint_independent;
    r.public_addresses.assign(listen_mappings.begin(), listen_mappings.end());
  }
  return r;
}

}  // namespace kith::net
