// Messenger: TCP hole punching over a relayed channel (docs/protocol/channel.md § Hole punching).
//
// Two people behind NAT routers reach each other first through a mutual contact's relay. Over that
// channel (end-to-end TLS, so the relay cannot forge it) they swap the public mappings of their listen
// ports, as their peers observed them (net/nat.hpp), and both dial the other from their listen port at
// once. Each router then sees an outgoing SYN before the other's SYN arrives, so both let the other's
// in: a TCP simultaneous open. The side with the smaller user key takes TLS's server role (a punch
// through the doorbell, rings.cpp, decides otherwise: there the ringer is the server). A channel
// that comes up replaces the relayed one (Messenger::adopt); one that does not costs nothing, the
// relayed channel stays. Endpoint-dependent ("symmetric") mappings are not worth a try: the mapping
// towards the other person differs from the one observed.
#include <spdlog/spdlog.h>

#include "base/endpoint.hpp"
#include "identity/kith_id.hpp"
#include "messaging/messenger.hpp"

namespace kith::messaging {
namespace {

constexpr int MAX_PUNCH_ADDRS = 4;

// Public IP:port addresses only, at most MAX_PUNCH_ADDRS: what a peer sends is data, checked here.
std::vector<std::string> usable(const google::protobuf::RepeatedPtrField<std::string>& addrs) {
  std::vector<std::string> out;
  for (const auto& a : addrs) {
    if (static_cast<int>(out.size()) == MAX_PUNCH_ADDRS) break;
    auto hp = base::parse_ip_port(a);
    if (hp && !net::is_private_ip(hp->host)) out.push_back(hp->to_string());
  }
  return out;
}

}  // namespace

std::vector<std::string> Messenger::punch_addresses() const {
  KITH_ASSERT_ON(m_strand);
  if (m_nat.type == net::NatType::endpoint_dependent) return {};
  auto out = m_nat.type == net::NatType::none ? m_nat.public_addresses : m_nat.listen_mappings;
  if (static_cast<int>(out.size()) > MAX_PUNCH_ADDRS) out.resize(MAX_PUNCH_ADDRS);
  return out;
}

// The opener of a relayed channel offers, once per channel.
void Messenger::offer_punch(Peer& peer) {
  KITH_ASSERT_ON(m_strand);
  if (!peer.channel->relayed() || peer.channel->incoming() || peer.punch_tried) return;
  peer.punch_tried = true;
  const auto mine = punch_addresses();
  if (mine.empty()) return;  // nothing the other side could aim at
  wire::pb::Frame f;
  for (const auto& a : mine) f.mutable_punch()->add_addrs(a);
  send_frame(peer, std::move(f));
}

void Messenger::on_punch(Peer& peer, const wire::pb::Punch& p) {
  KITH_ASSERT_ON(m_strand);
  if (!peer.channel->relayed()) return;  // already direct
  const auto theirs = usable(p.addrs());
  if (!p.answer()) {
    if (peer.punch_tried) return;  // one offer per channel
    peer.punch_tried = true;
    const auto mine = punch_addresses();
    wire::pb::Frame f;
    f.mutable_punch()->set_answer(true);
    for (const auto& a : mine) f.mutable_punch()->add_addrs(a);
    send_frame(peer, std::move(f));
    if (!mine.empty() && !theirs.empty()) punch(peer.cert.user, theirs, m_user.public_key() < peer.cert.user);
    return;
  }
  if (!theirs.empty() && !punch_addresses().empty())
    punch(peer.cert.user, theirs, m_user.public_key() < peer.cert.user);
}

void Messenger::punch(const crypto::PublicKey& user, const std::vector<std::string>& addrs, bool server) {
  KITH_ASSERT_ON(m_strand);
  spdlog::info("trying a hole punch to {} at {}", identity::encode_id(user), addrs.front());
  for (const auto& a : addrs)
    net::async_dial(
        m_io, server ? m_server_ctx : m_client_ctx, a, user, m_options.channel,
        [this, post = poster(), user, a](Result<std::shared_ptr<net::Channel>> r) {
          post([this, user, a, r = std::move(r)]() mutable {
            if (!r)
              return spdlog::info("hole punch to {} at {} failed: {}", identity::encode_id(user), a,
                                  r.error().message);
            spdlog::info("hole punch to {} at {} worked", identity::encode_id(user), a);
            on_dialled(user, std::move(*r));
          });
        },
        net::DialOptions{.source_port = m_port, .tls_server = server, .punch = true});
}

}  // namespace kith::messaging
