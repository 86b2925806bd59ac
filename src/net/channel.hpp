#pragma once
// A contact channel: one TLS 1.3 connection between two devices, its identity checked, carrying
// length-prefixed wire frames (wire/frame.hpp). The channel keeps itself alive (Ping every
// ping_interval when idle) and closes when the peer stays silent for idle_timeout; Ping and Pong are
// answered here and never reach the owner.
//
// Threading: every channel runs on its own strand; handlers are called there. send() and close() may be
// called from any thread.
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "base/error.hpp"
#include "identity/device.hpp"
#include "wire/frame.hpp"

namespace kith::net {

struct ChannelOptions {
  std::chrono::milliseconds handshake_timeout{10'000};
  std::chrono::milliseconds ping_interval{15'000};
  std::chrono::milliseconds idle_timeout{45'000};
  std::size_t max_queued_bytes = 4 * 1024 * 1024;  // a peer that reads slower than this is dropped
};

class Channel : public std::enable_shared_from_this<Channel> {
 public:
  using Executor = boost::asio::strand<boost::asio::io_context::executor_type>;
  using Stream = boost::asio::ssl::stream<boost::asio::ip::tcp::socket>;
  using FrameHandler = std::function<void(wire::pb::Frame)>;
  using CloseHandler = std::function<void(const std::string& why)>;

  Channel(Stream stream, identity::DeviceCert peer, bool incoming, ChannelOptions options);

  const identity::DeviceCert& peer() const { return m_peer; }
  bool incoming() const { return m_incoming; }
  const std::string& remote_address() const { return m_remote; }  // "ip:port" of the other end
  std::uint64_t serial() const { return m_serial; }               // unique per process, for logs and maps

  // Begins reading. on_close runs once, after which no frame is delivered.
  void start(FrameHandler on_frame, CloseHandler on_close);
  void send(wire::pb::Frame frame);
  void close(const std::string& why);
  bool closed() const { return m_closed; }

 private:
  void read();
  void write();
  void on_tick();
  void shut(const std::string& why);

  Stream m_stream;
  identity::DeviceCert m_peer;
  bool m_incoming;
  ChannelOptions m_options;
  std::string m_remote;
  std::uint64_t m_serial;
  boost::asio::steady_timer m_timer;
  wire::FrameDecoder m_decoder;
  std::array<char, 16 * 1024> m_read_buffer{};
  std::deque<std::string> m_queue;
  std::size_t m_queued_bytes = 0;
  bool m_writing = false;
  std::atomic<bool> m_closed{false};
  std::chrono::steady_clock::time_point m_last_rx, m_last_tx;
  FrameHandler m_on_frame;
  CloseHandler m_on_close;
};

// The peer identity a finished handshake proved: a device certificate signed by its user key whose
// device key is the TLS certificate's key. base::errc::bad_input otherwise.
Result<identity::DeviceCert> verified_peer(Channel::Stream& stream);

// Connects to "host:port" (names resolved), completes the handshake and checks the peer: refused
// (errc::bad_input) unless its device certificate verifies and, if `expected_user` is set, names that user.
void async_dial(boost::asio::io_context& io, std::shared_ptr<boost::asio::ssl::context> ctx,
                const std::string& address, std::optional<crypto::PublicKey> expected_user,
                ChannelOptions options, std::function<void(Result<std::shared_ptr<Channel>>)> done);

// Accepts channels on a port (IPv6 dual-stack when available, else IPv4). Each accepted connection
// gets the handshake and identity check; on_channel receives only verified channels, not yet started.
// At most `max_handshakes` handshakes run at once; more connections are closed at once.
class Listener {
 public:
  using OnChannel = std::function<void(std::shared_ptr<Channel>)>;
  // `address`: "ip:port"; "[::]:port" listens on IPv6 and IPv4 (dual stack; IPv4 only where the host has
  // no IPv6), "0.0.0.0:port" on IPv4 only, a specific address on that address. Port 0: any free port.
  static Result<std::unique_ptr<Listener>> open(boost::asio::io_context& io,
                                                std::shared_ptr<boost::asio::ssl::context> ctx,
                                                const std::string& address, ChannelOptions options,
                                                OnChannel on_channel);
  ~Listener();
  std::uint16_t port() const { return m_port; }
  void close();
  std::uint64_t refused() const { return m_refused; }  // handshakes or identities that failed

 private:
  Listener(boost::asio::io_context& io, std::shared_ptr<boost::asio::ssl::context> ctx,
           ChannelOptions options, OnChannel on_channel);
  void accept();

  boost::asio::io_context& m_io;
  std::shared_ptr<boost::asio::ssl::context> m_ctx;
  ChannelOptions m_options;
  OnChannel m_on_channel;
  boost::asio::ip::tcp::acceptor m_acceptor;
  std::uint16_t m_port = 0;
  std::shared_ptr<int> m_handshakes;  // count of handshakes in flight; shared with their handlers
  std::atomic<std::uint64_t> m_refused{0};
  std::shared_ptr<std::atomic<bool>> m_alive;  // cleared by close() on any thread; read by accept handlers
};

inline constexpr int MAX_HANDSHAKES = 64;

}  // namespace kith::net
