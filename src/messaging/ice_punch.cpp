// Messenger: UDP hole punching with ICE over a relayed channel (docs/protocol/channel.md § UDP hole
// punching).
//
// Some routers let no TCP hole punch through (they drop or reset an unsolicited SYN even when it
// crosses one going out) but keep UDP mappings open as ICE needs. So when a channel still runs through
// a contact's relay (or a TURN server) ICE_DELAY after it came up — the TCP punch (punch.cpp) had its
// chance — the side that opened it gathers ICE candidates and offers them in an IcePunch; the other
// answers with its own, and both run ICE's connectivity checks (ice/ice_link.hpp, libnice).
// Server-reflexive candidates come from a STUN server we already talk to: the relaying contact's node,
// which answers STUN on its channel port (net/stun_responder.hpp), or the TURN server. On a working
// pair, TLS runs over libnice's pseudo-TCP just as over TCP (the offerer is the TLS client) and the
// channel that comes up (path "hole-punched-udp") replaces the relayed one (adopt). One attempt per
// relayed channel; a failed one has cost a few datagrams and the relayed channel stays.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <sstream>

#include "base/endpoint.hpp"
#include "identity/kith_id.hpp"
#include "messaging/messenger.hpp"

namespace kith::messaging {
namespace {

constexpr std::int64_t ICE_DELAY_MS = 5'000;
constexpr std::chrono::milliseconds ICE_TIMEOUT{20'000};

// Owns a descriptor until it is released: a stream that arrives after the messenger stopped, or for a
// peer that is gone, is closed rather than leaked.
struct OwnedFd {
  int fd = -1;
  explicit OwnedFd(int f) : fd(f) {}
  OwnedFd(const OwnedFd&) = delete;
  OwnedFd& operator=(const OwnedFd&) = delete;
  ~OwnedFd() {
    if (fd >= 0) ::close(fd);
  }
  int release() { return std::exchange(fd, -1); }
};

}  // namespace

std::pair<std::string, std::uint16_t> Messenger::stun_server_for(const Peer& peer) const {
  KITH_ASSERT_ON(m_strand);
  std::string address;
  if (peer.channel->path() == net::Path::relayed)
    address = peer.channel->remote_address();  // the relay's channel listener: it answers STUN there
  else if (peer.channel->path() == net::Path::turn && m_options.turn)
    address = base::HostPort{m_options.turn->host, m_options.turn->port}.to_string();
  auto hp = base::parse_ip_port(address);
  if (!hp) return {};  // a TURN server given by name: host candidates only (libnice wants an IP)
  return {hp->host, hp->port};
}

void Messenger::consider_ice(Peer& peer, std::int64_t now) {
  KITH_ASSERT_ON(m_strand);
  if (peer.ice_tried || !peer.hello || peer.channel->closed() || !peer.channel->relayed() ||
      peer.channel->incoming() || now - peer.since < ICE_DELAY_MS)
    return;
  if (m_book.relation(peer.cert.user) != contacts::Relation::accepted) return;
  peer.ice_tried = true;
  start_ice(peer, true, std::nullopt);
}

void Messenger::start_ice(Peer& peer, bool controlling, std::optional<ice::Candidates> theirs) {
  KITH_ASSERT_ON(m_strand);
  if (!m_ice) m_ice = std::make_unique<ice::Engine>();
  ice::Options o;
  o.controlling = controlling;
  std::tie(o.stun_host, o.stun_port) = stun_server_for(peer);
  o.timeout = ICE_TIMEOUT;
  auto link = m_ice->create(o);
  peer.ice = link;
  link->gather([this, post = poster(), device = peer.cert.device, link = link.get(), controlling,
                theirs = std::move(theirs)](Result<ice::Candidates> mine) mutable {
    // On the ICE thread: hand over. `link` only identifies the attempt (the peer owns it).
    post([this, device, link, controlling, theirs = std::move(theirs), mine = std::move(mine)]() mutable {
      on_ice_gathered(device, link, controlling, std::move(theirs), std::move(mine));
    });
  });
}

void Messenger::on_ice_gathered(const crypto::PublicKey& device, const ice::Link* link, bool controlling,
                                std::optional<ice::Candidates> theirs, Result<ice::Candidates> mine) {
  KITH_ASSERT_ON(m_strand);
  auto it = m_peers.find(device);
  if (it == m_peers.end() || it->second.ice.get() != link) return;  // the channel changed meanwhile
  Peer& peer = it->second;
  if (!mine) {
    spdlog::info("no UDP hole punch to {}: {}", identity::encode_id(peer.cert.user), mine.error().message);
    peer.ice.reset();
    return;
  }
  std::string summary;  // ours, so safe to log: e.g. "srflx 198.51.100.7:40123, host 10.0.0.2:40123"
  for (const auto& line : mine->lines) {
    std::istringstream words(line);
    std::string w[8];
    for (auto& x : w) words >> x;
    summary += (summary.empty() ? "" : ", ") + w[7] + " " + w[4] + ":" + w[5];
  }
  spdlog::info("{} a UDP hole punch to {} from {}", controlling ? "offering" : "answering",
               identity::encode_id(peer.cert.user), summary);
  wire::pb::Frame f;
  auto* m = f.mutable_ice_punch();
  m->set_ufrag(mine->ufrag);
  m->set_pwd(mine->pwd);
  for (const auto& line : mine->lines) m->add_candidates(line);
  m->set_answer(!controlling);
  send_frame(peer, std::move(f));
  if (controlling)
    peer.ice_awaits_answer = true;
  else if (theirs)
    connect_ice(peer, std::move(*theirs));
}

void Messenger::on_ice_punch(Peer& peer, const wire::pb::IcePunch& p) {
  KITH_ASSERT_ON(m_strand);
  if (!peer.channel->relayed()) return;  // already direct
  ice::Candidates theirs{p.ufrag(), p.pwd(), {p.candidates().begin(), p.candidates().end()}};
  if (auto why = ice::check_candidates(theirs); !why.empty())
    return spdlog::info("ignored a UDP hole punch from {}: it has {}", identity::encode_id(peer.cert.user),
                        why);
  if (!p.answer()) {
    // Offers come from the channel's opener, once per channel.
    if (peer.ice_tried || !peer.channel->incoming()) return;
    peer.ice_tried = true;
    start_ice(peer, false, std::move(theirs));
    return;
  }
  if (!peer.ice || !std::exchange(peer.ice_awaits_answer, false)) return;  // not ours, or answered before
  connect_ice(peer, std::move(theirs));
}

void Messenger::connect_ice(Peer& peer, ice::Candidates theirs) {
  KITH_ASSERT_ON(m_strand);
  const auto user = peer.cert.user;
  const bool tls_server = peer.channel->incoming();  // the answerer; the offerer speaks TLS first
  spdlog::info("trying a UDP hole punch (ICE) to {}", identity::encode_id(user));
  peer.ice->connect(std::move(theirs), [this, post = poster(), user, tls_server](Result<ice::Stream> r) {
    auto fd = std::make_shared<OwnedFd>(r ? r->fd : -1);
    post([this, user, tls_server, fd, r = std::move(r)]() mutable {
      if (!r)
        return spdlog::info("UDP hole punch to {} failed: {}", identity::encode_id(user), r.error().message);
      r->fd = fd->release();
      spdlog::info("UDP hole punch to {} worked: {} to {}", identity::encode_id(user), r->local, r->remote);
      secure_ice(user, tls_server, std::move(*r));
    });
  });
}

// TLS over the UDP path: the stream is a local socket joined to libnice's pseudo-TCP, so the channel
// handshake (and everything after it) runs as over any TCP connection.
void Messenger::secure_ice(const crypto::PublicKey& user, bool tls_server, ice::Stream stream) {
  KITH_ASSERT_ON(m_strand);
  boost::asio::ip::tcp::socket socket(m_io);
  boost::system::error_code ec;
  socket.assign(boost::asio::ip::tcp::v6(), stream.fd, ec);
  if (ec) {
    ::close(stream.fd);
    return spdlog::warn("UDP hole punch to {}: {}", identity::encode_id(user), ec.message());
  }
  net::async_secure(
      m_io, tls_server ? m_server_ctx : m_client_ctx, std::move(socket), user, m_options.channel, tls_server,
      net::Path::udp,
      [this, post = poster(), user](Result<std::shared_ptr<net::Channel>> r) {
        post([this, user, r = std::move(r)]() mutable {
          if (!r)
            return spdlog::info("UDP hole punch to {}: no channel: {}", identity::encode_id(user),
                                r.error().message);
          spdlog::info("a channel with {} runs over a UDP hole punch", identity::encode_id(user));
          on_dialled(user, std::move(*r));
        });
      },
      stream.remote);
}

}  // namespace kith::messaging
