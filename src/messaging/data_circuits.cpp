// Messenger: file data through relays (docs/protocol/channel.md § Relays, data circuits).
//
// Between two people behind NATs whose channel runs through a mutual contact's relay, libtorrent finds
// no path for a `kith send` either. A data circuit is a relay circuit whose ends do not run the
// channel's TLS: the asker gets the raw socket (the app joins it to a local connection of its
// libtorrent), the target joins its end to its own SSL torrent listener. The transfer's peer
// connection, TLS with the torrent's certificates, so runs end to end through the relay, which sees
// ciphertext only; the pieces are verified and the files scanned as on every other path.
#include <spdlog/spdlog.h>

#include "identity/kith_id.hpp"
#include "messaging/messenger.hpp"
#include "net/relay.hpp"

namespace kith::messaging {
namespace {

constexpr auto CONNECT_TIMEOUT = std::chrono::seconds(10);
constexpr int MAX_DATA_JOINS = 8;  // data circuits being joined to our torrent port at once

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
    if (!peer_of_user(*key)) return done(tl::unexpected(no_relay("they are not online")));
    const auto ask = ++m_next_data_ask;
    m_data_asks[ask] = DataAsk{std::move(done), 0, false};
    const int asked = ask_relays(*key, ask);
    if (asked == 0) {
      auto d = std::move(m_data_asks[ask].done);
      m_data_asks.erase(ask);
      return d(tl::unexpected(no_relay("no contact of yours who relays is online")));
    }
    m_data_asks[ask].pending = asked;
  });
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
  const auto local = m_options.data_address ? m_options.data_address() : std::string();
  if (m_book.relation(from) != contacts::Relation::accepted || local.empty() ||
      m_data_joins >= MAX_DATA_JOINS)
    return;  // the circuit expires at the relay
  const auto where = listener_address(relay);
  if (where.empty()) return;
  ++m_data_joins;
  struct Halves {
    std::optional<boost::asio::ip::tcp::socket> circuit, torrent;
    int waiting = 2;
  };
  auto halves = std::make_shared<Halves>();
  auto arrived = [this, post = poster(), halves, from](bool circuit) {
    return [this, post, halves, from, circuit](Result<boost::asio::ip::tcp::socket> r) {
      auto shared = std::make_shared<Result<boost::asio::ip::tcp::socket>>(std::move(r));
      post([this, halves, from, circuit, shared] {
        if (*shared)
          (circuit ? halves->circuit : halves->torrent).emplace(std::move(**shared));
        else
          spdlog::info("file data from {}: {}", identity::encode_id(from), shared->error().message);
        if (--halves->waiting > 0) return;
        --m_data_joins;
        if (!halves->circuit || !halves->torrent) return;  // the other half closes as it goes
        spdlog::info("file data from {} through a relay joined to our torrent port",
                     identity::encode_id(from));
        net::splice(m_io, std::move(*halves->circuit), std::move(*halves->torrent), 0,
                    [from](net::SpliceStats s) {
                      spdlog::info("file data circuit from {} closed after {} bytes: {}",
                                   identity::encode_id(from), s.bytes, s.why);
                    });
      });
    };
  };
  net::connect_raw(m_io, where, token, CONNECT_TIMEOUT, arrived(true));
  net::connect_raw(m_io, local, std::nullopt, CONNECT_TIMEOUT, arrived(false));
}

}  // namespace kith::messaging
