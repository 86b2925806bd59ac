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
#include "net/relay.hpp"
#include "wire/frame.hpp"

namespace kith::net {

struct ChannelOptions {
  std::chrono::milliseconds handshake_timeout{10'000};
  std::chrono::milliseconds ping_interval{15'000};
  std::chrono::milliseconds idle_timeout{45'000};
  std::size_t max_queued_bytes = 4 * 1024 * 1024;  // a peer that reads slower than this is dropped
};

// How a channel's TCP connection reaches the peer.
enum class Path {
  direct,   // one of us dialled the other's listener
  punched,  // both dialled each other at once from their listen ports (a TCP hole punch through NATs)
  relayed,  // through a contact's relay (relay.hpp), which splices our connection to the peer's
  turn,     // through a TURN server's TCP allocation (turn_client.hpp): one of us has a relayed address
  udp       // over a UDP path ICE punched (ice/ice_link.hpp), where TCP could not get through
};
const char* to_string(Path path);  // "direct", "hole-punched", "relayed", "turn", "hole-punched-udp"

class Channel : public std::enable_shared_from_this<Channel> {
 public:
  using Executor = boost::asio::strand<boost::asio::io_context::executor_type>;
  using Stream = boost::asio::ssl::stream<boost::asio::ip::tcp::socket>;
  using FrameHandler = std::function<void(wire::pb::Frame)>;
  using CloseHandler = std::function<void(const std::string& why)>;

  // `remote`: what remote_address() says, when the socket cannot tell (a local bridge to a UDP path).
  Channel(Stream stream, identity::DeviceCert peer, bool incoming, ChannelOptions options,
          Path path = Path::direct, std::string remote = {});

  const identity::DeviceCert& peer() const { return m_peer; }
  bool incoming() const { return m_incoming; }
  const std::string& remote_address() const {
    return m_remote;
  }  // "ip:port" of the other end (the relay's, if relayed)
  const std::string& local_address() const { return m_local; }  // "ip:port" of our end
  Path path() const { return m_path; }
  // Through a middlebox that splices bytes (a contact's relay or a TURN server): not a direct path, and
  // the remote address is the middlebox's, which says nothing about where the peer is.
  bool relayed() const { return m_path == Path::relayed || m_path == Path::turn; }
  // A TCP connection straight to the peer (dialled, accepted or punched): the remote address is where
  // the peer's TCP traffic comes from, worth telling them ("observed") and dialling again.
  bool observes_peer() const { return m_path == Path::direct || m_path == Path::punched; }
  std::uint64_t serial() const { return m_serial; }  // unique per process, for logs and maps

  // Begins reading. on_close runs once, after which no frame is delivered.
  void start(FrameHandler on_frame, CloseHandler on_close);
  void send(wire::pb::Frame frame);
  void close(const std::string& why);
  // True from the moment close() is called (the socket itself closes a moment later, on the
  // channel's executor): frames still read meanwhile belong to a channel already given up.
  bool closed() const { return m_closing || m_closed; }

 private:
  void read();
  void write();
  void on_tick();
  void shut(const std::string& why);

  Stream m_stream;
  identity::DeviceCert m_peer;
  bool m_incoming;
  Path m_path;
  ChannelOptions m_options;
  std::string m_remote, m_local;
  std::uint64_t m_serial;
  boost::asio::steady_timer m_timer;
  wire::FrameDecoder m_decoder;
  std::array<char, 16 * 1024> m_read_buffer{};
  std::deque<std::string> m_queue;
  std::size_t m_queued_bytes = 0;
  bool m_writing = false;
  std::atomic<bool> m_closed{false};
  std::atomic<bool> m_closing{false};  // close() was called
  std::chrono::steady_clock::time_point m_last_rx, m_last_tx;
  FrameHandler m_on_frame;
  CloseHandler m_on_close;
};

// The peer identity a finished handshake proved: a device certificate signed by its user key whose
// device key is the TLS certificate's key. base::errc::bad_input otherwise.
Result<identity::DeviceCert> verified_peer(Channel::Stream& stream);

struct DialOptions {
  // Leave from this local port (the listener's, shared through SO_REUSEPORT), so that a NAT maps our
  // dials as it maps our listener and peers' observations of it can be compared (nat.hpp); also what a
  // TCP hole punch needs. 0, or when that port cannot be used for this connection: any free port.
  std::uint16_t source_port = 0;
  // Through a relay: `address` is the relay's listener; send the preamble with this token first.
  std::optional<RelayToken> relay_token;
  // Take the TLS server side (the callee of a relayed channel, one end of a punch); the channel counts as
  // incoming.
  bool tls_server = false;
  // A hole punch: the peer dials us at the same moment (Path::punched).
  bool punch = false;
};

// Connects to "host:port" (names resolved), completes the handshake and checks the peer: refused
// (errc::bad_input) unless its device certificate verifies and, if `expected_user` is set, names that user.
void async_dial(boost::asio::io_context& io, std::shared_ptr<boost::asio::ssl::context> ctx,
                const std::string& address, std::optional<crypto::PublicKey> expected_user,
                ChannelOptions options, std::function<void(Result<std::shared_ptr<Channel>>)> done,
                DialOptions dial = {});

// The handshake and identity check of `async_dial` on a connection opened by someone else (a TURN data
// connection, whose bytes are the peer's from here on): TLS server or client, within the handshake
// timeout, the channel marked with `path`.
void async_secure(boost::asio::io_context& io, std::shared_ptr<boost::asio::ssl::context> ctx,
                  boost::asio::ip::tcp::socket socket, std::optional<crypto::PublicKey> expected_user,
                  ChannelOptions options, bool tls_server, Path path,
                  std::function<void(Result<std::shared_ptr<Channel>>)> done, std::string remote = {});

// Accepts channels on a port (IPv6 dual-stack when available, else IPv4). Each accepted connection
// gets the handshake and identity check; on_channel receives only verified channels, not yet started.
// At most `max_handshakes` handshakes run at once; more connections are closed at once.
//
// A connection that starts with a relay preamble (relay.hpp) instead of TLS goes to `on_relay` with its
// token (on the connection's strand); without an on_relay it is closed.
class Listener {
 public:
  using OnChannel = std::function<void(std::shared_ptr<Channel>)>;
  using OnRelay = std::function<void(RelayToken, boost::asio::ip::tcp::socket)>;
  // `address`: "ip:port"; "[::]:port" listens on IPv6 and IPv4 (dual stack; IPv4 only where the host has
  // no IPv6), "0.0.0.0:port" on IPv4 only, a specific address on that address. Port 0: any free port.
  static Result<std::unique_ptr<Listener>> open(boost::asio::io_context& io,
                                                std::shared_ptr<boost::asio::ssl::context> ctx,
                                                const std::string& address, ChannelOptions options,
                                                OnChannel on_channel, OnRelay on_relay = {});
  ~Listener();
  std::uint16_t port() const { return m_port; }
  void close();
  std::uint64_t refused() const { return m_refused; }  // handshakes or identities that failed

 private:
  Listener(boost::asio::io_context& io, std::shared_ptr<boost::asio::ssl::context> ctx,
           ChannelOptions options, OnChannel on_channel, OnRelay on_relay);
  void accept();
  void sniff(std::shared_ptr<boost::asio::ip::tcp::socket> socket);  // TLS or a relay preamble?
  void secure(boost::asio::ip::tcp::socket socket);  // the TLS handshake and the identity check

  boost::asio::io_context& m_io;
  std::shared_ptr<boost::asio::ssl::context> m_ctx;
  ChannelOptions m_options;
  OnChannel m_on_channel;
  OnRelay m_on_relay;
  boost::asio::ip::tcp::acceptor m_acceptor;
  std::uint16_t m_port = 0;
  // Connections between accept and a verified channel (or a relay handover); handlers on many strands.
  std::shared_ptr<std::atomic<int>> m_handshakes;
  std::atomic<std::uint64_t> m_refused{0};
  std::shared_ptr<std::atomic<bool>> m_alive;  // cleared by close() on any thread; read by accept handlers
};

inline constexpr int MAX_HANDSHAKES = 64;

}  // namespace kith::net
