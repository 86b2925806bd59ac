#include "lan/detail/interfaces.hpp"

#include <ifaddrs.h>
#include <net/if.h>

#include <algorithm>

namespace kith::lan::detail {

std::vector<Interface> multicast_interfaces() {
  std::vector<Interface> out;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return out;
  for (const ifaddrs* a = list; a; a = a->ifa_next) {
    if (!a->ifa_addr || !a->ifa_name) continue;
    if (!(a->ifa_flags & IFF_UP) || !(a->ifa_flags & IFF_MULTICAST)) continue;
    const int family = a->ifa_addr->sa_family;
    if (family != AF_INET && family != AF_INET6) continue;
    const unsigned index = if_nametoindex(a->ifa_name);
    if (index == 0) continue;
    auto it = std::find_if(out.begin(), out.end(), [&](const Interface& i) { return i.index == index; });
    if (it == out.end()) {
      out.push_back(Interface{a->ifa_name, index});
      it = out.end() - 1;
    }
    if (family == AF_INET && !it->has_ipv4) {
      it->has_ipv4 = true;
      it->ipv4 = reinterpret_cast<const sockaddr_in*>(a->ifa_addr)->sin_addr;
      if (a->ifa_flags & IFF_BROADCAST) {
        // The address's broadcast address. One added without (`ip addr add` with no `brd`) still has
        // the kernel's broadcast route for its prefix, but glibc then reports the address itself:
        // computed from the netmask instead, as Syncthing does.
        in_addr b{};
        if (a->ifa_broadaddr && a->ifa_broadaddr->sa_family == AF_INET)
          b = reinterpret_cast<const sockaddr_in*>(a->ifa_broadaddr)->sin_addr;
        if ((b.s_addr == 0 || b.s_addr == it->ipv4.s_addr) && a->ifa_netmask &&
            a->ifa_netmask->sa_family == AF_INET)
          b.s_addr = it->ipv4.s_addr | ~reinterpret_cast<const sockaddr_in*>(a->ifa_netmask)->sin_addr.s_addr;
        it->has_broadcast = b.s_addr != 0 && b.s_addr != it->ipv4.s_addr;
        it->broadcast = b;
      }
    } else if (family == AF_INET6) {
      it->has_ipv6 = true;
    }
  }
  freeifaddrs(list);
  return out;
}

std::string interface_name(unsigned index) {
  char name[IF_NAMESIZE] = {};
  if (if_indextoname(index, name)) return name;
  return std::to_string(index);
}

}  // namespace kith::lan::detail
