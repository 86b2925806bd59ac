// Reach through an organisation's TURN server (rendezvous.turn; net::TurnClient, RFC 6062 TCP
// allocations). With a TURN server set, the node holds a relayed TCP address on it and advertises it
// like its listen address. Whoever connects there reaches us as an ordinary incoming connection on which
// we run the TLS server (Path::turn), once the server let them in: TURN admits only peers whose IP we
// permitted, so we permit the IPs we know our contacts by, and the server's own relay IP, through which
// every other user of the same server reaches us (their Connect leaves from it). Dialling, a contact's
// public addresses are tried through the server too ("turn:" candidates) after the direct attempts.
// The end-to-end TLS runs through unchanged: the server sees only ciphertext.
#include <spdlog/spdlog.h>

#include "base/endpoint.hpp"
#include "messaging/messenger.hpp"
#include "net/nat.hpp"

namespace kith::messaging {
namespace {

constexpr std::string_view TURN_PREFIX = "turn:";
constexpr std::size_t MAX_TURN_PERMITS = 64;  // IPs permitted at once (each a CreatePermission entry)

std::string host_of(const std::string& address) {
  auto hp = base::parse_host_port(address);
  return hp ? hp->host : std::string();
}

}  // namespace

void Messenger::start_turn() {
  if (!m_options.turn) return;
  net::TurnClient::Callbacks cb;
  cb.on_allocated = [this, post = poster()](std::string relayed) {
    post([this, relayed] { turn_allocated(relayed); });
  };
  cb.on_lost = [this, post = poster()](std::string why) { post([this, why] { turn_lost(why); }); };
  cb.on_incoming = [this, post = poster()](boost::asio::ip::tcp::socket socket, std::string peer) {
    auto s = std::make_shared<boost::asio::ip::tcp::socket>(std::move(socket));
    post([this, s, peer] { turn_incoming(std::move(*s), peer); });
  };
  m_turn = std::make_shared<net::TurnClient>(m_io, *m_options.turn, std::move(cb));
  m_turn_state = "connecting";
  m_turn->start();
  // A second allocation, never advertised, for data circuits' Connects: the server refuses a second
  // connection between one allocation and the same peer address (RFC 6062 § 5.2; coturn also counts
  // one the peer opened), and the channel holds that pair already.
  net::TurnClient::Callbacks data;
  data.on_lost = [](std::string why) { spdlog::debug("TURN (data): {}", why); };
  data.on_incoming = [](boost::asio::ip::tcp::socket socket, std::string) {
    boost::system::error_code ignored;
    socket.close(ignored);  // nobody was told this address
  };
  m_turn_data = std::make_shared<net::TurnClient>(m_io, *m_options.turn, std::move(data));
  m_turn_data->start();
}

void Messenger::turn_allocated(const std::string& relayed) {
  KITH_ASSERT_ON(m_strand);
  spdlog::info("TURN: advertising our relayed address {}", relayed);
  m_turn_state = "allocated";
  m_turn_address = relayed;
  m_turn_permits.clear();  // a new allocation has none
  update_turn_permits();
  update_advertised();
}

void Messenger::turn_lost(const std::string& why) {
  KITH_ASSERT_ON(m_strand);
  spdlog::debug("TURN: {} (the client logged it and tries again)", why);
  m_turn_state = "failed: " + why;
  if (m_turn_address.empty()) return;
  m_turn_address.clear();
  update_advertised();
}

// Like a connection to our listener: a channel (TLS) or a contact's data circuit (a relay preamble with a
// token they announced, data_circuits.cpp).
void Messenger::turn_incoming(boost::asio::ip::tcp::socket socket, const std::string& peer) {
  KITH_ASSERT_ON(m_strand);
  spdlog::debug("TURN: {} connected to our relayed address", peer);
  auto s = std::make_shared<boost::asio::ip::tcp::socket>(std::move(socket));
  net::read_opening(s, m_options.channel.handshake_timeout,
                    [this, post = poster(), s, peer](Result<std::optional<net::RelayToken>> opening) {
                      post([this, s, peer, opening] {
                        if (!opening) {
                          ++m_refused;
                          return spdlog::debug("TURN: {} refused: {}", peer, opening.error().message);
                        }
                        if (*opening) return on_relay_socket(**opening, s);
                        net::async_secure(
                            m_io, m_server_ctx, std::move(*s), std::nullopt, m_options.channel,
                            /*tls_server=*/true, net::Path::turn,
                            [this, post = poster(), peer](Result<std::shared_ptr<net::Channel>> r) {
                              post([this, peer, r = std::move(r)]() mutable {
                                if (!r) {
                                  ++m_refused;
                                  return spdlog::debug("TURN: {} refused: {}", peer, r.error().message);
                                }
                                on_channel(std::move(*r));
                              });
                            });
                      });
                    });
}

// The IPs we know contacts by (public ones: a TURN server cannot reach a private network of ours) and
// the server's own relay IP; sent when the set changes.
void Messenger::update_turn_permits() {
  KITH_ASSERT_ON(m_strand);
  if (!m_turn || m_turn_address.empty()) return;
  std::set<std::string> ips{host_of(m_turn_address)};
  auto add = [&](const std::string& address) {
    const auto host = host_of(address);
    if (!host.empty() && !net::is_private_ip(host) && ips.size() < MAX_TURN_PERMITS) ips.insert(host);
  };
  for (const auto& c : m_book.list()) {
    if (c.relation == contacts::Relation::blocked || c.relation == contacts::Relation::stranger) continue;
    for (const auto& a : candidates(c)) add(a);
  }
  for (const auto& [k, p] : m_peers)
    if (!p.channel->relayed()) add(p.channel->remote_address());
  if (ips == m_turn_permits) return;
  m_turn_permits = ips;
  m_turn->permit({ips.begin(), ips.end()});
}

bool Messenger::is_turn_candidate(const std::string& candidate) {
  return candidate.compare(0, TURN_PREFIX.size(), TURN_PREFIX) == 0;
}

// After the direct candidates: each public one once more through the TURN server (not our own relayed
// address, which would be a loop).
void Messenger::add_turn_candidates(std::vector<std::string>& cands) const {
  KITH_ASSERT_ON(m_strand);
  if (!m_turn || m_turn_address.empty()) return;
  const auto direct = cands;
  for (const auto& a : direct) {
    auto hp = base::parse_ip_port(a);
    if (!hp || net::is_private_ip(hp->host) || a == m_turn_address) continue;
    cands.push_back(std::string(TURN_PREFIX) + a);
  }
}

void Messenger::dial_via_turn(const crypto::PublicKey& user, const std::string& address,
                              std::function<void(Result<std::shared_ptr<net::Channel>>)> done) {
  KITH_ASSERT_ON(m_strand);
  if (!m_turn) return done(fail(base::make_error_code(base::errc::unavailable), "no TURN server"));
  m_turn->connect(address, [this, post = poster(), user, address,
                            done = std::move(done)](Result<boost::asio::ip::tcp::socket> s) mutable {
    if (!s) return done(tl::unexpected(s.error()));
    net::async_secure(m_io, m_client_ctx, std::move(*s), user, m_options.channel, /*tls_server=*/false,
                      net::Path::turn, std::move(done));
  });
}

TurnStatus Messenger::turn_status() const {
  KITH_ASSERT_ON(m_strand);
  TurnStatus s;
  if (!m_options.turn) return s;
  s.server = m_options.turn->host + ":" + std::to_string(m_options.turn->port);
  s.state = m_turn_state;
  s.address = m_turn_address;
  s.permits = static_cast<int>(m_turn_permits.size());
  for (const auto& [k, p] : m_peers)
    if (p.hello && !p.channel->closed() && p.channel->path() == net::Path::turn) ++s.channels;
  return s;
}

}  // namespace kith::messaging
