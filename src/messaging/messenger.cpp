// Messenger: the strand, its lifecycle, channels and contact requests. Messages, groups and the views
// are in conversations.cpp, file offers in file_offers.cpp.
#include "messaging/messenger.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <limits>

#include "base/endpoint.hpp"
#include "crypto/tls.hpp"
#include "identity/invite.hpp"
#include "identity/kith_id.hpp"

namespace kith::messaging {
namespace {

constexpr int MAX_REQUESTS_PER_MINUTE = 20;
constexpr std::size_t MAX_PENDING_CHANNELS = 32;
constexpr auto RELAYED_REDIAL_DELAY = std::chrono::milliseconds(30'000);

// The device that opened a channel: ties between two channels of one device pair are broken the same
// way on both ends (the channel opened by the smaller device key survives).
crypto::PublicKey initiator(const net::Channel& c, const crypto::PublicKey& me) {
  return c.incoming() ? c.peer().device : me;
}

}  // namespace

Error stopping_error() {
  return Error{base::make_error_code(base::errc::unavailable), "the node is stopping"};
}

Messenger::Messenger(boost::asio::io_context& io, Options options, const crypto::SigningKey& user,
                     const crypto::SigningKey& device, store::ContactStore& contacts,
                     store::MessageStore& messages, EventSink sink, Clock now_ms)
    : m_io(io),
      m_strand(boost::asio::make_strand(io)),
      m_options(std::move(options)),
      m_user(user),
      m_device(device),
      m_cert(identity::certify_device(user, device.public_key())),
      m_user_id(identity::encode_id(user.public_key())),
      m_sink(std::move(sink)),
      m_now(std::move(now_ms)),
      m_contact_store(contacts),
      m_messages(messages),
      m_book(contacts, user.public_key()),
      m_timer(m_strand) {}

Messenger::~Messenger() {
  // No thread runs the io_context any more (see the header), so the state may be touched from here.
  shutdown();
  m_life.reset();
}

void Messenger::set_file_offers(store::FileOfferStore* store, OfferHandler on_offer, OfferAckHandler on_ack,
                                OfferProgressHandler on_progress) {
  m_offers = store;
  m_on_offer = std::move(on_offer);
  m_on_offer_ack = std::move(on_ack);
  m_on_offer_progress = std::move(on_progress);
}

// --- the strand -------------------------------------------------------------------------------------

void Messenger::Poster::operator()(std::function<void()> f) const {
  const auto alive = life.lock();
  if (!alive) return;  // the messenger is gone
  boost::asio::post(alive->strand, [self = self, life = life, f = std::move(f)] {
    if (!life.lock() || self->m_stopped) return;  // gone: `self` is not touched
    f();
    self->settle();
  });
}

void Messenger::defer(std::function<void()> call) { m_deferred.push_back(std::move(call)); }

void Messenger::emit(Event event) {
  if (m_sink) defer([this, event = std::move(event)] { m_sink(event); });
}

void Messenger::settle() {
  KITH_ASSERT_ON(m_strand);
  std::set<crypto::PublicKey> online;
  for (const auto& [k, p] : m_peers)
    if (p.hello) online.insert(p.cert.user);
  m_snap_contacts = static_cast<int>(m_book.count(contacts::Relation::accepted));
  m_snap_requests = static_cast<int>(m_book.count(contacts::Relation::incoming));
  m_snap_online = static_cast<int>(online.size());
  m_snap_refused = m_refused + (m_ready && m_listener ? m_listener->refused() : 0);
  m_snap_rejected = m_rejected_messages;
  {
    std::lock_guard lock(m_snap_mutex);
    m_snap_advertised = m_advertised;
    m_snap_nat =
        NatStatus{net::to_string(m_nat.type), m_nat.public_addresses, m_nat.public_ips, m_nat.observers};
    m_snap_relay = relay_status();
    m_snap_turn = turn_status();
  }
  // Events and callbacks last, with no reference into the state held: they may call back (a stop()
  // from a callback runs at once), and what they queue runs in this same loop, in order.
  while (!m_deferred.empty()) {
    auto calls = std::exchange(m_deferred, {});
    for (auto& call : calls) call();
  }
}

Status Messenger::start() {
  // Before the listener exists nothing else can touch the state, so this runs on the caller's thread.
  if (auto s = m_book.load(); !s) return s;
  const auto cert = identity::encode_device_cert(m_cert);
  auto client = crypto::make_channel_context(m_device, cert, crypto::TlsRole::client);
  if (!client) return tl::unexpected(client.error());
  auto server = crypto::make_channel_context(m_device, cert, crypto::TlsRole::server);
  if (!server) return tl::unexpected(server.error());
  m_client_ctx = *client;
  m_server_ctx = *server;
  auto listener = net::Listener::open(
      m_io, m_server_ctx, m_options.listen, m_options.channel,
      [this, post = poster()](std::shared_ptr<net::Channel> c) {
        // On the handshake's strand: only hand the channel over.
        post([this, c = std::move(c)] { on_channel(c); });
      },
      [this, post = poster()](net::RelayToken token, boost::asio::ip::tcp::socket socket) {
        post([this, token, s = std::make_shared<boost::asio::ip::tcp::socket>(std::move(socket))] {
          on_relay_socket(token, s);
        });
      });
  if (!listener) return tl::unexpected(listener.error());
  m_listener = std::move(*listener);
  m_port = m_listener->port();
  if (m_options.advertise) m_interface_addrs = m_options.advertise(m_port);
  m_advertised = m_interface_addrs;
  m_snap_advertised = m_advertised;
  spdlog::info("contact channels on port {} as {}", m_port, m_user_id);
  open_stun_responder();
  start_turn();
  // Channels accepted before this reaches the strand waited in m_early (they need m_advertised).
  on_strand([this] {
    m_ready = true;
    for (auto& c : std::exchange(m_early, {})) on_channel(std::move(c));
    tick();
  });
  return {};
}

// Contacts behind NATs learn their UDP mappings from us when they punch a UDP path through our relay
// (ice_punch.cpp): a STUN Binding server on the channel port's number, UDP. Not fatal when the port is
// taken; their punches then have host candidates only.
void Messenger::open_stun_responder() {
  auto where = base::parse_host_port(m_options.listen, base::PortRule::allow_zero);
  if (!where) return;
  where->port = m_port;
  m_stun = std::make_unique<net::StunResponder>(m_io);
  if (auto r = m_stun->open(where->to_string()); !r) {
    spdlog::warn("no STUN answers on UDP port {}: {}", m_port, r.error().message);
    m_stun.reset();
  }
}

void Messenger::stop() {
  if (m_strand.running_in_this_thread()) return shutdown();
  on_strand([this] { shutdown(); });
}

void Messenger::shutdown() {
  if (m_stopped) return;
  m_stopped = true;
  m_timer.cancel();
  if (m_listener) m_listener->close();
  if (m_stun) m_stun->close();
  if (m_turn) m_turn->stop();
  if (m_turn_data) m_turn_data->stop();
  for (auto& [k, p] : m_peers) p.channel->close("node stopping");
  for (auto& [k, c] : m_pending) c->close("node stopping");
  for (auto& c : m_early) c->close("node stopping");
  m_peers.clear();
  m_pending.clear();
  m_pending_hello.clear();
  m_early.clear();
  expire_relays(std::numeric_limits<std::int64_t>::max());  // closes halves still waiting
}

std::string Messenger::invite() const {
  identity::Invite inv;
  inv.key = m_user.public_key();
  inv.name = identity::valid_name(m_options.name) ? m_options.name : "";
  if (identity::valid_bell(m_options.bell)) inv.bell = m_options.bell;
  for (const auto& a : addresses())
    if (identity::valid_address_hint(a) && inv.addrs.size() < identity::MAX_ADDRS) inv.addrs.push_back(a);
  return identity::format_invite(inv);
}

void Messenger::status(base::Done<Result<MessengerStatus>> done) {
  answer(std::move(done), [this]() -> Result<MessengerStatus> { return status_now(); });
}

MessengerStatus Messenger::status_now() {
  KITH_ASSERT_ON(m_strand);
  settle();  // the counters as of now
  return status_snapshot();
}

std::vector<std::string> Messenger::addresses() const {
  std::lock_guard lock(m_snap_mutex);
  return m_snap_advertised;
}

MessengerStatus Messenger::status_snapshot() const {
  MessengerStatus s;
  {
    std::lock_guard lock(m_snap_mutex);
    s.nat = m_snap_nat;
    s.relay = m_snap_relay;
    s.turn = m_snap_turn;
    s.addresses = m_snap_advertised;
  }
  s.port = m_port;
  s.contacts = m_snap_contacts;
  s.online = m_snap_online;
  s.requests = m_snap_requests;
  auto outbox = m_messages.outbox_size();
  s.outbox = outbox ? *outbox : -1;
  s.refused_channels = m_snap_refused;
  s.rejected_messages = m_snap_rejected;
  return s;
}

void Messenger::accepted_contacts(base::Done<Result<std::vector<crypto::PublicKey>>> done) {
  answer(std::move(done), [this]() -> Result<std::vector<crypto::PublicKey>> {
    std::vector<crypto::PublicKey> out;
    for (const auto& c : m_book.list())
      if (c.relation == contacts::Relation::accepted) out.push_back(c.key);
    return out;
  });
}

// --- channels ---------------------------------------------------------------------------------------

// Hello and requests tell the peer where we see them ("observed"): a direct channel's remote address is
// their public mapping when a NAT is in between. A relayed channel's remote address is the relay's.
wire::pb::Frame Messenger::hello_frame(const net::Channel& channel) const {
  KITH_ASSERT_ON(m_strand);
  wire::pb::Frame f;
  auto* h = f.mutable_hello();
  h->set_name(m_options.name);
  for (const auto& a : m_advertised) h->add_addrs(a);
  if (channel.observes_peer()) h->set_observed(channel.remote_address());
  if (!m_sync_device.empty()) {
    h->set_sync_device(m_sync_device);
    h->set_sync_port(m_sync_port);
  }
  return f;
}

wire::pb::Frame Messenger::request_frame(const net::Channel& channel, const std::string& note) const {
  KITH_ASSERT_ON(m_strand);
  wire::pb::Frame f;
  auto* r = f.mutable_contact_request();
  r->set_name(m_options.name);
  r->set_text(note);
  for (const auto& a : m_advertised) r->add_addrs(a);
  if (channel.observes_peer()) r->set_observed(channel.remote_address());
  return f;
}

void Messenger::on_channel(std::shared_ptr<net::Channel> channel) {
  KITH_ASSERT_ON(m_strand);
  if (!m_ready) {
    m_early.push_back(std::move(channel));
    return;
  }
  const auto& peer = channel->peer();
  switch (m_book.relation(peer.user)) {
    case contacts::Relation::blocked:
      ++m_refused;
      spdlog::info("refused a channel from blocked {} at {}", identity::encode_id(peer.user),
                   channel->remote_address());
      channel->close("blocked");
      return;
    case contacts::Relation::accepted:
    case contacts::Relation::outgoing:
      adopt(std::move(channel));
      return;
    case contacts::Relation::incoming:
    case contacts::Relation::stranger:
      serve_request_only(std::move(channel));
      return;
  }
}

// A channel from someone who is not (yet) a contact: it may carry a ContactRequest (and a Hello),
// nothing else. Once the request is recorded the channel is held open until the user accepts (then
// it becomes an ordinary channel), declines or blocks; one that sends no request in time is closed.
void Messenger::serve_request_only(std::shared_ptr<net::Channel> channel) {
  KITH_ASSERT_ON(m_strand);
  auto timer = std::make_shared<boost::asio::steady_timer>(m_strand);
  timer->expires_after(m_options.request_only_timeout);
  std::weak_ptr<net::Channel> weak = channel;
  timer->async_wait([this, life = std::weak_ptr<Life>(m_life), weak](boost::system::error_code ec) {
    auto ch = weak.lock();
    if (ec || !life.lock() || m_stopped || !ch) return;
    if (auto held = m_pending.find(ch->peer().user); held != m_pending.end() && held->second == ch) return;
    // Accepted meanwhile (promote): an ordinary channel now.
    if (auto p = m_peers.find(ch->peer().device); p != m_peers.end() && p->second.channel == ch) return;
    ch->close("no contact request in time");
  });
  // The channel's handlers run on its strand and only post here.
  channel->start(
      [this, post = poster(), weak](wire::pb::Frame frame) {
        post([this, weak, frame = std::move(frame)]() mutable {
          auto ch = weak.lock();
          if (!ch) return;
          auto it = m_peers.find(ch->peer().device);
          if (it != m_peers.end() && it->second.channel == ch)
            return on_frame(ch, std::move(frame));  // promoted
          on_request_frame(ch, std::move(frame));
        });
      },
      [this, post = poster(), weak, timer](const std::string& why) {
        post([this, weak, why, timer] {
          timer->cancel();  // the timer belongs to this strand
          auto ch = weak.lock();
          if (!ch) return;
          auto it = m_pending.find(ch->peer().user);
          if (it != m_pending.end() && it->second == ch) {
            m_pending.erase(it);
            m_pending_hello.erase(ch->peer().user);
          }
          on_closed(ch, why);
        });
      });
}

void Messenger::on_request_frame(const std::shared_ptr<net::Channel>& ch, wire::pb::Frame frame) {
  KITH_ASSERT_ON(m_strand);
  if (ch->closed()) return;  // frames read before our close took effect: refused (and counted) once
  const auto who = identity::encode_id(ch->peer().user);
  if (frame.has_hello()) {  // a requester says hello too: kept for when the user accepts
    if (m_pending_hello.size() < MAX_PENDING_CHANNELS * 2) m_pending_hello[ch->peer().user] = frame.hello();
    return;
  }
  if (!frame.has_contact_request()) {
    ++m_refused;
    spdlog::warn("refused {} at {}: not a contact (sent data before being accepted)", who,
                 ch->remote_address());
    ch->close("not a contact");
    return;
  }
  const auto now = m_now();
  if (now - m_request_window_start > 60'000) {
    m_request_window_start = now;
    m_requests_in_window = 0;
  }
  if (++m_requests_in_window > MAX_REQUESTS_PER_MINUTE) {
    ++m_refused;
    spdlog::warn("refused a contact request from {}: more than {} requests a minute", who,
                 MAX_REQUESTS_PER_MINUTE);
    ch->close("too many requests");
    return;
  }
  const auto& r = frame.contact_request();
  observe(*ch, r.observed());
  std::vector<std::string> addrs(r.addrs().begin(), r.addrs().end());
  const bool known = m_book.relation(ch->peer().user) == contacts::Relation::incoming;
  auto rel = m_book.record_request(ch->peer().user, r.name(), r.text(), addrs, now / 1000);
  if (!rel || *rel != contacts::Relation::incoming) {
    if (!rel) spdlog::warn("contact request from {} not kept: {}", who, rel.error().message);
    ch->close("request not kept");
    return;
  }
  if (!known) {
    spdlog::info("contact request from {} ({})", who, r.name());
    if (auto* c = m_book.find(ch->peer().user)) emit(ContactRequested{contact_view(*c)});
  }
  auto& held = m_pending[ch->peer().user];
  if (held && held != ch) held->close("replaced by a newer channel");
  held = ch;
  if (m_pending.size() > MAX_PENDING_CHANNELS) {  // the oldest request gives way (it stays recorded)
    for (auto it = m_pending.begin(); it != m_pending.end(); ++it)
      if (it->second != ch) {
        it->second->close("too many pending requests held open");
        m_pending.erase(it);
        break;
      }
  }
}

void Messenger::promote(const crypto::PublicKey& user) {
  KITH_ASSERT_ON(m_strand);
  auto it = m_pending.find(user);
  if (it == m_pending.end()) return;
  auto ch = it->second;
  m_pending.erase(it);
  if (ch->closed()) return;
  const auto device = ch->peer().device;
  if (auto p = m_peers.find(device); p != m_peers.end() && !p->second.channel->closed()) return;
  Peer& peer = m_peers[device];
  peer = Peer{};
  peer.channel = ch;
  peer.cert = ch->peer();
  wire::pb::Frame yes;
  yes.mutable_contact_response()->set_accepted(true);
  yes.mutable_contact_response()->set_name(m_options.name);
  ch->send(std::move(yes));
  ch->send(hello_frame(*ch));
  wire::pb::Hello theirs;
  if (auto h = m_pending_hello.find(user); h != m_pending_hello.end()) {
    theirs = h->second;
    m_pending_hello.erase(h);
  }
  on_hello(peer, theirs);
}

void Messenger::adopt(std::shared_ptr<net::Channel> channel) {
  KITH_ASSERT_ON(m_strand);
  const auto device = channel->peer().device;
  auto it = m_peers.find(device);
  if (it != m_peers.end() && !it->second.channel->closed()) {
    // A direct (or punched) path wins over a relayed one; otherwise both ends keep the same channel.
    const auto& old = *it->second.channel;
    if (old.relayed() != channel->relayed()) {
      if (channel->relayed()) {
        channel->close("duplicate channel (a direct one is up)");
        return;
      }
      spdlog::info("a direct channel with {} replaces the relayed one",
                   identity::encode_id(channel->peer().user));
      it->second.channel->close("replaced by a direct channel");
    } else {
      const auto& me = m_device.public_key();
      const auto old_init = initiator(old, me), new_init = initiator(*channel, me);
      if (old_init == new_init || old_init < new_init) {
        channel->close("duplicate channel");
        return;
      }
      it->second.channel->close("duplicate channel");
    }
  }
  Peer& peer = m_peers[device];
  peer = Peer{};
  peer.channel = channel;
  peer.cert = channel->peer();
  peer.since = m_now();
  std::weak_ptr<net::Channel> weak = channel;
  // The channel's handlers run on its strand and only post here.
  channel->start(
      [this, post = poster(), weak](wire::pb::Frame frame) {
        post([this, weak, frame = std::move(frame)]() mutable {
          if (auto ch = weak.lock()) on_frame(ch, std::move(frame));
        });
      },
      [this, post = poster(), weak](const std::string& why) {
        post([this, weak, why] {
          if (auto ch = weak.lock()) on_closed(ch, why);
        });
      });
  if (m_book.relation(peer.cert.user) == contacts::Relation::outgoing) {
    const auto* c = m_book.find(peer.cert.user);
    channel->send(request_frame(*channel, c ? c->note : ""));
    m_reach[peer.cert.user].requested_at = m_now();
  }
  channel->send(hello_frame(*channel));
}

Messenger::Peer* Messenger::peer_of_user(const crypto::PublicKey& user) {
  KITH_ASSERT_ON(m_strand);
  for (auto& [k, p] : m_peers)
    if (p.cert.user == user && p.hello && !p.channel->closed()) return &p;
  return nullptr;
}

void Messenger::on_closed(const std::shared_ptr<net::Channel>& channel, const std::string& why) {
  KITH_ASSERT_ON(m_strand);
  auto it = m_peers.find(channel->peer().device);
  if (it == m_peers.end() || it->second.channel != channel) return;  // a replaced duplicate
  const bool was_online = it->second.hello;
  const auto user = it->second.cert.user;
  m_peers.erase(it);
  spdlog::info("channel with {} closed: {}", identity::encode_id(user), why);
  if (was_online && !peer_of_user(user)) {
    if (auto s = m_book.seen(user, m_now() / 1000); !s)
      spdlog::warn("cannot record when {} was last seen: {}", identity::encode_id(user), s.error().message);
    if (auto* c = m_book.find(user)) emit(ContactOffline{contact_view(*c)});
  }
  auto& reach = m_reach[user];
  reach.next_attempt = m_now() + m_options.backoff_min.count();
}

void Messenger::on_frame(const std::shared_ptr<net::Channel>& channel, wire::pb::Frame frame) {
  KITH_ASSERT_ON(m_strand);
  auto it = m_peers.find(channel->peer().device);
  if (it == m_peers.end() || it->second.channel != channel) return;
  Peer& peer = it->second;
  const auto relation = m_book.relation(peer.cert.user);
  if (relation == contacts::Relation::blocked || relation == contacts::Relation::stranger) {
    channel->close("no longer a contact");
    return;
  }
  switch (frame.body_case()) {
    case wire::pb::Frame::kHello:
      on_hello(peer, frame.hello());
      break;
    case wire::pb::Frame::kContactRequest: {
      // They ask while we consider them a contact (or while we ask them): answer yes.
      if (relation == contacts::Relation::outgoing)
        if (auto r =
                m_book.record_request(peer.cert.user, frame.contact_request().name(), "", {}, m_now() / 1000);
            !r)
          spdlog::warn("cannot record {} as a contact: {}", identity::encode_id(peer.cert.user),
                       r.error().message);
      wire::pb::Frame yes;
      yes.mutable_contact_response()->set_accepted(true);
      yes.mutable_contact_response()->set_name(m_options.name);
      send_frame(peer, std::move(yes));
      if (relation == contacts::Relation::outgoing) {
        if (auto* c = m_book.find(peer.cert.user)) emit(ContactAccepted{contact_view(*c)});
        if (peer.hello) flush(peer);
      }
      break;
    }
    case wire::pb::Frame::kContactResponse:
      if (frame.contact_response().accepted() && relation == contacts::Relation::outgoing) {
        if (auto r = m_book.mark_accepted(peer.cert.user); !r)
          spdlog::warn("cannot record {} as a contact: {}", identity::encode_id(peer.cert.user),
                       r.error().message);
        spdlog::info("{} accepted our contact request", identity::encode_id(peer.cert.user));
        if (auto* c = m_book.find(peer.cert.user)) emit(ContactAccepted{contact_view(*c)});
        if (peer.hello) flush(peer);
      }
      break;
    case wire::pb::Frame::kMessage:
      if (relation == contacts::Relation::accepted)
        on_message(peer, frame.message());
      else
        channel->close("messages before acceptance");
      break;
    case wire::pb::Frame::kReceipt:
      on_receipt(peer, frame.receipt());
      break;
    case wire::pb::Frame::kFileOffer:
      if (relation == contacts::Relation::accepted)
        on_file_offer(peer, frame.file_offer());
      else
        channel->close("a file offer before acceptance");
      break;
    case wire::pb::Frame::kFileOfferAck:
      on_file_offer_ack(peer, frame.file_offer_ack());
      break;
    case wire::pb::Frame::kRelayRequest:
      on_relay_request(peer, frame.relay_request());
      break;
    case wire::pb::Frame::kRelayReady:
      on_relay_ready(peer, frame.relay_ready());
      break;
    case wire::pb::Frame::kRelayCall:
      on_relay_call(peer, frame.relay_call());
      break;
    case wire::pb::Frame::kRelayRefused:
      on_relay_refused(peer, frame.relay_refused());
      break;
    case wire::pb::Frame::kFileOfferProgress:
      on_file_offer_progress(peer, frame.file_offer_progress());
      break;
    case wire::pb::Frame::kPunch:
      if (relation == contacts::Relation::accepted) on_punch(peer, frame.punch());
      break;
    case wire::pb::Frame::kDataCircuit:
      if (relation == contacts::Relation::accepted) on_direct_data(peer, frame.data_circuit());
      break;
    case wire::pb::Frame::kIcePunch:
      if (relation == contacts::Relation::accepted) on_ice_punch(peer, frame.ice_punch());
      break;
    case wire::pb::Frame::kCallSignal:
      if (relation == contacts::Relation::accepted) on_call_signal(peer, frame.call_signal());
      break;
    default:
      break;
  }
}

void Messenger::on_hello(Peer& peer, const wire::pb::Hello& hello) {
  KITH_ASSERT_ON(m_strand);
  const bool was_online = peer_of_user(peer.cert.user) != nullptr;
  peer.hello = true;
  std::vector<std::string> addrs;
  for (const auto& a : hello.addrs())
    if (identity::valid_address_hint(a) && addrs.size() < identity::MAX_ADDRS) addrs.push_back(a);
  if (auto s = m_book.add_addrs(peer.cert.user, addrs); !s)
    spdlog::debug("addresses of {} not kept: {}", identity::encode_id(peer.cert.user), s.error().message);
  if (auto s = m_book.seen(peer.cert.user, m_now() / 1000); !s)
    spdlog::warn("cannot record when {} was last seen: {}", identity::encode_id(peer.cert.user),
                 s.error().message);
  observe(*peer.channel, hello.observed());
  auto& reach = m_reach[peer.cert.user];
  reach.backoff = std::chrono::milliseconds(0);
  reach.failed_rounds = 0;
  reach.relay_backoff = std::chrono::milliseconds(0);
  // Online through a relay: direct dials wait until a hole punch had its chance (its dials use the same
  // ports and addresses, and would collide with ours).
  if (peer.channel->relayed()) reach.next_attempt = m_now() + RELAYED_REDIAL_DELAY.count();
  if (!was_online)
    if (auto* c = m_book.find(peer.cert.user)) emit(ContactOnline{contact_view(*c)});
  if (m_book.relation(peer.cert.user) == contacts::Relation::accepted) {
    flush(peer);
    offer_punch(peer);
    learn_sync_device(peer, hello);
  }
}

void Messenger::send_frame(Peer& peer, wire::pb::Frame frame) { peer.channel->send(std::move(frame)); }

void Messenger::tick() {
  KITH_ASSERT_ON(m_strand);
  if (m_stopped) return;
  const auto now = m_now();
  expire_relays(now);
  for (const auto& c : m_book.list()) {
    if (c.relation != contacts::Relation::accepted && c.relation != contacts::Relation::outgoing) continue;
    // Online through a relay: keep trying their addresses now and then (backoff up to a minute); a
    // direct channel that comes up replaces the relayed one (adopt).
    if (auto* online = peer_of_user(c.key); online && !online->channel->relayed()) continue;
    auto& reach = m_reach[c.key];
    if (c.relation == contacts::Relation::outgoing && reach.requested_at &&
        now - reach.requested_at < m_options.request_retry.count())
      continue;
    if (!peer_of_user(c.key)) consider_relays(c, reach, now);
    if (reach.dialing || now < reach.next_attempt) continue;
    auto cands = candidates(c);
    if (!peer_of_user(c.key)) add_turn_candidates(cands);  // online through TURN or a relay: no better
    if (cands.empty()) continue;
    dial(c.key, std::move(cands));
  }
  for (auto& [k, p] : m_peers) consider_ice(p, now);
  update_turn_permits();
  update_ringing();
  m_timer.expires_after(m_options.tick);
  m_timer.async_wait([this, life = std::weak_ptr<Life>(m_life)](boost::system::error_code ec) {
    if (ec || !life.lock() || m_stopped) return;
    tick();
    settle();
  });
}

std::vector<std::string> Messenger::candidates(const contacts::Contact& c) const {
  KITH_ASSERT_ON(m_strand);
  std::vector<std::string> out;
  auto add = [&](const std::string& a) {
    if (std::find(out.begin(), out.end(), a) == out.end()) out.push_back(a);
  };
  if (auto it = m_reach.find(c.key); it != m_reach.end()) {
    std::vector<std::pair<std::pair<Via, std::int64_t>, std::string>> seen;
    for (const auto& [addr, how] : it->second.addrs) seen.push_back({{how.first, -how.second}, addr});
    std::sort(seen.begin(), seen.end());  // LAN first, then DHT; newest first within each
    for (const auto& s : seen) add(s.second);
  }
  for (const auto& a : c.addrs) add(a);
  return out;
}

void Messenger::dial(const crypto::PublicKey& user, std::vector<std::string> cands) {
  KITH_ASSERT_ON(m_strand);
  m_reach[user].dialing = true;
  dial_next(user, std::make_shared<std::vector<std::string>>(std::move(cands)), 0);
}

// Tries the candidates one after the other; each attempt's outcome comes back to the strand.
void Messenger::dial_next(const crypto::PublicKey& user, std::shared_ptr<std::vector<std::string>> list,
                          std::size_t i) {
  KITH_ASSERT_ON(m_strand);
  if (i == list->size()) {
    auto& reach = m_reach[user];
    reach.dialing = false;
    ++reach.failed_rounds;
    reach.backoff = std::clamp(reach.backoff * 2, m_options.backoff_min, m_options.backoff_max);
    reach.next_attempt = m_now() + reach.backoff.count();
    return;
  }
  auto outcome = [this, post = poster(), user, list, i](Result<std::shared_ptr<net::Channel>> r) {
    // On the dial's strand: only hand the outcome over.
    post([this, user, list, i, r = std::move(r)]() mutable {
      if (!r) {
        spdlog::debug("dial {} at {}: {}", identity::encode_id(user), (*list)[i], r.error().message);
        return dial_next(user, list, i + 1);
      }
      m_reach[user].dialing = false;
      on_dialled(user, std::move(*r));
    });
  };
  const auto& candidate = (*list)[i];
  if (is_turn_candidate(candidate))
    return dial_via_turn(user, candidate.substr(candidate.find(':') + 1), std::move(outcome));
  net::async_dial(m_io, m_client_ctx, candidate, user, m_options.channel, std::move(outcome),
                  net::DialOptions{.source_port = m_port});
}

// A channel we opened (directly or through a relay) to `user`.
void Messenger::on_dialled(const crypto::PublicKey& user, std::shared_ptr<net::Channel> channel) {
  KITH_ASSERT_ON(m_strand);
  const auto rel = m_book.relation(user);
  if (rel != contacts::Relation::accepted && rel != contacts::Relation::outgoing)
    channel->close("no longer a contact");
  else
    adopt(std::move(channel));
}

void Messenger::add_sighting(const identity::DeviceCert& cert, const std::string& address, Via via) {
  add_user_addresses(cert.user, {address}, via);
}

void Messenger::add_user_addresses(const crypto::PublicKey& user, std::vector<std::string> addrs, Via via) {
  if (user == m_user.public_key()) return;
  on_strand([this, user, addrs = std::move(addrs), via] { learn_addresses(user, addrs, via); });
}

void Messenger::learn_addresses(const crypto::PublicKey& user, const std::vector<std::string>& addrs,
                                Via via) {
  KITH_ASSERT_ON(m_strand);
  auto& reach = m_reach[user];
  bool fresh = false;
  const auto now = m_now();
  for (const auto& a : addrs) {
    auto [it, inserted] = reach.addrs.insert({a, {via, now}});
    if (!inserted) it->second = {via, now};
    fresh |= inserted;
  }
  if (fresh && !peer_of_user(user)) {  // a new way to reach them: try it at once
    reach.next_attempt = 0;
    reach.backoff = std::chrono::milliseconds(0);
    reach.failed_rounds = 0;
    if (m_book.relation(user) == contacts::Relation::outgoing) reach.requested_at = 0;
  }
}

}  // namespace kith::messaging
