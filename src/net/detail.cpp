#include "net/detail.hpp"

namespace kith::net::detail {

std::string endpoint_text(const boost::asio::ip::tcp::endpoint& ep) {
  namespace ip = boost::asio::ip;
  auto a = ep.address();
  if (a.is_v6() && a.to_v6().is_v4_mapped()) a = ip::make_address_v4(ip::v4_mapped, a.to_v6());
  return a.is_v6() ? "[" + a.to_string() + "]:" + std::to_string(ep.port())
                   : a.to_string() + ":" + std::to_string(ep.port());
}

}  // namespace kith::net::detail
