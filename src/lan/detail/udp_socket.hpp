#pragma once
// The UDP socket work that both LAN discoveries share (kith's own beacons, lan/discovery.cpp, and
// Syncthing's local discovery, sync/local_discovery.cpp): opening a socket that several processes on
// one host bind at once, and joining an IPv6 multicast group on one interface.
#include <netinet/in.h>

#include <boost/asio/ip/udp.hpp>
#include <cstdint>
#include <functional>
#include <string>

#include "base/error.hpp"

namespace kith::lan::detail {

// Opens `socket` (IPv6 when `v6`) with SO_REUSEADDR (several nodes on one host, or Syncthing beside
// kith, bind the same port) and, for IPv6, IPV6_V6ONLY (IPv4 has its own socket); then `configure`
// sets the caller's options (an error there is reported as "socket option"); then binds `port` on the
// wildcard address. On failure the socket is closed and the error (base::errc::unavailable) says
// which step failed: "IPv6 socket: bind port 21027: Address already in use".
Status open_udp(boost::asio::ip::udp::socket& socket, bool v6, std::uint16_t port,
                const std::function<boost::system::error_code(boost::asio::ip::udp::socket&)>& configure);

// The error code of errno now, for `configure` callbacks that call setsockopt(2) themselves.
boost::system::error_code last_errno();

// Joins the IPv6 multicast `group` on the interface with `index`. EADDRINUSE (still a member from
// before the interface went down) counts as joined. Else the errno text.
Status join_v6(int fd, const in6_addr& group, unsigned index);

}  // namespace kith::lan::detail
