#pragma once
// A TURN client for TCP allocations (RFC 8656 with RFC 6062), so that a node behind a NAT that cannot
// be opened still has a public address: the TURN server (an organisation's coturn, say) listens on a
// *relayed TCP address* for us, and each peer that connects there reaches us as an ordinary connected
// TCP socket (a data connection to the server, bound to the peer's connection). The caller then runs
// TLS on it exactly as on a socket its own listener accepted. The same allocation also opens outgoing
// TCP connections from the relayed address (connect()).
//
// Only TCP: kith channels are TLS over TCP, so neither UDP relaying nor channels are implemented. The
// control connection is plain TCP to the server; the server's answers are authenticated with the
// long-term credential (MESSAGE-INTEGRITY), which is as much as TURN over TCP offers. What flows over
// the data connections is the peers' own TLS.
//
// Threading: all state lives on the client's strand and every callback is called there. The public
// functions may be called from any thread. Sockets handed out are on a strand of their own.
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "net/stun.hpp"

namespace kith::net {

struct TurnServer {
  std::string host;  // a name or an IP literal (without brackets)
  std::uint16_t port = 3478;
  std::string user, password;
};

// The setting's text: USER:PASSWORD@HOST[:PORT] (port 3478 when left out; an IPv6 host in brackets).
// The password may contain ':' and '@' (the last '@' ends it); the user may not contain ':'.
Result<TurnServer> parse_turn_server(const std::string& text);

struct TurnOptions {
  std::chrono::milliseconds request_timeout{15'000};  // an unanswered request on the control connection
  std::chrono::milliseconds connect_timeout{10'000};  // a TCP connection to the server
  std::chrono::milliseconds bind_timeout{30'000};     // a data connection, from ConnectionAttempt to bound
  std::chrono::milliseconds first_retry{5'000};       // after a loss; doubles up to max_retry
  std::chrono::milliseconds max_retry{300'000};
  std::chrono::milliseconds permission_refresh{240'000};  // permissions last 5 min (RFC 8656 § 9)
};

class TurnClient : public std::enable_shared_from_this<TurnClient> {
 public:
  struct Callbacks {
    std::function<void(std::string relayed)> on_allocated;  // "ip:port", after each (re-)allocation
    std::function<void(std::string why)> on_lost;  // the allocation failed or ended; retried until stop()
    // A peer connected to the relayed address and its data connection is bound: the socket carries the
    // peer's bytes, raw. `peer` is the peer's "ip:port" as the server saw it.
    std::function<void(boost::asio::ip::tcp::socket, std::string peer)> on_incoming;
  };

  // Create with std::make_shared; nothing happens before start().
  TurnClient(boost::asio::io_context& io, TurnServer server, Callbacks callbacks, TurnOptions options = {});

  void start();
  // Ends the control connection and the data connections not yet handed out. No on_* callback runs
  // once stop() has returned; a pending connect() still gets its `done`, with an error.
  void stop();

  // The peer IPs allowed to connect to the relayed address (ports are ignored: "ip" or "ip:port"),
  // replacing the previous set. TURN cannot revoke a permission: a removed IP lapses within 5 minutes.
  // `done` (optional, on the strand): once the server has answered for the newly added IPs (an error
  // names the refused ones), or at once when there is nothing new to send or no allocation yet (the
  // set is sent after each allocation).
  void permit(std::vector<std::string> ips, std::function<void(Status)> done = nullptr);

  // A TCP connection from the relayed address to `peer` ("ip:port"): `done` is called once, on the
  // client's strand, with a socket carrying the peer's bytes raw, or an error (at once when there is no
  // allocation). The peer's IP is permitted first and kept permitted while the client runs (coturn
  // does not ask for it before Connect; the RFCs leave it to the server).
  void connect(std::string peer, std::function<void(Result<boost::asio::ip::tcp::socket>)> done);

  // Status, from any thread.
  std::string relayed_address() const;  // "" until allocated
  std::string state() const;            // "stopped", "connecting", "allocated", "failed: why"
  std::uint64_t incoming() const;       // peers delivered through on_incoming
  std::uint64_t outgoing() const;       // connect()s that succeeded

 private:
  using Strand = boost::asio::strand<boost::asio::io_context::executor_type>;
  using Reply = std::function<void(Result<StunMessage>)>;
  struct Pending {
    StunMessage request;             // without credentials and XOR-PEER-ADDRESS, for a retry
    std::vector<StunAddress> peers;  // XOR-PEER-ADDRESS, encoded with each transaction's id
    Reply reply;
    int auth_tries = 0;
    std::string key;  // what the request was signed with; empty: unsigned
    std::shared_ptr<boost::asio::steady_timer> timer;
  };
  struct DataConnection;
  friend struct DataConnection;

  void begin();
  void lose(const std::string& why);
  void close_control(const std::string& why);
  void read_header(std::uint64_t generation);
  void on_message(const std::string& raw);
  void send(StunMessage msg, std::vector<StunAddress> peers, Reply reply, int auth_tries = 0);
  void write_next();
  void allocate();
  void schedule_refresh(std::uint32_t lifetime);
  void send_permissions(std::set<std::string> ips, std::function<void(Status)> done);
  void schedule_permission_refresh();
  void connect_on_strand(std::string peer, std::function<void(Result<boost::asio::ip::tcp::socket>)> done);
  void open_data_connection(std::string connection_id, std::string peer,
                            std::function<void(Result<boost::asio::ip::tcp::socket>)> done);
  void set_state(std::string state, std::string relayed);

  boost::asio::io_context& m_io;
  const TurnServer m_server;
  Callbacks m_callbacks;
  const TurnOptions m_options;
  Strand m_strand;
  boost::asio::ip::tcp::resolver m_resolver;
  boost::asio::ip::tcp::socket m_control;
  boost::asio::ip::tcp::endpoint m_server_endpoint;  // where data connections go: the control's peer
  boost::asio::steady_timer m_retry_timer, m_refresh_timer, m_permission_timer;
  std::uint64_t m_generation = 0;  // bumped whenever the control connection is replaced
  bool m_started = false, m_stopped = false, m_allocated = false, m_writing = false, m_losing = false;
  bool m_relay_v4 = true;                     // the relayed address's family: permissions must match it
  std::atomic<bool> m_stop_requested{false};  // set by stop() at once: no callback after it returns
  std::chrono::milliseconds m_backoff{0};
  std::string m_read_buffer;
  std::deque<std::string> m_write_queue;
  std::map<StunTransactionId, Pending> m_pending;
  // The long-term credential as the server last told it (RFC 8489 § 9.2).
  std::string m_realm, m_nonce, m_key;
  std::set<std::string> m_permitted;    // from permit()
  std::set<std::string> m_connect_ips;  // peers of connect(), kept permitted while we run
  std::set<std::shared_ptr<DataConnection>> m_data_connections;

  mutable std::mutex m_status_mutex;  // the status copy below only: everything else is on the strand
  std::string m_status_state = "stopped", m_status_relayed;
  std::uint64_t m_incoming = 0, m_outgoing = 0;
};

}  // namespace kith::net
