#include "lan/detail/udp_socket.hpp"

#include <sys/socket.h>

#include <boost/asio/ip/v6_only.hpp>
#include <cerrno>
#include <cstring>

namespace kith::lan::detail {

using boost::asio::ip::udp;

Status open_udp(udp::socket& socket, bool v6, std::uint16_t port,
                const std::function<boost::system::error_code(udp::socket&)>& configure) {
  auto failed = [&](const std::string& what, const boost::system::error_code& ec) {
    boost::system::error_code ignored;
    socket.close(ignored);
    return fail(base::make_error_code(base::errc::unavailable),
                std::string(v6 ? "IPv6" : "IPv4") + " socket: " + what + ": " + ec.message());
  };
  boost::system::error_code ec;
  const udp protocol = v6 ? udp::v6() : udp::v4();
  socket.open(protocol, ec);
  if (ec) return failed("open", ec);
  socket.set_option(udp::socket::reuse_address(true), ec);
  if (ec) return failed("SO_REUSEADDR", ec);
  if (v6) {
    socket.set_option(boost::asio::ip::v6_only(true), ec);
    if (ec) return failed("IPV6_V6ONLY", ec);
  }
  if (configure) {
    ec = configure(socket);
    if (ec) return failed("socket option", ec);
  }
  socket.bind(udp::endpoint(protocol, port), ec);
  if (ec) return failed("bind port " + std::to_string(port), ec);
  return {};
}

boost::system::error_code last_errno() { return {errno, boost::system::system_category()}; }

Status join_v6(int fd, const in6_addr& group, unsigned index) {
  ipv6_mreq m{};
  m.ipv6mr_multiaddr = group;
  m.ipv6mr_interface = index;
  if (setsockopt(fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &m, sizeof m) != 0 && errno != EADDRINUSE)
    return fail(base::make_error_code(base::errc::unavailable), std::strerror(errno));
  return {};
}

}  // namespace kith::lan::detail
