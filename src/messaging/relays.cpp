// Messenger: relays between contacts and what peers tell us about our public address
// (docs/protocol/channel.md § Relays, § Observed addresses).
//
// A node that cannot open a channel to someone (a dial round failed, or no address is known) asks its
// online contacts to relay. A contact that relays (relay.enabled) and has a direct channel with that
// person announces the circuit to both with a random token; both connect to its listener and it splices
// the two TCP connections. The channel between the ends is their own TLS with pinned keys, so the relay
// carries ciphertext it cannot read or alter.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "base/endpoint.hpp"
#include "base/hex.hpp"
#include "base/terminal.hpp"
#include "identity/kith_id.hpp"
#include "messaging/messenger.hpp"
#include "messaging/tokens.hpp"

namespace kith::messaging {
namespace {

constexpr int MAX_RELAYS_ASKED = 4;           // contacts asked at once for one person
constexpr std::size_t MAX_ASKS = 64;          // our requests in flight
constexpr std::size_t MAX_OBSERVATIONS = 32;  // newest kept, one per observer
constexpr int MAX_RELAYED_DIALS = 8;          // RelayCalls we follow at once

}  // namespace

// --- asking --------------------------------------------------------------------------------------------

void Messenger::consider_relays(const contacts::Contact& c, Reach& reach, std::int64_t now) {
  KITH_ASSERT_ON(m_strand);
  // Only when a dial round reached nothing, or there is nothing to dial; and not while a channel with
  // them is being set up (their Hello still to come).
  if (reach.failed_rounds == 0 && !candidates(c).empty()) return;
  if (now < reach.relay_next) return;
  for (const auto& [k, p] : m_peers)
    if (p.cert.user == c.key && !p.channel->closed()) return;
  reach.relay_backoff =
      std::clamp(reach.relay_backoff * 2, m_options.relay.retry_min, m_options.relay.retry_max);
  reach.relay_next = now + reach.relay_backoff.count();
  ask_relays(c.key);
}

int Messenger::ask_relays(const crypto::PublicKey& target, std::uint64_t data) {
  KITH_ASSERT_ON(m_strand);
  const auto now = m_now();
  int asked = 0;
  for (auto& [k, p] : m_peers) {
    if (asked == MAX_RELAYS_ASKED || m_asks.size() >= MAX_ASKS) break;
    if (!p.hello || p.channel->closed() || !p.channel->observes_peer() || p.cert.user == target) continue;
    if (m_book.relation(p.cert.user) != contacts::Relation::accepted) continue;
    auto where = listener_address(p);
    if (where.empty()) continue;
    const auto token = new_token();
    m_asks[token] = Ask{target, p.cert.user, where, now + m_options.relay.wait.count(), data};
    wire::pb::Frame f;
    f.mutable_relay_request()->set_token(bytes_of(token));
    f.mutable_relay_request()->set_target(bytes_of(target));
    f.mutable_relay_request()->set_data(data != 0);
    send_frame(p, std::move(f));
    ++asked;
  }
  if (asked)  // debug: an offline contact is asked about again and again (backoff up to a minute)
    spdlog::debug("cannot reach {} directly: asked {} contact(s) to relay", identity::encode_id(target),
                  asked);
  return asked;
}

void Messenger::on_relay_ready(Peer& peer, const wire::pb::RelayReady& ready) {
  KITH_ASSERT_ON(m_strand);
  net::RelayToken token;
  if (!array_of(ready.token(), token)) return;
  auto it = m_asks.find(token);
  if (it == m_asks.end() || it->second.relay != peer.cert.user) return;
  const Ask ask = it->second;
  m_asks.erase(it);
  if (ask.data) return on_data_relay_ready(ask, token);
  if (peer_of_user(ask.target)) return;  // reached meanwhile; the relay drops the circuit in time
  spdlog::info("opening a channel to {} through {}'s relay", identity::encode_id(ask.target),
               identity::encode_id(ask.relay));
  net::async_dial(
      m_io, m_client_ctx, ask.relay_address, ask.target, m_options.channel,
      [this, post = poster(), target = ask.target](Result<std::shared_ptr<net::Channel>> r) {
        post([this, target, r = std::move(r)]() mutable {
          if (!r)
            return spdlog::info("relayed channel to {}: {}", identity::encode_id(target), r.error().message);
          on_dialled(target, std::move(*r));
        });
      },
      net::DialOptions{.relay_token = token});
}

void Messenger::on_relay_refused(Peer& peer, const wire::pb::RelayRefused& refused) {
  KITH_ASSERT_ON(m_strand);
  net::RelayToken token;
  if (!array_of(refused.token(), token)) return;
  auto it = m_asks.find(token);
  if (it == m_asks.end() || it->second.relay != peer.cert.user) return;
  spdlog::debug("{} does not relay to {}: {}", identity::encode_id(peer.cert.user),
                identity::encode_id(it->second.target), base::terminal_safe(refused.reason().substr(0, 200)));
  const auto data = it->second.data;
  m_asks.erase(it);
  if (data) data_ask_failed(data, "refused: " + base::terminal_safe(refused.reason().substr(0, 200)));
}

// --- being asked: the relay ----------------------------------------------------------------------------

void Messenger::on_relay_request(Peer& peer, const wire::pb::RelayRequest& request) {
  KITH_ASSERT_ON(m_strand);
  net::RelayToken token;
  crypto::PublicKey target;
  if (!array_of(request.token(), token)) return;
  auto refuse = [&](const std::string& reason) {
    ++m_relay_refused;
    wire::pb::Frame f;
    f.mutable_relay_refused()->set_token(request.token());
    f.mutable_relay_refused()->set_reason(reason);
    send_frame(peer, std::move(f));
  };
  if (!array_of(request.target(), target)) return refuse("not a user key");
  if (!m_options.relay.enabled) return refuse("relaying is off on this node");
  if (m_book.relation(peer.cert.user) != contacts::Relation::accepted || peer.channel->relayed())
    return refuse("this node relays only for its contacts' direct channels");
  // One answer for "not my contact" and "not connected", so a contact learns no more than it must.
  Peer* other = m_book.relation(target) == contacts::Relation::accepted ? peer_of_user(target) : nullptr;
  if (!other || other->channel->relayed() || target == peer.cert.user)
    return refuse("cannot reach that person now");
  if (static_cast<int>(m_circuits.size()) + m_circuits_active >= m_options.relay.max_circuits)
    return refuse("this relay is full");
  if (m_circuits.count(token)) return;
  m_circuits[token] = Circuit{peer.cert.user, target, m_now() + m_options.relay.wait.count(), nullptr};
  wire::pb::Frame call;
  call.mutable_relay_call()->set_token(request.token());
  call.mutable_relay_call()->set_from(bytes_of(peer.cert.user));
  call.mutable_relay_call()->set_data(request.data());
  send_frame(*other, std::move(call));
  wire::pb::Frame ready;
  ready.mutable_relay_ready()->set_token(request.token());
  send_frame(peer, std::move(ready));
  spdlog::info("relaying {} from {} to {}", request.data() ? "file data" : "a channel",
               identity::encode_id(peer.cert.user), identity::encode_id(target));
}

void Messenger::on_relay_socket(net::RelayToken token, std::shared_ptr<boost::asio::ip::tcp::socket> socket) {
  KITH_ASSERT_ON(m_strand);
  if (take_direct_data(token, socket)) return;
  auto it = m_circuits.find(token);
  if (it == m_circuits.end() || it->second.expires < m_now()) {
    ++m_relay_refused;
    boost::system::error_code ignored;
    socket->close(ignored);
    return;
  }
  if (!it->second.first) {
    it->second.first = std::move(socket);
    return;
  }
  auto first = std::move(it->second.first);
  m_circuits.erase(it);
  ++m_circuits_active;
  net::splice(m_io, std::move(*first), std::move(*socket), m_options.relay.max_bytes,
              [this, post = poster()](net::SpliceStats stats) {
                post([this, stats] {
                  --m_circuits_active;
                  m_relayed_bytes += stats.bytes;
                  spdlog::info("relay circuit closed after {} bytes: {}", stats.bytes, stats.why);
                });
              });
}

void Messenger::expire_relays(std::int64_t now) {
  KITH_ASSERT_ON(m_strand);
  std::erase_if(m_circuits, [now](auto& entry) {
    if (entry.second.expires >= now) return false;
    boost::system::error_code ignored;
    if (entry.second.first) entry.second.first->close(ignored);
    return true;
  });
  std::vector<std::uint64_t> data_expired;
  std::erase_if(m_asks, [&](const auto& entry) {
    if (entry.second.expires >= now) return false;
    if (entry.second.data) data_expired.push_back(entry.second.data);
    return true;
  });
  for (auto id : data_expired) data_ask_failed(id, "no answer in time");
}

// --- being called through a relay ----------------------------------------------------------------------

void Messenger::on_relay_call(Peer& peer, const wire::pb::RelayCall& call) {
  KITH_ASSERT_ON(m_strand);
  net::RelayToken token;
  crypto::PublicKey from;
  if (!array_of(call.token(), token) || !array_of(call.from(), from)) return;
  if (m_book.relation(peer.cert.user) != contacts::Relation::accepted || from == m_user.public_key()) return;
  if (m_book.relation(from) == contacts::Relation::blocked) {
    spdlog::info("ignored a relayed call from blocked {}", identity::encode_id(from));
    return;
  }
  if (call.data()) return on_data_call(peer, token, from);
  if (peer_of_user(from) || m_relay_dials >= MAX_RELAYED_DIALS) return;
  const auto where = listener_address(peer);
  if (where.empty()) return;
  ++m_relay_dials;
  // We take TLS's server side: the channel is the caller's, as if it had reached our listener.
  net::async_dial(
      m_io, m_server_ctx, where, from, m_options.channel,
      [this, post = poster(), from](Result<std::shared_ptr<net::Channel>> r) {
        post([this, from, r = std::move(r)]() mutable {
          --m_relay_dials;
          if (!r)
            return spdlog::info("relayed channel from {}: {}", identity::encode_id(from), r.error().message);
          on_channel(std::move(*r));
        });
      },
      net::DialOptions{.relay_token = token, .tls_server = true});
}

std::string Messenger::listener_address(const Peer& peer) const {
  KITH_ASSERT_ON(m_strand);
  if (!peer.channel->incoming() && peer.channel->observes_peer()) return peer.channel->remote_address();
  if (const auto* c = m_book.find(peer.cert.user)) {
    auto cands = candidates(*c);
    if (!cands.empty()) return cands.front();
  }
  return "";
}

RelayStatus Messenger::relay_status() const {
  KITH_ASSERT_ON(m_strand);
  RelayStatus s;
  s.enabled = m_options.relay.enabled;
  s.circuits = m_circuits_active;
  s.waiting = static_cast<int>(m_circuits.size());
  s.max_circuits = m_options.relay.max_circuits;
  s.bytes = m_relayed_bytes;
  s.refused = m_relay_refused;
  for (const auto& [k, p] : m_peers)
    if (p.hello && !p.channel->closed() && p.channel->path() == net::Path::relayed) ++s.relayed_channels;
  return s;
}

// --- observed addresses --------------------------------------------------------------------------------

void Messenger::observe(const net::Channel& channel, const std::string& observed) {
  KITH_ASSERT_ON(m_strand);
  if (!channel.observes_peer() || observed.empty() || observed.size() > 64) return;
  const auto who = base::to_hex(bytes_of(channel.peer().device));
  std::erase_if(m_observations, [&](const net::Observation& o) { return o.observer == who; });
  m_observations.push_back({who, channel.local_address(), observed});
  if (m_observations.size() > MAX_OBSERVATIONS) m_observations.erase(m_observations.begin());
  std::vector<std::string> own;
  for (const auto& a : m_interface_addrs)
    if (auto hp = base::parse_host_port(a)) own.push_back(hp->host);
  const auto before = m_nat;
  m_nat = net::classify_nat(m_observations, own, m_port);
  if (m_nat.type != before.type)
    spdlog::info("NAT: {} (public {})", net::to_string(m_nat.type),
                 m_nat.public_ips.empty() ? std::string("unknown") : m_nat.public_ips.front());
  if (m_nat.public_addresses != before.public_addresses || m_nat.public_ips != before.public_ips)
    update_advertised();
}

void Messenger::set_router_address(std::string address) {
  on_strand([this, address = std::move(address)] {
    // A port alone (no ':'): the port parser of "ip:port" checks it (digits, 1..65535).
    if (auto port = base::parse_ip_port("0.0.0.0:" + address);
        port && address.find(':') == std::string::npos) {
      spdlog::info("the router forwards port {} to us: advertised with the public IP peers see", port->port);
      m_router_port = port->port;
      return update_advertised();
    }
    auto hp = base::parse_ip_port(address);
    if (!hp || net::is_private_ip(hp->host)) return;
    spdlog::info("the router forwards {} to us: advertised", address);
    m_router_address = hp->to_string();
    update_advertised();
  });
}

void Messenger::update_advertised() {
  KITH_ASSERT_ON(m_strand);
  auto next = m_interface_addrs;
  if (!m_router_address.empty() && std::find(next.begin(), next.end(), m_router_address) == next.end())
    next.push_back(m_router_address);
  if (m_router_address.empty() && m_router_port)
    for (const auto& ip : m_nat.public_ips)
      if (auto a = base::join_host_port(ip, m_router_port);
          std::find(next.begin(), next.end(), a) == next.end())
        next.push_back(a);
  for (const auto& a : m_nat.public_addresses)
    if (std::find(next.begin(), next.end(), a) == next.end()) next.push_back(a);
  if (!m_turn_address.empty() && std::find(next.begin(), next.end(), m_turn_address) == next.end())
    next.push_back(m_turn_address);
  if (next == m_advertised) return;
  m_advertised = std::move(next);
  // Contacts online now hear it at once (a Hello again only refreshes what they know of us).
  for (auto& [k, p] : m_peers)
    if (p.hello && !p.channel->closed()) send_frame(p, hello_frame(*p.channel));
  emit(AddressesChanged{m_advertised, NatStatus{net::to_string(m_nat.type), m_nat.public_addresses,
                                                m_nat.public_ips, m_nat.observers}});
}

}  // namespace kith::messaging
