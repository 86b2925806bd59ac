// Messenger: the DHT doorbell (docs/protocol/channel.md § Doorbell; the DHT side is
// rendezvous::Doorbell, which the app connects to Options::ringing and answer_rings).
//
// A contact we cannot reach (a dial round failed, or we know no address) and whose invite carried a
// bell is "rung": the doorbell announces our listen port under their bell's hash. Their node polls
// that hash, finds our public address and dials us from behind its NAT; our listener takes the channel
// and, because we asked them (outgoing) or know them (accepted), sends our ContactRequest or Hello on it
// (adopt). On their side we are a stranger until the user accepts: the channel is request-only.
//
// When we are behind a NAT too, their SYN is dropped by our router. Their doorbell then also announces
// their own port under the bell's answer key; ours finds it (answered()) and we dial them from our
// listen port while their dial back is still trying: each router has seen its side's SYN go out and
// lets the other's in, a TCP simultaneous open. Roles: the owner dials as a TLS client (it does not know
// who rang), so the ringer takes the server's role.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "base/endpoint.hpp"
#include "identity/kith_id.hpp"
#include "messaging/messenger.hpp"

namespace kith::messaging {
namespace {

constexpr std::size_t MAX_RING_DIALS_PER_CALL = 8;  // a flood of ringers costs at most this per poll
constexpr std::size_t MAX_RING_DIALS_REMEMBERED = 256;
constexpr std::int64_t RING_REDIAL_MS = 2 * 60'000;  // one ringer address is dialled once in this
constexpr std::int64_t ANSWER_REDIAL_MS = 30'000;    // one answering owner's address is punched once in this
// A dial back keeps its SYN going this long: a ringer behind a NAT looks for our answer every 10 s
// (rendezvous::DoorbellOptions::answer_poll) and must dial us while ours is still in flight.
constexpr auto RING_ANSWER_TIMEOUT = std::chrono::seconds(60);

}  // namespace

void Messenger::update_ringing() {
  KITH_ASSERT_ON(m_strand);
  std::vector<std::string> bells;
  for (const auto& c : m_book.list()) {
    if (c.bell.empty() || peer_of_user(c.key)) continue;
    if (c.relation != contacts::Relation::accepted && c.relation != contacts::Relation::outgoing) continue;
    auto it = m_reach.find(c.key);
    const bool failed = it != m_reach.end() && it->second.failed_rounds > 0;
    if (failed || candidates(c).empty()) bells.push_back(c.bell);
  }
  std::sort(bells.begin(), bells.end());
  bells.erase(std::unique(bells.begin(), bells.end()), bells.end());
  if (bells == m_ringing) return;
  m_ringing = bells;
  if (m_options.ringing) defer([f = m_options.ringing, bells = std::move(bells)] { f(bells); });
}

void Messenger::answer_rings(std::vector<std::string> addrs) {
  on_strand([this, addrs = std::move(addrs)] {
    const auto now = m_now();
    std::erase_if(m_ring_dials, [now](const auto& d) { return now - d.second >= RING_REDIAL_MS; });
    std::size_t dialled = 0;
    for (const auto& a : addrs) {
      if (dialled == MAX_RING_DIALS_PER_CALL || m_ring_dials.size() >= MAX_RING_DIALS_REMEMBERED) break;
      auto hp = base::parse_ip_port(a);  // what the DHT says is data: an IP literal and a port, or nothing
      if (!hp) continue;
      const auto address = hp->to_string();
      if (m_ring_dials.count(address) ||
          std::find(m_advertised.begin(), m_advertised.end(), address) != m_advertised.end())
        continue;
      // Already talking to whoever listens there (the ringer's channel port is what we dial).
      const bool connected = std::any_of(m_peers.begin(), m_peers.end(), [&](const auto& p) {
        return p.second.channel->remote_address() == address;
      });
      if (connected) continue;
      m_ring_dials[address] = now;
      ++dialled;
      dial_ringer(address);
    }
  });
}

void Messenger::dial_ringer(const std::string& address) {
  KITH_ASSERT_ON(m_strand);
  spdlog::info("doorbell: {} rang; dialling back", address);
  auto options = m_options.channel;
  options.handshake_timeout =
      std::max(options.handshake_timeout, std::chrono::milliseconds(RING_ANSWER_TIMEOUT));
  net::async_dial(
      m_io, m_client_ctx, address, std::nullopt, options,
      [this, post = poster(), address](Result<std::shared_ptr<net::Channel>> r) {
        post([this, address, r = std::move(r)]() mutable {
          if (!r) {
            spdlog::info("doorbell: dialling {} back failed: {}", address, r.error().message);
            return;
          }
          // Our own listener: the DHT saw our own address (a NAT that loops back, a lab on one host).
          if ((*r)->peer().device == m_device.public_key()) {
            (*r)->close("that is us");
            return;
          }
          on_channel(std::move(*r));  // served by who it is: contact, stranger or blocked
        });
      },
      net::DialOptions{.source_port = m_port});
}

void Messenger::answered(std::string bell, std::vector<std::string> addrs) {
  on_strand([this, bell = std::move(bell), addrs = std::move(addrs)] {
    const auto now = m_now();
    std::erase_if(m_answer_dials, [now](const auto& d) { return now - d.second >= ANSWER_REDIAL_MS; });
    for (const auto& c : m_book.list()) {
      if (c.bell != bell || peer_of_user(c.key)) continue;
      if (c.relation != contacts::Relation::accepted && c.relation != contacts::Relation::outgoing) continue;
      std::vector<std::string> targets;
      for (const auto& a : addrs) {
        auto hp = base::parse_ip_port(a);
        if (!hp || targets.size() == MAX_RING_DIALS_PER_CALL) continue;
        if (m_answer_dials.size() >= MAX_RING_DIALS_REMEMBERED) break;
        if (m_answer_dials.emplace(hp->to_string(), now).second) targets.push_back(hp->to_string());
      }
      if (!targets.empty()) punch(c.key, targets, /*tls_server=*/true);
    }
  });
}

}  // namespace kith::messaging
