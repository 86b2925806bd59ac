// Listener: accepts channel connections; tells TLS from relay preambles; handshakes and checks peers.
#include <spdlog/spdlog.h>

#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/read.hpp>

#include "base/endpoint.hpp"
#include "net/channel.hpp"
#include "net/detail.hpp"

namespace kith::net {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using detail::endpoint_text;

namespace {

// Binds `acceptor` to `ep` with SO_REUSEPORT (so dials can leave from the same port, DialOptions), but
// only after checking that no other socket listens there: SO_REUSEPORT alone would let a second kith
// process with the same port share it silently instead of failing. The probe has SO_REUSEADDR, as our
// dials do, so connections of an earlier run still in TIME_WAIT on the port do not count (Linux refuses
// such a bind only when a socket listens on the port).
void bind_shared(tcp::acceptor& acceptor, const tcp::endpoint& ep, boost::system::error_code& ec) {
  if (ep.port() != 0) {
    tcp::acceptor probe(acceptor.get_executor());
    probe.open(ep.protocol(), ec);
    if (ec) return;
    if (ep.address().is_v6()) probe.set_option(asio::ip::v6_only(!ep.address().is_unspecified()), ec);
    probe.set_option(tcp::acceptor::reuse_address(true), ec);
    probe.bind(ep, ec);
    boost::system::error_code ignored;
    probe.close(ignored);
    if (ec) return;
  }
  acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  acceptor.set_option(detail::reuse_port(true), ec);
  acceptor.bind(ep, ec);
}

}  // namespace

Listener::Listener(asio::io_context& io, std::shared_ptr<asio::ssl::context> ctx, ChannelOptions options,
                   OnChannel on_channel, OnRelay on_relay)
    : m_io(io),
      m_ctx(std::move(ctx)),
      m_options(options),
      m_on_channel(std::move(on_channel)),
      m_on_relay(std::move(on_relay)),
      m_acceptor(io),
      m_handshakes(std::make_shared<std::atomic<int>>(0)),
      m_alive(std::make_shared<std::atomic<bool>>(true)) {}

Listener::~Listener() { close(); }

Result<std::unique_ptr<Listener>> Listener::open(asio::io_context& io,
                                                 std::shared_ptr<asio::ssl::context> ctx,
                                                 const std::string& address, ChannelOptions options,
                                                 OnChannel on_channel, OnRelay on_relay) {
  std::unique_ptr<Listener> l(
      new Listener(io, std::move(ctx), options, std::move(on_channel), std::move(on_relay)));
  // base::parse_ip_port: the parser the settings registry checks channel.listen with.
  auto where = base::parse_ip_port(address, base::PortRule::allow_zero);
  boost::system::error_code ec;
  asio::ip::address ip;
  if (where) ip = asio::ip::make_address(where->host, ec);
  if (!where || ec)
    return fail(base::make_error_code(base::errc::invalid_argument),
                "'" + address + "' is not an address to listen on (ip:port, e.g. [::]:6882)");
  const std::uint16_t port = where->port;
  // The IPv6 wildcard is dual-stack (one socket for both families), falling back to IPv4 alone.
  std::vector<tcp::endpoint> tries = {{ip, port}};
  if (ip.is_v6() && ip.is_unspecified()) tries.push_back({asio::ip::address_v4::any(), port});
  for (const auto& ep : tries) {
    l->m_acceptor.open(ep.protocol(), ec);
    if (ec) continue;
    if (ep.address().is_v6()) l->m_acceptor.set_option(asio::ip::v6_only(!ep.address().is_unspecified()), ec);
    bind_shared(l->m_acceptor, ep, ec);
    if (!ec) l->m_acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (!ec) break;
    boost::system::error_code ignored;
    l->m_acceptor.close(ignored);
  }
  if (ec)
    return fail(base::make_error_code(base::errc::unavailable),
                "cannot listen for contact channels on " + address + ": " + ec.message() +
                    " (choose another address with --set channel.listen=IP:PORT)");
  l->m_port = l->m_acceptor.local_endpoint().port();
  l->accept();
  return l;
}

void Listener::close() {
  *m_alive = false;
  boost::system::error_code ec;
  m_acceptor.close(ec);
}

void Listener::accept() {
  m_acceptor.async_accept(asio::make_strand(m_io),
                          [this, alive = m_alive](boost::system::error_code ec, tcp::socket socket) {
                            if (!*alive) return;
                            if (ec) {
                              if (ec == asio::error::operation_aborted) return;
                              spdlog::warn("channel listener: accept failed: {}", ec.message());
                              return accept();
                            }
                            if (*m_handshakes >= MAX_HANDSHAKES) {
                              ++m_refused;
                              boost::system::error_code ignored;
                              socket.close(ignored);
                              return accept();
                            }
                            ++*m_handshakes;
                            boost::system::error_code ignored;
                            socket.set_option(tcp::no_delay(true), ignored);
                            sniff(std::make_shared<tcp::socket>(std::move(socket)));
                            accept();
                          });
}

// Waits (within the handshake timeout) for the first byte without consuming it: a TLS handshake
// record goes to secure(), a relay preamble is read whole and handed to on_relay.
void Listener::sniff(std::shared_ptr<tcp::socket> socket) {
  read_opening(socket, m_options.handshake_timeout,
               [this, alive = m_alive, socket, counter = m_handshakes](Result<std::optional<RelayToken>> r) {
                 boost::system::error_code ignored;
                 if (*alive && r && !*r) return secure(std::move(*socket));  // counts down when it ends
                 --*counter;
                 if (!*alive) return socket->close(ignored);  // `this` is only ours while the listener lives
                 if (!r || !m_on_relay) {
                   ++m_refused;
                   return socket->close(ignored);
                 }
                 m_on_relay(**r, std::move(*socket));
               });
}

void Listener::secure(tcp::socket socket) {
  auto stream = std::make_shared<Channel::Stream>(std::move(socket), *m_ctx);
  auto timer = std::make_shared<asio::steady_timer>(stream->get_executor());
  timer->expires_after(m_options.handshake_timeout);
  timer->async_wait([stream](boost::system::error_code ec) {
    boost::system::error_code ignored;
    if (!ec) stream->lowest_layer().close(ignored);
  });
  stream->async_handshake(asio::ssl::stream_base::server, [this, alive = m_alive, stream, timer,
                                                           counter =
                                                               m_handshakes](boost::system::error_code ec) {
    --*counter;
    timer->cancel();
    if (!*alive) return;
    boost::system::error_code ignored;
    auto remote = stream->lowest_layer().remote_endpoint(ignored);
    if (ec) {
      ++m_refused;
      spdlog::debug("channel listener: handshake from {} failed: {}", endpoint_text(remote), ec.message());
      stream->lowest_layer().close(ignored);
      return;
    }
    auto peer = verified_peer(*stream);
    if (!peer) {
      ++m_refused;
      spdlog::info("channel listener: refused {}: {}", endpoint_text(remote), peer.error().message);
      stream->lowest_layer().close(ignored);
      return;
    }
    m_on_channel(std::make_shared<Channel>(std::move(*stream), *peer, true, m_options));
  });
}

}  // namespace kith::net
