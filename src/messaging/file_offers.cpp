// Messenger: file offers between accepted contacts (`kith send`). The messenger only carries them:
// the outbox rows live in store::FileOfferStore, the SSL torrent and the download are app's.
#include <spdlog/spdlog.h>

#include "base/hex.hpp"
#include "identity/kith_id.hpp"
#include "messaging/messenger.hpp"

namespace kith::messaging {
namespace {

constexpr std::string_view SENT_PREFIX = "offer:";  // in Peer::sent, apart from message ids

}  // namespace

void Messenger::set_file_offers(store::FileOfferStore* store, OfferHandler on_offer, OfferAckHandler on_ack) {
  std::lock_guard lock(m_mutex);
  m_offers = store;
  m_on_offer = std::move(on_offer);
  m_on_offer_ack = std::move(on_ack);
}

Result<std::string> Messenger::accepted_contact(const std::string& who) {
  std::lock_guard lock(m_mutex);
  auto c = m_book.resolve(who);
  if (!c) return tl::unexpected(c.error());
  if (c->relation != contacts::Relation::accepted)
    return fail(base::make_error_code(base::errc::invalid_argument),
                c->name + " is not an accepted contact (" + contacts::to_string(c->relation) +
                    "); files go to accepted contacts only");
  return c->id;
}

void Messenger::send_offer(Peer& peer, const store::FileOfferRecord& offer) {
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

void Messenger::deliver_offer(const std::string& contact_id, const std::string& offer_id) {
  std::lock_guard lock(m_mutex);
  auto key = identity::decode_id(contact_id);
  if (!key || !m_offers) return;
  Peer* peer = peer_of_user(*key);
  if (!peer) return;
  auto offer = m_offers->get(offer_id);
  if (offer && *offer && (*offer)->state == "pending") send_offer(*peer, **offer);
}

void Messenger::flush_offers(Peer& peer) {
  if (!m_offers) return;
  auto pending = m_offers->pending(identity::encode_id(peer.cert.user));
  if (!pending) {
    spdlog::error("reading the file offer outbox: {}", pending.error().message);
    return;
  }
  for (const auto& o : *pending) send_offer(peer, o);
}

void Messenger::on_file_offer(Peer& peer, const wire::pb::FileOffer& offer) {
  const auto from = identity::encode_id(peer.cert.user);
  wire::pb::Frame ack;
  auto* a = ack.mutable_file_offer_ack();
  a->set_id(offer.id());
  Status outcome = m_on_offer
                       ? m_on_offer(from, offer)
                       : fail(base::make_error_code(base::errc::unavailable), "this node takes no files");
  a->set_accepted(outcome.has_value());
  if (!outcome) {
    a->set_reason(outcome.error().message);
    spdlog::warn("refused a file offer from {}: {}", from, outcome.error().message);
  }
  send_frame(peer, std::move(ack));
}

void Messenger::on_file_offer_ack(Peer& peer, const wire::pb::FileOfferAck& ack) {
  if (!m_offers) return;
  const auto id = base::to_hex(ack.id());
  auto offer = m_offers->get(id);
  // Only the recipient of an offer may answer it.
  if (!offer || !*offer || (*offer)->direction != "out" ||
      (*offer)->contact != identity::encode_id(peer.cert.user))
    return;
  auto changed = m_offers->set_state(id, ack.accepted() ? "delivered" : "refused", ack.reason());
  if (changed && *changed && m_on_offer_ack) m_on_offer_ack(id, ack.accepted(), ack.reason());
}

}  // namespace kith::messaging
