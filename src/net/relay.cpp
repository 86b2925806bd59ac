#include "net/relay.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <memory>

#include "base/endpoint.hpp"
#include "net/detail.hpp"

namespace kith::net {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

std::string relay_preamble(const RelayToken& token) {
  std::string out(RELAY_MAGIC);
  out.append(reinterpret_cast<const char*>(token.data()), token.size());
  return out;
}

bool parse_relay_preamble(std::string_view bytes, RelayToken& token) {
  if (bytes.size() != RELAY_PREAMBLE_SIZE || bytes.substr(0, RELAY_MAGIC.size()) != RELAY_MAGIC) return false;
  std::copy(bytes.begin() + RELAY_MAGIC.size(), bytes.end(), reinterpret_cast<char*>(token.data()));
  return true;
}

namespace {

// A TLS record starts with its content type; 22 is "handshake" (the ClientHello).
constexpr unsigned char TLS_HANDSHAKE_RECORD = 0x16;

}  // namespace

void read_opening(std::shared_ptr<tcp::socket> socket, std::chrono::milliseconds timeout,
                  std::function<void(Result<std::optional<RelayToken>>)> done) {
  auto timer = std::make_shared<asio::steady_timer>(socket->get_executor());
  timer->expires_after(timeout);
  timer->async_wait([socket](boost::system::error_code ec) {
    boost::system::error_code ignored;
    if (!ec) socket->close(ignored);  // the pending read ends with an error
  });
  auto first = std::make_shared<std::array<char, RELAY_PREAMBLE_SIZE>>();
  auto refuse = [](const std::string& why) -> Result<std::optional<RelayToken>> {
    return fail(base::make_error_code(base::errc::bad_input), why);
  };
  // Peek at the first byte: a TLS record header stays in the socket for the handshake.
  socket->async_receive(
      asio::buffer(first->data(), 1), tcp::socket::message_peek,
      [socket, timer, first, refuse, done = std::move(done)](boost::system::error_code ec,
                                                             std::size_t n) mutable {
        if (ec || n != 1) {
          timer->cancel();
          return done(refuse(ec ? ec.message() : "closed"));
        }
        if (static_cast<unsigned char>((*first)[0]) == TLS_HANDSHAKE_RECORD) {
          timer->cancel();
          return done(std::optional<RelayToken>());
        }
        if ((*first)[0] != RELAY_MAGIC[0]) {
          timer->cancel();
          return done(refuse("neither TLS nor a relay preamble"));
        }
        asio::async_read(
            *socket, asio::buffer(*first),
            [timer, first, refuse, done = std::move(done)](boost::system::error_code ec, std::size_t) {
              timer->cancel();
              RelayToken token;
              if (ec) return done(refuse(ec.message()));
              if (!parse_relay_preamble(std::string_view(first->data(), first->size()), token))
                return done(refuse("not a relay preamble"));
              done(std::optional<RelayToken>(token));
            });
      });
}

namespace {

// Both sockets live on one strand (re-wrapped from whatever executor accepted them), so the two pumps
// and the shared counters need no lock.
struct Splice : std::enable_shared_from_this<Splice> {
  Splice(asio::io_context& io, std::uint64_t cap)
      : strand(asio::make_strand(io)), side{tcp::socket(strand), tcp::socket(strand)}, max_bytes(cap) {}
  asio::strand<asio::io_context::executor_type> strand;
  tcp::socket side[2];
  std::array<std::array<char, 64 * 1024>, 2> buffer{};
  std::uint64_t max_bytes;
  SpliceStats stats;
  bool ended = false;
  std::function<void(SpliceStats)> done;

  // Moves bytes from side[from] to side[1 - from].
  void pump(int from) {
    side[from].async_read_some(asio::buffer(buffer[from]), [self = shared_from_this(), from](
                                                               boost::system::error_code ec, std::size_t n) {
      if (self->ended) return;
      if (ec) return self->end(ec == asio::error::eof ? "a side closed" : ec.message());
      self->stats.bytes += n;
      if (self->max_bytes && self->stats.bytes > self->max_bytes) return self->end("the relay's byte cap");
      asio::async_write(self->side[1 - from], asio::buffer(self->buffer[from].data(), n),
                        [self, from](boost::system::error_code ec, std::size_t) {
                          if (self->ended) return;
                          if (ec) return self->end(ec.message());
                          self->pump(from);
                        });
    });
  }

  void end(std::string why) {
    if (ended) return;
    ended = true;
    boost::system::error_code ignored;
    for (auto& s : side) {
      s.shutdown(tcp::socket::shutdown_both, ignored);
      s.close(ignored);
    }
    stats.why = std::move(why);
    if (done) std::exchange(done, nullptr)(stats);
  }
};

}  // namespace

void splice(asio::io_context& io, tcp::socket a, tcp::socket b, std::uint64_t max_bytes,
            std::function<void(SpliceStats)> done) {
  auto s = std::make_shared<Splice>(io, max_bytes);
  s->done = std::move(done);
  boost::system::error_code ec;
  const auto pa = a.local_endpoint(ec).protocol();
  const auto pb = b.local_endpoint(ec).protocol();
  s->side[0].assign(pa, a.release(ec), ec);
  if (!ec) s->side[1].assign(pb, b.release(ec), ec);
  asio::post(s->strand, [s, ec] {
    if (ec) return s->end("cannot take over the sockets: " + ec.message());
    boost::system::error_code ignored;
    for (auto& side : s->side) side.set_option(tcp::no_delay(true), ignored);
    s->pump(0);
    s->pump(1);
  });
}

namespace {

struct RawConnect : std::enable_shared_from_this<RawConnect> {
  RawConnect(asio::io_context& io)
      : strand(asio::make_strand(io)), resolver(strand), socket(strand), timer(strand) {}
  asio::strand<asio::io_context::executor_type> strand;
  tcp::resolver resolver;
  tcp::socket socket;
  asio::steady_timer timer;
  std::string address, preamble;
  std::function<void(Result<tcp::socket>)> done;

  void finish(Result<tcp::socket> r) {
    if (!done) return;
    timer.cancel();
    std::exchange(done, nullptr)(std::move(r));
  }
  void fail(const std::string& why) {
    boost::system::error_code ignored;
    socket.close(ignored);
    resolver.cancel();
    finish(tl::unexpected(detail::unreachable("cannot connect to " + address + ": " + why)));
  }
};

}  // namespace

void connect_raw(asio::io_context& io, const std::string& address, std::optional<RelayToken> token,
                 std::chrono::milliseconds timeout, std::function<void(Result<tcp::socket>)> done) {
  auto c = std::make_shared<RawConnect>(io);
  c->address = address;
  c->done = std::move(done);
  if (token) c->preamble = relay_preamble(*token);
  asio::post(c->strand, [c, timeout] {
    auto hp = base::parse_host_port(c->address);
    if (!hp) return c->fail(hp.error().message);
    c->timer.expires_after(timeout);
    c->timer.async_wait([c](boost::system::error_code ec) {
      if (!ec) c->fail("no answer in time");
    });
    c->resolver.async_resolve(
        hp->host, std::to_string(hp->port),
        [c](boost::system::error_code ec, tcp::resolver::results_type results) {
          if (ec) return c->fail(ec.message());
          asio::async_connect(c->socket, results, [c](boost::system::error_code ec, const tcp::endpoint&) {
            if (ec) return c->fail(ec.message());
            if (c->preamble.empty()) return c->finish(std::move(c->socket));
            asio::async_write(c->socket, asio::buffer(c->preamble),
                              [c](boost::system::error_code ec, std::size_t) {
                                if (ec) return c->fail(ec.message());
                                c->finish(std::move(c->socket));
                              });
          });
        });
  });
}

}  // namespace kith::net
