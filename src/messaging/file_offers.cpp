// Messenger: file offers between accepted contacts (`kith send`). The messenger only carries them:
// the outbox rows live in store::FileOfferStore, the SSL torrent and the download are app's. The app
// answers an incoming offer when it likes (adding a download takes a while): the answer comes back to
// the strand and goes out as the FileOfferAck then.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <set>

#include "base/hex.hpp"
#include "identity/invite.hpp"
#include "identity/kith_id.hpp"
#include "messaging/messenger.hpp"

namespace kith::messaging {
namespace {

constexpr std::string_view SENT_PREFIX = "offer:";  // in Peer::sent, apart from message ids

}  // namespace

void Messenger::accepted_contact(std::string who, base::Done<Result<std::string>> done) {
  answer(std::move(done), [this, who = std::move(who)] { return do_accepted_contact(who); });
}

Result<std::string> Messenger::do_accepted_contact(const std::string& who) const {
  KITH_ASSERT_ON(m_strand);
  auto c = m_book.resolve(who);
  if (!c) return tl::unexpected(c.error());
  if (c->relation != contacts::Relation::accepted)
    return fail(base::make_error_code(base::errc::invalid_argument),
                c->name + " is not an accepted contact (" + contacts::to_string(c->relation) +
                    "); files go to accepted contacts only");
  return c->id;
}

void Messenger::send_offer(Peer& peer, const store::FileOfferRecord& offer) {
  KITH_ASSERT_ON(m_strand);
  const auto key = std::string(SENT_PREFIX) + offer.id;
  if (peer.sent.count(key)) return;
  wire::pb::Frame f;
  if (!f.mutable_file_offer()->ParseFromString(offer.offer)) {
    spdlog::error("stored file offer {} is unreadable; not sent", offer.id);
    return;
  }
  peer.sent.insert(key);
  send_frame(peer, std::move(f));
}

void Messenger::deliver_offer(std::string contact_id, std::string offer_id) {
  on_strand([this, contact_id = std::move(contact_id), offer_id = std::move(offer_id)] {
    auto key = identity::decode_id(contact_id);
    if (!key || !m_offers) return;
    Peer* peer = peer_of_user(*key);
    if (!peer) return;
    auto offer = m_offers->get(offer_id);
    if (offer && *offer && (*offer)->state == "pending") send_offer(*peer, **offer);
  });
}

void Messenger::flush_offers(Peer& peer) {
  KITH_ASSERT_ON(m_strand);
  if (!m_offers) return;
  auto pending = m_offers->pending(identity::encode_id(peer.cert.user));
  if (!pending) {
    spdlog::error("reading the file offer outbox: {}", pending.error().message);
    return;
  }
  for (const auto& o : *pending) send_offer(peer, o);
  // Senders learn how offers they sent us ended, even if they were away when it happened.
  auto finished = m_offers->finished_in(identity::encode_id(peer.cert.user), 50);
  if (!finished) return spdlog::error("reading received file offers: {}", finished.error().message);
  for (const auto& o : *finished)
    send_offer_progress(peer, o.id, o.state, static_cast<std::uint64_t>(o.size),
                        static_cast<std::uint64_t>(o.size));
}

void Messenger::report_offer_progress(std::string contact_id, std::string offer_id, std::string state,
                                      std::uint64_t done, std::uint64_t total) {
  on_strand([this, contact_id = std::move(contact_id), offer_id = std::move(offer_id),
             state = std::move(state), done, total] {
    auto key = identity::decode_id(contact_id);
    if (!key) return;
    if (Peer* peer = peer_of_user(*key)) send_offer_progress(*peer, offer_id, state, done, total);
  });
}

void Messenger::send_offer_progress(Peer& peer, const std::string& offer_id, const std::string& state,
                                    std::uint64_t done, std::uint64_t total) {
  KITH_ASSERT_ON(m_strand);
  auto raw = base::from_hex(offer_id);
  if (!raw) return;
  wire::pb::Frame f;
  auto* p = f.mutable_file_offer_progress();
  p->set_id(*raw);
  p->set_state(state);
  p->set_done(done);
  p->set_total(total);
  send_frame(peer, std::move(f));
}

void Messenger::on_file_offer_progress(Peer& peer, const wire::pb::FileOfferProgress& progress) {
  KITH_ASSERT_ON(m_strand);
  if (!m_offers) return;
  static const std::set<std::string> states = {"transferring", "scanning", "delivered", "quarantined"};
  if (!states.count(progress.state())) return;
  const auto id = base::to_hex(progress.id());
  auto offer = m_offers->get(id);
  // Only the recipient of an offer may tell its progress; a final state is final.
  if (!offer || !*offer || (*offer)->direction != "out" ||
      (*offer)->contact != identity::encode_id(peer.cert.user))
    return;
  const auto& now = (*offer)->state;
  if (now == "delivered" || now == "quarantined" || now == "refused") return;
  const auto done = static_cast<std::int64_t>(std::min<std::uint64_t>(progress.done(), (*offer)->size));
  auto changed = m_offers->set_progress(id, progress.state(), done);
  if (!changed)
    return spdlog::error("cannot record the progress of file offer {}: {}", id, changed.error().message);
  if (*changed && m_on_offer_progress)
    defer([this, id, state = progress.state(), done] { m_on_offer_progress(id, state, done); });
}

void Messenger::on_file_offer(Peer& peer, const wire::pb::FileOffer& offer) {
  KITH_ASSERT_ON(m_strand);
  const auto user = peer.cert.user;
  const auto from = identity::encode_id(user);
  if (!m_on_offer)
    return send_offer_ack(user, offer.id(),
                          fail(base::make_error_code(base::errc::unavailable), "this node takes no files"));
  const auto in_flight = from + "/" + base::to_hex(offer.id());
  // Offered again (a new channel) while the app still works on it: its answer acknowledges both.
  if (!m_offers_in_flight.insert(in_flight).second) return;
  // The reply may come from any thread, and late: it posts back here. Once only (a second call is
  // ignored); it does nothing once the messenger is gone.
  auto once = std::make_shared<std::atomic<bool>>(false);
  base::Done<OfferReply> reply = [this, post = poster(), once, user, in_flight,
                                  raw_id = offer.id()](OfferReply outcome) {
    if (once->exchange(true)) return;
    post([this, user, in_flight, raw_id, outcome = std::move(outcome)] {
      m_offers_in_flight.erase(in_flight);
      send_offer_ack(user, raw_id, outcome);
    });
  };
  // Called after this piece of work, with nothing of the state referenced.
  defer(
      [this, from, offer, reply = std::move(reply)]() mutable { m_on_offer(from, offer, std::move(reply)); });
}

// Acknowledges an offer on a channel with `user` if one is up; otherwise they offer it again on their
// next channel and get the same answer then (the app remembers offers it took).
void Messenger::send_offer_ack(const crypto::PublicKey& user, const std::string& raw_id,
                               const OfferReply& outcome) {
  KITH_ASSERT_ON(m_strand);
  const auto from = identity::encode_id(user);
  if (!outcome) spdlog::warn("refused a file offer from {}: {}", from, outcome.error().message);
  Peer* peer = peer_of_user(user);
  if (!peer) {
    spdlog::info("file offer from {} answered while they are offline; they will offer it again", from);
    return;
  }
  wire::pb::Frame ack;
  auto* a = ack.mutable_file_offer_ack();
  a->set_id(raw_id);
  a->set_accepted(outcome.has_value());
  if (!outcome) a->set_reason(outcome.error().message);
  if (outcome)
    for (const auto& p : *outcome) a->add_peers(p);
  send_frame(*peer, std::move(ack));
}

void Messenger::on_file_offer_ack(Peer& peer, const wire::pb::FileOfferAck& ack) {
  KITH_ASSERT_ON(m_strand);
  if (!m_offers) return;
  const auto id = base::to_hex(ack.id());
  auto offer = m_offers->get(id);
  // Only the recipient of an offer may answer it.
  if (!offer || !*offer || (*offer)->direction != "out" ||
      (*offer)->contact != identity::encode_id(peer.cert.user))
    return;
  // Acknowledged is not delivered: that waits for the recipient's FileOfferProgress.
  if ((*offer)->state != "pending") return;
  auto changed = m_offers->set_state(id, ack.accepted() ? "offered" : "refused", ack.reason());
  if (!changed) spdlog::error("cannot record the answer to file offer {}: {}", id, changed.error().message);
  std::vector<std::string> peers;
  for (const auto& p : ack.peers())
    if (identity::valid_address_hint(p) && peers.size() < 16) peers.push_back(p);
  if (changed && *changed && m_on_offer_ack)
    defer([this, id, accepted = ack.accepted(), reason = ack.reason(), peers] {
      m_on_offer_ack(id, accepted, reason, peers);
    });
}

}  // namespace kith::messaging
