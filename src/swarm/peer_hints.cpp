#include "swarm/peer_hints.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include <algorithm>

#include "base/endpoint.hpp"
#include "swarm/listen.hpp"

namespace kith::swarm {
namespace {

struct InterfaceAddress {
  std::string text;
  bool v6;
  bool loopback;
  bool link_local;
};

std::vector<InterfaceAddress> interface_addresses() {
  std::vector<InterfaceAddress> out;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return out;
  for (auto* i = list; i; i = i->ifa_next) {
    if (!i->ifa_addr || !(i->ifa_flags & IFF_UP)) continue;
    char buf[INET6_ADDRSTRLEN] = {};
    if (i->ifa_addr->sa_family == AF_INET) {
      auto* a = reinterpret_cast<sockaddr_in*>(i->ifa_addr);
      inet_ntop(AF_INET, &a->sin_addr, buf, sizeof buf);
      std::uint32_t host = ntohl(a->sin_addr.s_addr);
      out.push_back({buf, false, (host >> 24) == 127, (host >> 16) == 0xa9fe});
    } else if (i->ifa_addr->sa_family == AF_INET6) {
      auto* a = reinterpret_cast<sockaddr_in6*>(i->ifa_addr);
      inet_ntop(AF_INET6, &a->sin6_addr, buf, sizeof buf);
      out.push_back(
          {buf, true, IN6_IS_ADDR_LOOPBACK(&a->sin6_addr) != 0, IN6_IS_ADDR_LINKLOCAL(&a->sin6_addr) != 0});
    }
  }
  freeifaddrs(list);
  return out;
}

}  // namespace

std::vector<std::string> peer_hints(const std::string& listen, std::uint16_t port) {
  std::vector<std::string> hints;
  bool want_any_v4 = false, want_any_v6 = false;
  // The same reading of the setting as the session's listen_interfaces (listen.hpp); a value the
  // settings registry would refuse gives no hints.
  auto entries = parse_listen(listen);
  for (const auto& e : entries ? *entries : std::vector<base::HostPort>{}) {
    if (e.host == "0.0.0.0")
      want_any_v4 = true;
    else if (e.host == "::")
      want_any_v6 = true;
    else
      hints.push_back(base::join_host_port(e.host, port));
  }
  if (want_any_v4 || want_any_v6) {
    auto addrs = interface_addresses();
    for (const auto& a : addrs) {
      if (a.loopback || a.link_local) continue;
      if ((a.v6 && want_any_v6) || (!a.v6 && want_any_v4))
        hints.push_back(base::join_host_port(a.text, port));
    }
    if (hints.empty() && want_any_v4) hints.push_back(base::join_host_port("127.0.0.1", port));
  }
  std::sort(hints.begin(), hints.end());
  hints.erase(std::unique(hints.begin(), hints.end()), hints.end());
  return hints;
}

}  // namespace kith::swarm
