// async_dial: TCP connect (optionally from the listener's port, optionally to a relay), then TLS and
// the identity check.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include "base/endpoint.hpp"
#include "net/channel.hpp"
#include "net/detail.hpp"

namespace kith::net {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using detail::bad;
using detail::unreachable;

namespace {

// State of one dial attempt, shared by its handlers.
struct Dial {
  Dial(asio::io_context& io, asio::ssl::context& ctx)
      : strand(asio::make_strand(io)),
        resolver(strand),
        ssl(ctx),
        stream(std::make_unique<Channel::Stream>(strand, ctx)),
        timer(strand) {}
  Channel::Executor strand;
  tcp::resolver resolver;
  asio::ssl::context& ssl;
  std::unique_ptr<Channel::Stream> stream;  // replaced for a second try from another port
  asio::steady_timer timer;
  std::shared_ptr<asio::ssl::context> ctx;
  std::optional<crypto::PublicKey> expected;
  ChannelOptions options;
  DialOptions dial;
  std::string address;
  std::string preamble;
  std::function<void(Result<std::shared_ptr<Channel>>)> done;
  bool finished = false;
  bool from_listen_port = false;  // this connection left from dial.source_port
  std::optional<Path> path;       // async_secure: how the connection it was given reaches the peer
  std::string remote;             // async_secure: the peer's address, when the socket cannot say
  tcp::resolver::results_type results;
  tcp::resolver::results_type::const_iterator endpoint;  // the one connected to

  void finish(Result<std::shared_ptr<Channel>> r) {
    if (finished) return;
    finished = true;
    timer.cancel();
    if (!r) {
      boost::system::error_code ec;
      stream->lowest_layer().close(ec);
    }
    done(std::move(r));
  }

  // Tries the resolved endpoints in order; the first from the shared source port, and if that cannot
  // be used for this connection (EADDRINUSE/EADDRNOTAVAIL: the same 4-tuple is taken or in TIME_WAIT),
  // again from any port.
  void connect(std::shared_ptr<Dial> self, tcp::resolver::results_type results,
               tcp::resolver::results_type::const_iterator it, bool from_source_port) {
    if (finished) return;
    if (it == results.end())
      return finish(tl::unexpected(unreachable("cannot connect to " + address + ": no address answered")));
    auto& sock = stream->lowest_layer();
    from_listen_port = false;
    boost::system::error_code ec;
    sock.close(ec);
    sock.open(it->endpoint().protocol(), ec);
    if (ec) return connect(self, results, std::next(it), true);
    if (from_source_port && dial.source_port) {
      sock.set_option(tcp::socket::reuse_address(true), ec);
      sock.set_option(detail::reuse_port(true), ec);
      const auto any = it->endpoint().address().is_v6() ? asio::ip::address(asio::ip::address_v6::any())
                                                        : asio::ip::address(asio::ip::address_v4::any());
      sock.bind({any, dial.source_port}, ec);
      from_listen_port = !ec;
      if (ec) {  // the port is not ours to share here: any port will do
        sock.close(ec);
        sock.open(it->endpoint().protocol(), ec);
        if (ec) return connect(self, results, std::next(it), true);
      }
    }
    sock.async_connect(it->endpoint(), [self, results, it, from_source_port](boost::system::error_code ec) {
      if (self->finished) return;
      if (ec == asio::error::address_in_use || ec == boost::system::errc::address_not_available) {
        if (from_source_port && self->dial.source_port) return self->connect(self, results, it, false);
      }
      if (ec) {
        if (std::next(it) != results.end()) return self->connect(self, results, std::next(it), true);
        return self->finish(
            tl::unexpected(unreachable("cannot connect to " + self->address + ": " + ec.message())));
      }
      boost::system::error_code ignored;
      self->stream->lowest_layer().set_option(tcp::no_delay(true), ignored);
      self->results = results;
      self->endpoint = it;
      if (self->dial.relay_token) return self->send_preamble(self);
      self->handshake(self);
    });
  }

  void send_preamble(std::shared_ptr<Dial> self) {
    preamble = relay_preamble(*dial.relay_token);
    asio::async_write(
        stream->next_layer(), asio::buffer(preamble), [self](boost::system::error_code ec, std::size_t) {
          if (self->finished) return;
          if (ec)
            return self->finish(
                tl::unexpected(unreachable("relay " + self->address + " refused: " + ec.message())));
          self->handshake(self);
        });
  }

  void handshake(std::shared_ptr<Dial> self) {
    const auto role = dial.tls_server ? asio::ssl::stream_base::server : asio::ssl::stream_base::client;
    stream->async_handshake(role, [self](boost::system::error_code ec) {
      if (self->finished) return;
      const auto where = self->dial.relay_token ? "the peer through relay " + self->address : self->address;
      // Both ends dialled each other from their listen ports at the same moment: TCP joined the two
      // dials into one connection (a simultaneous open) on which both speak first as TLS clients.
      // Once more from any port, which is an ordinary dial to their listener.
      if (ec && self->from_listen_port && !self->dial.punch && !self->dial.relay_token) {
        spdlog::debug("dial {}: TLS handshake failed ({}); again from another port", self->address,
                      ec.message());
        boost::system::error_code ignored;
        self->stream->lowest_layer().close(ignored);
        self->stream = std::make_unique<Channel::Stream>(self->strand, self->ssl);
        return self->connect(self, self->results, self->endpoint, false);
      }
      if (ec)
        return self->finish(tl::unexpected(bad("TLS handshake with " + where + " failed: " + ec.message())));
      auto peer = verified_peer(*self->stream);
      if (!peer) return self->finish(tl::unexpected(peer.error()));
      if (self->expected && peer->user != *self->expected)
        return self->finish(tl::unexpected(bad(where + " answered with another person's key than expected")));
      const auto path = self->path               ? *self->path
                        : self->dial.relay_token ? Path::relayed
                        : self->dial.punch       ? Path::punched
                                                 : Path::direct;
      self->finish(std::make_shared<Channel>(std::move(*self->stream), *peer, self->dial.tls_server,
                                             self->options, path, self->remote));
    });
  }
};

}  // namespace

void async_dial(asio::io_context& io, std::shared_ptr<asio::ssl::context> ctx, const std::string& address,
                std::optional<crypto::PublicKey> expected_user, ChannelOptions options,
                std::function<void(Result<std::shared_ptr<Channel>>)> done, DialOptions dial) {
  auto d = std::make_shared<Dial>(io, *ctx);
  d->ctx = ctx;
  d->expected = expected_user;
  d->options = options;
  d->dial = dial;
  d->address = address;
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
        d->connect(d, results, results.begin(), true);
      });
}

void async_secure(asio::io_context& io, std::shared_ptr<asio::ssl::context> ctx, tcp::socket socket,
                  std::optional<crypto::PublicKey> expected_user, ChannelOptions options, bool tls_server,
                  Path path, std::function<void(Result<std::shared_ptr<Channel>>)> done, std::string remote) {
  auto d = std::make_shared<Dial>(io, *ctx);
  d->ctx = ctx;
  d->expected = expected_user;
  d->options = options;
  d->dial.tls_server = tls_server;
  d->path = path;
  d->done = std::move(done);
  boost::system::error_code ec;
  d->remote = std::move(remote);
  d->address = !d->remote.empty() ? d->remote : detail::endpoint_text(socket.remote_endpoint(ec));
  // The channel runs on the dial's strand, so the connection moves there: a duplicate of its descriptor
  // on a socket of that strand (Asio 1.18 has no release()), the original closed.
  const int fd = ::dup(socket.native_handle());
  const auto protocol = socket.local_endpoint(ec).protocol();
  socket.close(ec);
  if (fd < 0) {
    asio::post(d->strand, [d] { d->finish(tl::unexpected(unreachable("cannot take over the connection"))); });
    return;
  }
  d->stream->lowest_layer().assign(protocol, fd, ec);
  if (ec) {
    ::close(fd);
    asio::post(d->strand, [d, ec] {
      d->finish(tl::unexpected(unreachable("cannot take over the connection: " + ec.message())));
    });
    return;
  }
  d->timer.expires_after(options.handshake_timeout);
  d->timer.async_wait([d](boost::system::error_code ec) {
    if (!ec)
      d->finish(
          tl::unexpected(unreachable("no channel with " + d->address + " within the handshake timeout")));
  });
  asio::post(d->strand, [d] { d->handshake(d); });
}

}  // namespace kith::net
