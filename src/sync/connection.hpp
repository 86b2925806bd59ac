#pragma once
// One BEP connection to a device (docs/protocol/bep.md): a TLS stream whose handshake and device check
// are done, then the Hello exchange, then framed messages both ways. It keeps itself alive (a Ping
// after PING_INTERVAL without sending, as Syncthing does) and closes when the peer says nothing for
// IDLE_TIMEOUT. Pings are absorbed here; every other message goes to the owner.
//
// Threading: the connection runs on the executor it is given (the sync engine's strand); its handlers
// are called there. send() and close() may be called from any thread.
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <string>

#include "base/async.hpp"
#include "base/error.hpp"
#include "bep/bep.pb.h"
#include "bep/frame.hpp"

namespace kith::sync {

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  using Stream = boost::asio::ssl::stream<boost::asio::ip::tcp::socket>;
  using MessageHandler = std::function<void(bep::Message)>;
  using CloseHandler = std::function<void(const std::string& why)>;

  static constexpr std::chrono::seconds HELLO_TIMEOUT{10};
  static constexpr std::chrono::seconds PING_INTERVAL{90};
  static constexpr std::chrono::seconds IDLE_TIMEOUT{300};
  // A peer that reads slower than this much queued output is dropped (responses are up to 16 MiB).
  static constexpr std::size_t MAX_QUEUED_BYTES = 64u << 20;

  Connection(base::Strand strand, Stream stream, std::string device, std::string remote, bool incoming);

  const std::string& device() const { return m_device; }  // the peer's device ID text
  const std::string& remote_address() const { return m_remote; }
  bool incoming() const { return m_incoming; }
  std::uint64_t serial() const { return m_serial; }

  // Sends our Hello and reads theirs (within HELLO_TIMEOUT); `done` gets theirs or why not.
  void hello(const bep::pb::Hello& ours, std::function<void(Result<bep::pb::Hello>)> done);
  // After hello(): reads messages until closed. on_close runs once; no message is delivered after it.
  void start(MessageHandler on_message, CloseHandler on_close);
  // Responses are sent uncompressed (their data rarely compresses; Syncthing's "metadata" default).
  void send(bep::pb::MessageType type, const google::protobuf::MessageLite& message);
  void close(const std::string& why);
  bool closed() const { return m_closed; }
  // Backpressure: stop reading from the peer (what it sends waits in TCP's buffers and then its own)
  // until resume_reading(). Messages already buffered here are delivered only after resuming. On the
  // strand.
  void pause_reading();
  void resume_reading();
  std::size_t queued_bytes() const { return m_queued_bytes.load(); }

 private:
  void read_hello(std::shared_ptr<std::function<void(Result<bep::pb::Hello>)>> done);
  void read();
  void write();
  void tick();
  void enqueue(std::string bytes);
  void shut(const std::string& why);

  base::Strand m_strand;
  Stream m_stream;
  std::string m_device, m_remote;
  bool m_incoming;
  std::uint64_t m_serial;
  boost::asio::steady_timer m_timer;
  std::string m_buffer;  // bytes read and not yet a whole message
  std::array<char, 64 * 1024> m_read_buffer{};
  std::deque<std::string> m_queue;
  std::atomic<std::size_t> m_queued_bytes{0};
  bool m_writing = false;
  bool m_started = false;
  bool m_paused = false;   // pause_reading()
  bool m_reading = false;  // an async_read_some is outstanding
  std::string m_closing;   // close() was called: why (the Close message is being written)
  std::atomic<bool> m_closed{false};
  std::chrono::steady_clock::time_point m_last_rx, m_last_tx;
  MessageHandler m_on_message;
  CloseHandler m_on_close;
};

}  // namespace kith::sync
