#pragma once
// Which network interfaces LAN discovery joins and sends on: every interface that is up and has the
// MULTICAST flag (loopback only if it has that flag too). Joining and sending per interface, rather
// than on INADDR_ANY, is what works in a namespace or on a LAN with no default route.
#include <netinet/in.h>

#include <string>
#include <vector>

namespace kith::lan::detail {

struct Interface {
  std::string name;
  unsigned index = 0;
  bool has_ipv4 = false;
  in_addr ipv4{};  // the first IPv4 address (for logs; joins and sends use the index)
  // The first IPv4 address's broadcast address, if the interface has IFF_BROADCAST (Syncthing's
  // local discovery broadcasts there: sync/local_discovery.cpp).
  bool has_broadcast = false;
  in_addr broadcast{};
  bool has_ipv6 = false;
};

// One entry per interface, from getifaddrs(3). Empty on failure.
std::vector<Interface> multicast_interfaces();

// "eth0", or the number as text if the interface is gone.
std::string interface_name(unsigned index);

}  // namespace kith::lan::detail
