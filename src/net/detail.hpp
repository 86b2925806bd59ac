#pragma once
// Small helpers shared by the net module's files (not part of its interface).
#include <boost/asio/ip/tcp.hpp>
#include <string>

#include "base/error.hpp"

namespace kith::net::detail {

// "1.2.3.4:80" or "[::1]:80"; IPv4-mapped IPv6 addresses shown as IPv4.
std::string endpoint_text(const boost::asio::ip::tcp::endpoint& ep);

inline Error bad(const std::string& why) { return Error{base::make_error_code(base::errc::bad_input), why}; }
inline Error unreachable(const std::string& why) {
  return Error{base::make_error_code(base::errc::unavailable), why};
}

// SO_REUSEPORT: lets dials share the listener's port (DialOptions::source_port).
using reuse_port = boost::asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

}  // namespace kith::net::detail
