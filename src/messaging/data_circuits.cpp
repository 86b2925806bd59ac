// Messenger: file data through relays (docs/protocol/channel.md § Relays, data circuits).
//
// Between two people behind NATs whose channel runs through a mutual contact's relay, libtorrent finds
// no path for a `kith send` either. A data circuit is a relay circuit whose ends do not run the
// channel's TLS: the asker gets the raw socket (the app joins it to a local connection of its
// libtorrent), the target joins its end to its own SSL torrent listener. The transfer's peer
// connection, TLS with the torrent's certificates, so runs end to end through the relay, which sees
// ciphertext only; the pieces are verified and the files scanned as on every other path.
//
// Over a channel through a TURN server (turn.cpp) the asker needs no relaying contact: it tells the
// target a token (DataCircuit) and connects to the target's channel listener with it, at the target's
// addresses directly or through its own TURN allocation, as its channel dials do; the target's listener
// (or its relayed address) hands the preamble to on_relay_socket, which joins the connection to the SSL
// torrent port.
#include <spdlog/spdlog.h>

#include <boost/asio/write.hpp>

#include "base/endpoint.hpp"
#include "identity/kith_id.hpp"
#include "messaging/messenger.hpp"
#include "messaging/tokens.hpp"
#include "net/nat.hpp"
#include "net/relay.hpp"

namespace kith::messaging {
namespace {

constexpr auto CONNECT_TIMEOUT = std::chrono::seconds(10);
constexpr int MAX_DATA_JOINS = 8;  // data circuits being joined to our torrent port at once
// A direct data circuit (DataCircuit): how long either end waits for it before the relays are asked (the
// asker) or the token lapses (the target), how many tokens a target holds, how many addresses are tried.
constexpr auto DIRECT_DATA_WAIT = std::chrono::seconds(30);
constexpr std::size_t MAX_DIRECT_DATA = 16;
constexpr std::size_t MAX_DIRECT_ADDRS = 4;

Error no_relay(const std::string& why) {
  return Error{base::make_error_code(base::errc::unavailable), "no relay for file data: " + why};
}

}  // namespace

void Messenger::open_data_circuit(std::string who, base::Done<Result<boost::asio::ip::tcp::socket>> done) {
  on_strand([this, who = std::move(who), done = std::move(done)]() mutable {
    auto id = do_accepted_contact(who);
    if (!id) return done(tl::unexpected(id.error()));
    const auto key = identity::decode_id(*id);
    if (!key) return done(tl::unexpected(key.error()));
    // A relay reaches only people online: do not ask (and tell relays whom we want) in vain.
    auto* peer = peer_of_user(*key);
    if (!peer) return done(tl::unexpected(no_relay("they are not online")));
    if (peer->channel->path() == net::Path::turn) return open_direct_data(*peer, std::move(done));
    ask_data_relays(*key, std::move(done));
  });
}

void Messenger::ask_data_relays(const crypto::PublicKey& key,
                                base::Done<Result<boost::asio::ip::tcp::socket>> done) {
  KITH_ASSERT_ON(m_strand);
  {
    const auto ask = ++m_next_data_ask;
    m_data_asks[ask] = DataAsk{std::move(done), 0, false};
    const int asked = ask_relays(key, ask);
    if (asked == 0) {
      auto d = std::move(m_data_asks[ask].done);
      m_data_asks.erase(ask);
      return d(tl::unexpected(no_relay("no contact of yours who relays is online")));
    }
    m_data_asks[ask].pending = asked;
  }
}

// Public addresses of `list`, then each once more through our TURN allocation ("turn:").
std::vector<std::string> Messenger::direct_candidates(const std::vector<std::string>& list) const {
  KITH_ASSERT_ON(m_strand);
  std::vector<std::string> out;
  for (const auto& a : list)
    if (auto hp = base::parse_ip_port(a);
        hp && !net::is_private_ip(hp->host) && a != m_turn_address && out.size() < MAX_DIRECT_ADDRS)
      out.push_back(a);
  add_turn_candidates(out);
  return out;
}

// Both ends try at once, since which way TURN lets a connection through depends on how the channel came
// about (a server refuses a second Connect from one allocation to the same peer, RFC 6062 § 5.2): we
// connect to the target's addresses, the target to ours (DataCircuit.addrs). The first connection
// confirmed with the token is the circuit; without one within DIRECT_DATA_WAIT the relays are asked.
void Messenger::open_direct_data(Peer& peer, base::Done<Result<boost::asio::ip::tcp::socket>> done) {
  KITH_ASSERT_ON(m_strand);
  const auto key = peer.cert.user;
  const auto* c = m_book.find(key);
  const auto token = new_token();
  auto ask =
      std::make_shared<DirectAsk>(DirectAsk{key, std::move(done), boost::asio::steady_timer(m_strand)});
  m_direct_asks[token] = ask;
  wire::pb::Frame f;
  f.mutable_data_circuit()->set_token(bytes_of(token));
  for (const auto& a : m_advertised)
    if (auto hp = base::parse_ip_port(a); hp && !net::is_private_ip(hp->host))
      f.mutable_data_circuit()->add_addrs(a);
  send_frame(peer, std::move(f));
  spdlog::info("file data to {} through the TURN server", identity::encode_id(key));
  auto list = std::make_shared<std::vector<std::string>>(
      direct_candidates(c ? candidates(*c) : std::vector<std::string>{}));
  connect_confirmed(token, list, 0, [this, token](Result<boost::asio::ip::tcp::socket> r) {
    if (r) finish_direct_ask(token, std::move(*r));
  });
  ask->timer.expires_after(DIRECT_DATA_WAIT);
  ask->timer.async_wait([this, life = std::weak_ptr<Life>(m_life), token](boost::system::error_code ec) {
    if (ec || !life.lock() || m_stopped) return;
    auto it = m_direct_asks.find(token);
    if (it == m_direct_asks.end()) return;
    auto ask = it->second;
    m_direct_asks.erase(it);
    spdlog::info("file data to {}: no direct connection; asking relays", identity::encode_id(ask->key));
    ask_data_relays(ask->key, std::move(ask->done));
    settle();
  });
}

void Messenger::finish_direct_ask(net::RelayToken token, boost::asio::ip::tcp::socket socket) {
  KITH_ASSERT_ON(m_strand);
  auto it = m_direct_asks.find(token);
  boost::system::error_code ignored;
  if (it == m_direct_asks.end()) return (void)socket.close(ignored);  // the other way won, or too late
  auto ask = it->second;
  m_direct_asks.erase(it);
  ask->timer.cancel();
  ask->done(std::move(socket));
}

// Tries `list` in order (directly, or "turn:" through our allocation): a connection that sends the
// preamble and gets it back is the answer (`done` on the strand); an error when none is.
void Messenger::connect_confirmed(net::RelayToken token, std::shared_ptr<std::vector<std::string>> list,
                                  std::size_t i,
                                  std::function<void(Result<boost::asio::ip::tcp::socket>)> done) {
  KITH_ASSERT_ON(m_strand);
  if (i >= list->size())
    return done(fail(base::make_error_code(base::errc::unavailable), "no address answered"));
  auto outcome = [this, post = poster(), token, list, i, done](Result<boost::asio::ip::tcp::socket> r) {
    auto shared = std::make_shared<Result<boost::asio::ip::tcp::socket>>(std::move(r));
    post([this, token, list, i, done, shared] {
      if (*shared) return done(std::move(*shared));
      spdlog::debug("data circuit at {}: {}", (*list)[i], shared->error().message);
      connect_confirmed(token, list, i + 1, done);
    });
  };
  // The preamble is sent; the circuit is ours once the other end answers with it. A TCP connection alone
  // proves nothing: a TURN server accepts a peer it has no permission for and only then resets it.
  auto confirm = [token, outcome](Result<boost::asio::ip::tcp::socket> r) {
    if (!r) return outcome(std::move(r));
    auto socket = std::make_shared<boost::asio::ip::tcp::socket>(std::move(*r));
    net::read_opening(
        socket, CONNECT_TIMEOUT, [socket, token, outcome](Result<std::optional<net::RelayToken>> o) {
          if (!o || !*o || **o != token)
            return outcome(fail(base::make_error_code(base::errc::unavailable),
                                o ? "the other end did not answer with the token" : o.error().message));
          outcome(std::move(*socket));
        });
  };
  const auto& candidate = (*list)[i];
  if (!is_turn_candidate(candidate))
    return net::connect_raw(m_io, candidate, token, CONNECT_TIMEOUT, std::move(confirm));
  m_turn_data->connect(
      candidate.substr(candidate.find(':') + 1),
      [token, confirm = std::move(confirm)](Result<boost::asio::ip::tcp::socket> s) mutable {
        if (!s) return confirm(std::move(s));
        auto socket = std::make_shared<boost::asio::ip::tcp::socket>(std::move(*s));
        auto preamble = std::make_shared<std::string>(net::relay_preamble(token));
        boost::asio::async_write(
            *socket, boost::asio::buffer(*preamble),
            [socket, preamble, confirm = std::move(confirm)](boost::system::error_code ec,
                                                             std::size_t) mutable {
              if (ec) return confirm(fail(base::make_error_code(base::errc::unavailable), ec.message()));
              confirm(std::move(*socket));
            });
      });
}

// The asker's word that it wants our file data this way: a connection to our listener with the token is
// theirs (take_direct_data), and we try to reach their addresses with it at the same time.
void Messenger::on_direct_data(Peer& peer, const wire::pb::DataCircuit& circuit) {
  KITH_ASSERT_ON(m_strand);
  net::RelayToken token;
  if (!array_of(circuit.token(), token)) return;
  const auto now = m_now();
  std::erase_if(m_direct_data, [now](const auto& e) { return e.second.second < now; });
  if (m_direct_data.size() >= MAX_DIRECT_DATA) return;
  const auto from = peer.cert.user;
  m_direct_data[token] = std::make_pair(
      from, now + std::chrono::duration_cast<std::chrono::milliseconds>(DIRECT_DATA_WAIT).count());
  std::vector<std::string> theirs(circuit.addrs().begin(), circuit.addrs().end());
  auto list = std::make_shared<std::vector<std::string>>(direct_candidates(theirs));
  // Both ways may get through: every confirmed circuit is joined, and the asker, who takes the first it
  // sees, closes the other (its splice here then ends). Choosing here too could pick the other one.
  connect_confirmed(token, list, 0, [this, from](Result<boost::asio::ip::tcp::socket> r) {
    if (!r) return spdlog::debug("file data to {}: {}", identity::encode_id(from), r.error().message);
    join_to_torrent(from, std::move(*r), "over a direct circuit");
  });
}

// A connection to our listener carrying a direct data circuit's token: as the target, theirs to join to
// our torrent port; as the asker, the target reaching us. Either way it is answered with the token.
bool Messenger::take_direct_data(net::RelayToken token,
                                 std::shared_ptr<boost::asio::ip::tcp::socket> socket) {
  KITH_ASSERT_ON(m_strand);
  if (auto ask = m_direct_asks.find(token); ask != m_direct_asks.end()) {
    auto answer = std::make_shared<std::string>(net::relay_preamble(token));
    boost::asio::async_write(
        *socket, boost::asio::buffer(*answer),
        [this, post = poster(), token, socket, answer](boost::system::error_code ec, std::size_t) {
          post([this, token, socket, ec] {
            boost::system::error_code ignored;
            if (ec) return (void)socket->close(ignored);
            finish_direct_ask(token, std::move(*socket));
          });
        });
    return true;
  }
  auto it = m_direct_data.find(token);
  if (it == m_direct_data.end()) return false;
  const auto [from, expires] = it->second;
  m_direct_data.erase(it);
  if (expires < m_now()) return false;
  join_to_torrent(from, std::move(*socket), "over a direct circuit",
                  net::relay_preamble(token));  // the answer: "it is me"
  return true;
}

// The first relay ready wins; later ones are left to expire at the relay.
void Messenger::on_data_relay_ready(const Ask& ask, net::RelayToken token) {
  KITH_ASSERT_ON(m_strand);
  auto it = m_data_asks.find(ask.data);
  if (it == m_data_asks.end() || it->second.connecting) return;
  it->second.connecting = true;
  spdlog::info("file data to {} through {}'s relay", identity::encode_id(ask.target),
               identity::encode_id(ask.relay));
  net::connect_raw(m_io, ask.relay_address, token, CONNECT_TIMEOUT,
                   [this, post = poster(), id = ask.data](Result<boost::asio::ip::tcp::socket> r) {
                     auto shared = std::make_shared<Result<boost::asio::ip::tcp::socket>>(std::move(r));
                     post([this, id, shared] {
                       auto it = m_data_asks.find(id);
                       if (it == m_data_asks.end()) return;
                       auto d = std::move(it->second.done);
                       m_data_asks.erase(it);
                       d(std::move(*shared));
                     });
                   });
}

void Messenger::data_ask_failed(std::uint64_t id, const std::string& why) {
  KITH_ASSERT_ON(m_strand);
  auto it = m_data_asks.find(id);
  if (it == m_data_asks.end() || it->second.connecting || --it->second.pending > 0) return;
  auto d = std::move(it->second.done);
  m_data_asks.erase(it);
  d(tl::unexpected(no_relay(why)));
}

// The relay calls us for a contact's file data: join its circuit to our SSL torrent listener.
void Messenger::on_data_call(Peer& relay, net::RelayToken token, const crypto::PublicKey& from) {
  KITH_ASSERT_ON(m_strand);
  if (m_book.relation(from) != contacts::Relation::accepted) return;  // the circuit expires at the relay
  const auto where = listener_address(relay);
  if (where.empty()) return;
  net::connect_raw(m_io, where, token, CONNECT_TIMEOUT,
                   [this, post = poster(), from](Result<boost::asio::ip::tcp::socket> r) {
                     auto shared = std::make_shared<Result<boost::asio::ip::tcp::socket>>(std::move(r));
                     post([this, from, shared] {
                       if (!*shared)
                         return spdlog::info("file data from {}: {}", identity::encode_id(from),
                                             shared->error().message);
                       join_to_torrent(from, std::move(**shared), "through a relay");
                     });
                   });
}

// Joins a contact's data circuit to our SSL torrent listener on this host.
void Messenger::join_to_torrent(const crypto::PublicKey& from, boost::asio::ip::tcp::socket circuit,
                                const char* via, std::string answer) {
  KITH_ASSERT_ON(m_strand);
  const auto local = m_options.data_address ? m_options.data_address() : std::string();
  boost::system::error_code ignored;
  if (m_book.relation(from) != contacts::Relation::accepted || local.empty() ||
      m_data_joins >= MAX_DATA_JOINS)
    return circuit.close(ignored);
  ++m_data_joins;
  auto held = std::make_shared<boost::asio::ip::tcp::socket>(std::move(circuit));
  auto connect_local = [this, post = poster(), from, held, local, via] {
    net::connect_raw(
        m_io, local, std::nullopt, CONNECT_TIMEOUT,
        [this, post, from, held, via](Result<boost::asio::ip::tcp::socket> r) {
          auto shared = std::make_shared<Result<boost::asio::ip::tcp::socket>>(std::move(r));
          post([this, from, held, shared, via] {
            --m_data_joins;
            boost::system::error_code ignored;
            if (!*shared) {
              spdlog::info("file data from {}: our torrent port: {}", identity::encode_id(from),
                           shared->error().message);
              return held->close(ignored);
            }
            spdlog::info("file data from {} {} joined to our torrent port", identity::encode_id(from), via);
            net::splice(m_io, std::move(*held), std::move(**shared), 0, [from](net::SpliceStats s) {
              spdlog::info("file data circuit from {} closed after {} bytes: {}", identity::encode_id(from),
                           s.bytes, s.why);
            });
          });
        });
  };
  if (answer.empty()) return connect_local();
  auto text = std::make_shared<std::string>(std::move(answer));
  boost::asio::async_write(
      *held, boost::asio::buffer(*text),
      [this, post = poster(), held, text, connect_local](boost::system::error_code ec, std::size_t) {
        post([this, held, ec, connect_local] {
          if (!ec) return connect_local();
          --m_data_joins;
          boost::system::error_code ignored;
          held->close(ignored);
        });
      });
}

}  // namespace kith::messaging
