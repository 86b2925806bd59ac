#include "net/channel.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include "base/endpoint.hpp"
#include "crypto/tls.hpp"

namespace kith::net {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

std::atomic<std::uint64_t> g_serial{0};

std::string endpoint_text(const tcp::endpoint& ep) {
  auto a = ep.address();
  if (a.is_v6() && a.to_v6().is_v4_mapped()) a = asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6());
  return a.is_v6() ? "[" + a.to_string() + "]:" + std::to_string(ep.port())
                   : a.to_string() + ":" + std::to_string(ep.port());
}

Error bad(const std::string& why) { return Error{base::make_error_code(base::errc::bad_input), why}; }
Error unreachable(const std::string& why) {
  return Error{base::make_error_code(base::errc::unavailable), why};
}

}  // namespace

Result<identity::DeviceCert> verified_peer(Channel::Stream& stream) {
  auto tls = crypto::peer_identity(stream.native_handle());
  if (!tls) return tl::unexpected(tls.error());
  auto cert = identity::decode_device_cert(tls->extension);
  if (!cert) return tl::unexpected(cert.error());
  if (!identity::verify_device_cert(*cert))
    return tl::unexpected(bad("the peer's device certificate is not signed by its user key"));
  if (cert->device != tls->key)
    return tl::unexpected(bad("the peer's device certificate is for another key than its TLS key"));
  return *cert;
}

Channel::Channel(Stream stream, identity::DeviceCert peer, bool incoming, ChannelOptions options)
    : m_stream(std::move(stream)),
      m_peer(peer),
      m_incoming(incoming),
      m_options(options),
      m_serial(++g_serial),
      m_timer(m_stream.get_executor()) {
  boost::system::error_code ec;
  auto ep = m_stream.lowest_layer().remote_endpoint(ec);
  m_remote = ec ? "?" : endpoint_text(ep);
  m_last_rx = m_last_tx = std::chrono::steady_clock::now();
}

void Channel::start(FrameHandler on_frame, CloseHandler on_close) {
  asio::post(m_stream.get_executor(), [self = shared_from_this(), on_frame = std::move(on_frame),
                                       on_close = std::move(on_close)]() mutable {
    self->m_on_frame = std::move(on_frame);
    self->m_on_close = std::move(on_close);
    if (self->m_closed) {
      if (self->m_on_close) std::exchange(self->m_on_close, nullptr)("closed before start");
      return;
    }
    self->read();
    self->on_tick();
  });
}

void Channel::send(wire::pb::Frame frame) {
  asio::post(m_stream.get_executor(),
             [self = shared_from_this(), bytes = wire::encode_frame(std::move(frame))]() mutable {
               if (self->m_closed) return;
               self->m_queued_bytes += bytes.size();
               self->m_queue.push_back(std::move(bytes));
               if (self->m_queued_bytes > self->m_options.max_queued_bytes)
                 return self->shut("the peer does not read (send queue full)");
               self->write();
             });
}

void Channel::close(const std::string& why) {
  asio::post(m_stream.get_executor(), [self = shared_from_this(), why] { self->shut(why); });
}

void Channel::shut(const std::string& why) {
  if (m_closed.exchange(true)) return;
  boost::system::error_code ec;
  m_timer.cancel();
  m_stream.lowest_layer().shutdown(tcp::socket::shutdown_both, ec);
  m_stream.lowest_layer().close(ec);
  m_queue.clear();
  if (m_on_close) std::exchange(m_on_close, nullptr)(why);
  m_on_frame = nullptr;
}

void Channel::read() {
  m_stream.async_read_some(
      asio::buffer(m_read_buffer), [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
        if (self->m_closed) return;
        if (ec) return self->shut(ec == asio::error::eof ? "the peer closed the channel" : ec.message());
        self->m_last_rx = std::chrono::steady_clock::now();
        self->m_decoder.feed(std::string_view(self->m_read_buffer.data(), n));
        for (;;) {
          auto frame = self->m_decoder.next();
          if (!frame) return self->shut(frame.error().message);
          if (!*frame) break;
          if ((*frame)->has_ping()) {
            wire::pb::Frame pong;
            pong.mutable_pong()->set_nonce((*frame)->ping().nonce());
            self->send(std::move(pong));
          } else if (!(*frame)->has_pong() && self->m_on_frame) {
            self->m_on_frame(std::move(**frame));
          }
          if (self->m_closed) return;
        }
        self->read();
      });
}

void Channel::write() {
  if (m_writing || m_queue.empty() || m_closed) return;
  m_writing = true;
  asio::async_write(m_stream, asio::buffer(m_queue.front()),
                    [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                      self->m_writing = false;
                      if (self->m_closed) return;
                      if (ec) return self->shut(ec.message());
                      self->m_queued_bytes -= self->m_queue.front().size();
                      self->m_queue.pop_front();
                      self->m_last_tx = std::chrono::steady_clock::now();
                      self->write();
                    });
}

void Channel::on_tick() {
  const auto now = std::chrono::steady_clock::now();
  if (now - m_last_rx > m_options.idle_timeout) return shut("the peer went silent (no keepalive)");
  if (now - m_last_tx >= m_options.ping_interval && m_queue.empty()) {
    wire::pb::Frame ping;
    ping.mutable_ping()->set_nonce(m_serial);
    m_last_tx = now;  // do not ping again before the write completes
    send(std::move(ping));
  }
  m_timer.expires_after(std::min(m_options.ping_interval, m_options.idle_timeout) / 3);
  m_timer.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (!ec && !self->m_closed) self->on_tick();
  });
}

namespace {

// State of one dial attempt, shared by its handlers.
struct Dial {
  Dial(asio::io_context& io, asio::ssl::context& ctx)
      : strand(asio::make_strand(io)), resolver(strand), stream(strand, ctx), timer(strand) {}
  Channel::Executor strand;
  tcp::resolver resolver;
  Channel::Stream stream;
  asio::steady_timer timer;
  std::shared_ptr<asio::ssl::context> ctx;
  std::optional<crypto::PublicKey> expected;
  ChannelOptions options;
  std::function<void(Result<std::shared_ptr<Channel>>)> done;
  bool finished = false;

  void finish(Result<std::shared_ptr<Channel>> r) {
    if (finished) return;
    finished = true;
    timer.cancel();
    if (!r) {
      boost::system::error_code ec;
      stream.lowest_layer().close(ec);
    }
    done(std::move(r));
  }
};

}  // namespace

void async_dial(asio::io_context& io, std::shared_ptr<asio::ssl::context> ctx, const std::string& address,
                std::optional<crypto::PublicKey> expected_user, ChannelOptions options,
                std::function<void(Result<std::shared_ptr<Channel>>)> done) {
  auto d = std::make_shared<Dial>(io, *ctx);
  d->ctx = ctx;
  d->expected = expected_user;
  d->options = options;
  d->done = std::move(done);
  auto target = base::parse_host_port(address);
  if (!target) {
    asio::post(d->strand, [d, address, why = target.error().message] {
      d->finish(tl::unexpected(bad("'" + address + "' is not host:port: " + why)));
    });
    return;
  }
  d->timer.expires_after(options.handshake_timeout);
  d->timer.async_wait([d, address](boost::system::error_code ec) {
    if (!ec)
      d->finish(tl::unexpected(unreachable("no channel to " + address + " within the handshake timeout")));
  });
  d->resolver.async_resolve(
      target->host, std::to_string(target->port),
      [d, address](boost::system::error_code ec, tcp::resolver::results_type results) {
        if (d->finished) return;
        if (ec)
          return d->finish(tl::unexpected(unreachable("cannot resolve " + address + ": " + ec.message())));
        asio::async_connect(
            d->stream.lowest_layer(), results,
            [d, address](boost::system::error_code ec, const tcp::endpoint&) {
              if (d->finished) return;
              if (ec)
                return d->finish(
                    tl::unexpected(unreachable("cannot connect to " + address + ": " + ec.message())));
              boost::system::error_code ignored;
              d->stream.lowest_layer().set_option(tcp::no_delay(true), ignored);
              d->stream.async_handshake(
                  asio::ssl::stream_base::client, [d, address](boost::system::error_code ec) {
                    if (d->finished) return;
                    if (ec)
                      return d->finish(
                          tl::unexpected(bad("TLS handshake with " + address + " failed: " + ec.message())));
                    auto peer = verified_peer(d->stream);
                    if (!peer) return d->finish(tl::unexpected(peer.error()));
                    if (d->expected && peer->user != *d->expected)
                      return d->finish(
                          tl::unexpected(bad(address + " answered with another person's key than expected")));
                    d->finish(std::make_shared<Channel>(std::move(d->stream), *peer, false, d->options));
                  });
            });
      });
}

Listener::Listener(asio::io_context& io, std::shared_ptr<asio::ssl::context> ctx, ChannelOptions options,
                   OnChannel on_channel)
    : m_io(io),
      m_ctx(std::move(ctx)),
      m_options(options),
      m_on_channel(std::move(on_channel)),
      m_acceptor(io),
      m_handshakes(std::make_shared<int>(0)),
      m_alive(std::make_shared<std::atomic<bool>>(true)) {}

Listener::~Listener() { close(); }

Result<std::unique_ptr<Listener>> Listener::open(asio::io_context& io,
                                                 std::shared_ptr<asio::ssl::context> ctx,
                                                 const std::string& address, ChannelOptions options,
                                                 OnChannel on_channel) {
  std::unique_ptr<Listener> l(new Listener(io, std::move(ctx), options, std::move(on_channel)));
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
    l->m_acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    l->m_acceptor.bind(ep, ec);
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
  m_acceptor.async_accept(
      asio::make_strand(m_io), [this, alive = m_alive](boost::system::error_code ec, tcp::socket socket) {
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
        auto stream = std::make_shared<Channel::Stream>(std::move(socket), *m_ctx);
        auto timer = std::make_shared<asio::steady_timer>(stream->get_executor());
        timer->expires_after(m_options.handshake_timeout);
        timer->async_wait([stream](boost::system::error_code ec) {
          boost::system::error_code ignored;
          if (!ec) stream->lowest_layer().close(ignored);
        });
        stream->async_handshake(
            asio::ssl::stream_base::server,
            [this, alive, stream, timer, counter = m_handshakes](boost::system::error_code ec) {
              --*counter;
              timer->cancel();
              if (!*alive) return;
              boost::system::error_code ignored;
              auto remote = stream->lowest_layer().remote_endpoint(ignored);
              if (ec) {
                ++m_refused;
                spdlog::debug("channel listener: handshake from {} failed: {}", endpoint_text(remote),
                              ec.message());
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
        accept();
      });
}

}  // namespace kith::net
