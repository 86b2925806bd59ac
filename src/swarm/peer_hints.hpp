#pragma once
// The "host:port" peer hints put in magnet links (x.pe), so a link works on a LAN with no DHT or
// tracker: the addresses this node is reachable at.
#include <cstdint>
#include <string>
#include <vector>

namespace kith::swarm {

// `listen` is the listen_interfaces setting ("0.0.0.0:6881,[::]:6881" or "127.0.0.1:0"), `port` the
// port actually bound. A wildcard address expands to this host's interface addresses (loopback and
// link-local left out unless there is nothing else); a specific address is used as it is.
std::vector<std::string> peer_hints(const std::string& listen, std::uint16_t port);

}  // namespace kith::swarm
