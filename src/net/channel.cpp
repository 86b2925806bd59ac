#include "net/channel.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include "crypto/tls.hpp"
#include "net/detail.hpp"

namespace kith::net {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {
std::atomic<std::uint64_t> g_serial{0};
}  // namespace

Result<identity::DeviceCert> verified_peer(Channel::Stream& stream) {
  auto tls = crypto::peer_identity(stream.native_handle());
  if (!tls) return tl::unexpected(tls.error());
  auto cert = identity::decode_device_cert(tls->extension);
  if (!cert) return tl::unexpected(cert.error());
  if (!identity::verify_device_cert(*cert))
    return tl::unexpected(detail::bad("the peer's device certificate is not signed by its user key"));
  if (cert->device != tls->key)
    return tl::unexpected(detail::bad("the peer's device certificate is for another key than its TLS key"));
  return *cert;
}

const char* to_string(Path path) {
  switch (path) {
    case Path::punched:
      return "hole-punched";
    case Path::relayed:
      return "relayed";
    case Path::turn:
      return "turn";
    case Path::udp:
      return "hole-punched-udp";
    case Path::direct:
      break;
  }
  return "direct";
}

Channel::Channel(Stream stream, identity::DeviceCert peer, bool incoming, ChannelOptions options, Path path,
                 std::string remote)
    : m_stream(std::move(stream)),
      m_peer(peer),
      m_incoming(incoming),
      m_path(path),
      m_options(options),
      m_serial(++g_serial),
      m_timer(m_stream.get_executor()) {
  boost::system::error_code ec;
  auto ep = m_stream.lowest_layer().remote_endpoint(ec);
  m_remote = !remote.empty() ? std::move(remote) : ec ? "?" : detail::endpoint_text(ep);
  auto local = m_stream.lowest_layer().local_endpoint(ec);
  m_local = ec ? "?" : detail::endpoint_text(local);
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
  m_closing = true;
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

}  // namespace kith::net
