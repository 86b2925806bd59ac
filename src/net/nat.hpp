#pragma once
// What kind of NAT, if any, stands between this node and the Internet, worked out from what peers
// tell us (sans-IO: no sockets here, the messenger feeds it).
//
// Every contact channel's Hello carries the address the sender sees us at ("observed", the way a STUN
// binding answer does). Our dials leave from the channel's listen port (DialOptions::source_port), so
// observations from two different peers of the same local port tell the NAT's mapping behaviour
// (RFC 4787): the same public ip:port for both is an endpoint-independent mapping ("cone": a hole punch
// can work, and the address is worth publishing); different ports are endpoint-dependent ("symmetric":
// only a relay helps). An observed address that is one of our own interface addresses means no NAT.
// Observations from peers on a private network (RFC 1918, CGN 100.64/10, link-local, ULA, loopback)
// say nothing about the Internet and are left out.
#include <cstdint>
#include <string>
#include <vector>

namespace kith::net {

enum class NatType {
  unknown,               // no observation from a public peer yet (or only one for our listen port)
  none,                  // a public peer sees one of our own addresses
  endpoint_independent,  // two public peers see the same public ip:port for one local port
  endpoint_dependent     // two public peers see different public ports for one local port
};

const char* to_string(NatType type);

struct Observation {
  std::string observer;  // who reported it (a device key, hex): one vote per observer
  std::string local;     // "ip:port" of our end of that connection
  std::string observed;  // "ip:port" the observer sees it as
};

struct NatReport {
  NatType type = NatType::unknown;
  // Where the Internet may reach our listener: our own public address (no NAT) or the NAT's mapping of
  // our listen port (endpoint-independent). Empty otherwise: an endpoint-dependent mapping cannot be
  // dialled by anyone but the peer it was made for.
  std::vector<std::string> public_addresses;
  std::vector<std::string> public_ips;  // every public IP peers saw, whatever the NAT type
  // What public peers saw our listen port as (one peer is enough, whatever the type): where a hole punch
  // aims unless the mapping is known to be endpoint-dependent.
  std::vector<std::string> listen_mappings;
  int observers = 0;  // distinct public observers counted
};

// True for addresses that are not on the public Internet: RFC 1918, 100.64.0.0/10, 127/8, 169.254/16,
// 0/8, IPv6 loopback, link-local, unique-local, unspecified. Text that is not an IP counts as private.
bool is_private_ip(const std::string& ip);

// `own_ips`: this host's interface addresses; `listen_port`: the channel listener's port.
NatReport classify_nat(const std::vector<Observation>& observations, const std::vector<std::string>& own_ips,
                       std::uint16_t listen_port);

}  // namespace kith::net
