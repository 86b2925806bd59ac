#include "net/stun_responder.hpp"

#include <spdlog/spdlog.h>

#include <array>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <optional>
#include <string_view>
#include <vector>

#include "base/endpoint.hpp"
#include "net/stun.hpp"

namespace kith::net {
namespace asio = boost::asio;
using udp = asio::ip::udp;

namespace {

// A datagram the size of an Ethernet payload: anything longer is truncated, fails the strict parse
// (its length field disagrees with what was read) and goes unanswered.
constexpr std::size_t DATAGRAM_MAX = 1500;
// How much bigger than its request an answer may be. Ours are 52 bytes for IPv4 and 64 for IPv6
// senders, and a request is at least 20: this only guards against a future attribute making us an
// amplifier for forged source addresses.
constexpr std::size_t MAX_GROWTH = 60;
constexpr const char* SOFTWARE = "kith";

// RFC 3489 ("classic STUN") Binding request: no magic cookie, a 16-byte transaction id, attributes we
// do not need to read. libnice sends its server-reflexive discovery in this form, so it is answered
// (RFC 8489 § 12: with MAPPED-ADDRESS, the id echoed).
std::optional<std::string> classic_binding_response(std::string_view d, const udp::endpoint& sender) {
  auto u8 = [&](std::size_t i) { return static_cast<std::uint8_t>(d[i]); };
  if (d.size() < STUN_HEADER_SIZE || u8(0) != 0x00 || u8(1) != 0x01) return std::nullopt;
  const std::size_t length = std::size_t{u8(2)} << 8 | u8(3);
  if (length % 4 != 0 || STUN_HEADER_SIZE + length != d.size()) return std::nullopt;
  const auto mapped = address_value(StunAddress{sender.address(), sender.port()});
  std::string out{'\x01', '\x01'};
  const auto body = 4 + mapped.size();
  out += static_cast<char>(body >> 8);
  out += static_cast<char>(body & 0xff);
  out.append(d.substr(4, 16));
  out += {'\x00', '\x01', '\x00', static_cast<char>(mapped.size())};  // MAPPED-ADDRESS
  out += mapped;
  return out;
}

std::optional<std::string> binding_response(std::string_view datagram, const udp::endpoint& sender) {
  auto request = parse_stun(datagram);
  if (!request || request->cls != StunClass::request || request->method != StunMethod::binding)
    return std::nullopt;
  StunMessage response;
  response.method = StunMethod::binding;
  response.cls = StunClass::success;
  response.transaction_id = request->transaction_id;
  // xor_address_value writes an IPv4-mapped sender (on a dual-stack socket) as the IPv4 address it is.
  response.add(stun_attr::XOR_MAPPED_ADDRESS,
               xor_address_value(StunAddress{sender.address(), sender.port()}, request->transaction_id));
  response.add(stun_attr::SOFTWARE, SOFTWARE);
  return encode_with_fingerprint(std::move(response));
}

}  // namespace

std::optional<std::string> binding_answer(std::string_view datagram, const udp::endpoint& sender) {
  const bool classic =
      datagram.size() >= 8 && datagram.substr(4, 4) != std::string_view("\x21\x12\xa4\x42", 4);
  auto bytes = classic ? classic_binding_response(datagram, sender) : binding_response(datagram, sender);
  if (bytes && bytes->size() > datagram.size() + MAX_GROWTH) return std::nullopt;
  return bytes;
}

struct StunResponder::Impl : std::enable_shared_from_this<Impl> {
  explicit Impl(asio::io_context& io) : strand(asio::make_strand(io)), socket(strand) {}

  Result<std::uint16_t> open(const std::string& listen);
  Status bind(const udp::endpoint& ep);
  void receive();
  void answer(std::string_view datagram);

  asio::strand<asio::io_context::executor_type> strand;
  udp::socket socket;
  std::array<char, DATAGRAM_MAX> buffer{};
  udp::endpoint sender;
  bool opened = false;              // only open() reads and writes it
  bool logged_error = false;        // on the strand
  std::atomic<bool> closed{false};  // set by close() at once: what is read after it is not answered
  std::atomic<std::uint64_t> answered{0}, ignored{0};
};

Result<std::uint16_t> StunResponder::Impl::open(const std::string& listen) {
  if (opened || closed)
    return fail(base::make_error_code(base::errc::invalid_argument),
                "the STUN responder is open already or was closed");
  // base::parse_ip_port: the parser the other listen settings are checked with.
  auto where = base::parse_ip_port(listen, base::PortRule::allow_zero);
  boost::system::error_code ec;
  asio::ip::address ip;
  if (where) ip = asio::ip::make_address(where->host, ec);
  if (!where || ec)
    return fail(base::make_error_code(base::errc::invalid_argument),
                "'" + listen + "' is not an address for the STUN responder (ip:port, e.g. [::]:6882)");
  // The IPv6 wildcard is dual-stack (one socket for both families), falling back to IPv4 alone.
  std::vector<udp::endpoint> tries = {{ip, where->port}};
  if (ip.is_v6() && ip.is_unspecified()) tries.push_back({asio::ip::address_v4::any(), where->port});
  Status bound;
  for (const auto& ep : tries)
    if ((bound = bind(ep))) break;
  if (!bound) return tl::unexpected(bound.error());
  opened = true;
  const auto port = socket.local_endpoint(ec).port();
  spdlog::debug("STUN responder: answering Binding requests on UDP port {}", port);
  asio::post(strand, [self = shared_from_this()] { self->receive(); });
  return port;
}

Status StunResponder::Impl::bind(const udp::endpoint& ep) {
  boost::system::error_code ec;
  socket.open(ep.protocol(), ec);
  if (!ec && ep.address().is_v6()) socket.set_option(asio::ip::v6_only(!ep.address().is_unspecified()), ec);
  if (!ec) socket.bind(ep, ec);
  // Answers are sent from the strand with send_to: a full send buffer must drop one, not block.
  if (!ec) socket.non_blocking(true, ec);
  if (!ec) return {};
  boost::system::error_code ignored_ec;
  socket.close(ignored_ec);
  return fail(base::make_error_code(base::errc::unavailable),
              "cannot open the STUN responder on " +
                  base::join_host_port(ep.address().to_string(), ep.port()) + " (UDP): " + ec.message());
}

void StunResponder::Impl::receive() {
  socket.async_receive_from(asio::buffer(buffer), sender,
                            [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
                              if (self->closed || ec == asio::error::operation_aborted) return;
                              if (!ec) {
                                self->answer(std::string_view(self->buffer.data(), n));
                              } else if (!self->logged_error) {
                                // Once: what a socket reports here (a transient ENOMEM, say) would otherwise
                                // repeat.
                                self->logged_error = true;
                                spdlog::debug("STUN responder: receive failed: {}", ec.message());
                              }
                              self->receive();
                            });
}

void StunResponder::Impl::answer(std::string_view datagram) {
  const auto response = binding_answer(datagram, sender);
  if (!response) {
    ++ignored;
    return;
  }
  boost::system::error_code ec;
  socket.send_to(asio::buffer(*response), sender, 0, ec);
  if (ec) {
    ++ignored;
    spdlog::debug("STUN responder: cannot answer {}: {}",
                  base::join_host_port(sender.address().to_string(), sender.port()), ec.message());
    return;
  }
  ++answered;
}

StunResponder::StunResponder(asio::io_context& io) : m_impl(std::make_shared<Impl>(io)) {}

StunResponder::~StunResponder() { close(); }

Result<std::uint16_t> StunResponder::open(const std::string& listen) { return m_impl->open(listen); }

void StunResponder::close() {
  if (m_impl->closed.exchange(true)) return;
  asio::dispatch(m_impl->strand, [impl = m_impl] {
    boost::system::error_code ignored;
    impl->socket.close(ignored);
  });
}

StunResponder::Stats StunResponder::stats() const { return Stats{m_impl->answered, m_impl->ignored}; }

}  // namespace kith::net
