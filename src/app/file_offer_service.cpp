#include "app/file_offer_service.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <optional>

#include "app/errors.hpp"
#include "base/clock.hpp"
#include "base/hex.hpp"
#include "crypto/random.hpp"
#include "crypto/transfer_certs.hpp"
#include "swarm/peer_hints.hpp"
#include "swarm/source.hpp"

namespace kith::app {
namespace {

// A FileOffer travels in one channel frame (wire::MAX_FRAME, 64 KiB) with two certificates and a key
// (~2 KiB): the .torrent gets the rest, with margin.
constexpr std::size_t MAX_OFFER_TORRENT = 56 * 1024;
// v1 piece hashes are 20 bytes: 1024 pieces keep them at 20 KiB whatever the size (pieces grow instead).
constexpr int MAX_PIECES = 1024;
constexpr int MAX_OFFER_PEERS = 16;

Error invalid(const std::string& why) {
  return Error{base::make_error_code(base::errc::invalid_argument), why};
}

}  // namespace

void FileOfferService::emit(Event e) const {
  if (m_deps.sink) m_deps.sink(e);
}

void FileOfferService::send(std::string who, std::string path, base::Done<Result<Transfer>> done) {
  if (!m_deps.accepted_contact)
    return done(
        fail(base::make_error_code(base::errc::unavailable),
             "contacts and messages run in the daemon: start it with `kith daemon` (then run this again)"));
  m_deps.accepted_contact(
      who, [this, path = std::move(path), done = std::move(done)](Result<std::string> contact) mutable {
        if (!contact) return done(tl::unexpected(contact.error()));
        if (m_deps.swarm.ssl_listen_port() == 0)
          return done(
              fail(base::make_error_code(base::errc::unavailable),
                   "this node has no SSL listener (setting bt.ssl_listen is empty or its port is taken), so "
                   "nobody could fetch a file from it"));
        auto certs = crypto::make_transfer_certs();
        if (!certs) return done(tl::unexpected(certs.error()));
        ShareRequest request{.path = path,
                             .format = swarm::TorrentFormat::v1,
                             .root_cert = certs->root_cert,
                             .ssl_cert = certs->sender_cert,
                             .ssl_key = certs->sender_key,
                             .max_pieces = MAX_PIECES};
        request.on_hashed = [this, contact = *contact, path, certs = *certs](Result<Transfer> shared) {
          if (!shared) return;  // the hashing job reported it (transfer.error)
          offer(contact, path, certs, *shared);
        };
        m_deps.transfers.share(std::move(request), std::move(done));
      });
}

void FileOfferService::offer(const std::string& contact, const std::string& path,
                             const crypto::TransferCerts& certs, const Transfer& shared) {
  const auto transfer_id = shared.status.id;
  auto fail_offer = [this, transfer_id](const std::string& why) {
    spdlog::error("offer of {}: {}", transfer_id, why);
    emit(event::TransferError{transfer_id, why, false, false});
    m_deps.transfers.remove(transfer_id, false, [](Status) {});
  };
  auto torrent = m_deps.swarm.torrent_file(transfer_id);
  if (!torrent) return fail_offer(torrent.error().message);
  if (torrent->size() > MAX_OFFER_TORRENT)
    return fail_offer(path + " has too many files to send in one offer (its file list takes " +
                      std::to_string(torrent->size() / 1024) + " KiB, at most " +
                      std::to_string(MAX_OFFER_TORRENT / 1024) + " KiB); send it as an archive");
  const auto peers = ssl_peers();
  wire::pb::FileOffer offer;
  offer.set_id(crypto::random_bytes(16));
  offer.set_name(shared.status.name.empty() ? shared.record.name : shared.status.name);
  offer.set_torrent(*torrent);
  for (const auto& p : peers) offer.add_peers(p);
  offer.set_cert_pem(certs.recipient_cert);
  offer.set_key_pem(certs.recipient_key);
  offer.set_size(static_cast<std::uint64_t>(shared.status.total_size));
  store::FileOfferRecord rec{.id = base::to_hex(offer.id()),
                             .direction = "out",
                             .contact = contact,
                             .transfer_id = transfer_id,
                             .name = offer.name(),
                             .size = static_cast<std::int64_t>(offer.size()),
                             .cert = certs.sender_cert,  // ours, needed again at every restore
                             .key = certs.sender_key,
                             .peers = nlohmann::json(peers).dump(),
                             .offer = offer.SerializeAsString(),
                             .state = "pending",
                             .created_at = base::unix_seconds()};
  if (auto r = m_deps.store.put(rec); !r) return fail_offer(r.error().message);
  if (m_deps.deliver) m_deps.deliver(contact, rec.id);
  spdlog::info("offered {} ({} bytes) to {}: transfer {}", rec.name, rec.size, rec.contact, transfer_id);
  emit(event::FileOffer{"file.offered", rec});
}

std::vector<std::string> FileOfferService::ssl_peers() const {
  return swarm::peer_hints(m_deps.settings.current()->get_string("bt.ssl_listen"),
                           m_deps.swarm.ssl_listen_port());
}

void FileOfferService::receive(std::string from, wire::pb::FileOffer offer,
                               base::Done<Result<std::vector<std::string>>> reply) {
  if (offer.id().size() != 16) return reply(tl::unexpected(invalid("an offer id is 16 bytes")));
  const auto id = base::to_hex(offer.id());
  auto known = m_deps.store.get(id);
  if (!known) return reply(tl::unexpected(known.error()));
  if (*known) {  // sent again (our ack was lost): answer as the first time
    if ((*known)->direction != "in" || (*known)->contact != from)
      return reply(tl::unexpected(invalid("offer id reused")));
    if ((*known)->state == "refused") return reply(tl::unexpected(invalid((*known)->reason)));
    return reply(ssl_peers());
  }
  auto src = swarm::parse_torrent(offer.torrent());
  if (!src) return reply(tl::unexpected(src.error()));
  // Only SSL torrents: anything else could be fetched (and seeded on) by anyone who learns its hash.
  if (src->ssl_root.empty())
    return reply(tl::unexpected(invalid("the offered torrent is not an SSL torrent")));
  if (!crypto::cert_signed_by(offer.cert_pem(), src->ssl_root))
    return reply(tl::unexpected(invalid("the offer's certificate is not signed by the torrent's root")));
  if (offer.peers_size() > MAX_OFFER_PEERS)
    return reply(tl::unexpected(invalid("too many peer addresses in the offer")));
  std::vector<std::string> peers(offer.peers().begin(), offer.peers().end());
  store::FileOfferRecord rec{.id = id,
                             .direction = "in",
                             .contact = from,
                             .transfer_id = src->hashes.id(),
                             .name = src->name,
                             .size = src->total_size,
                             .cert = offer.cert_pem(),
                             .key = offer.key_pem(),
                             .peers = nlohmann::json(peers).dump(),
                             .state = "accepted",
                             .created_at = base::unix_seconds()};
  // Stored before the download is added: a restore finds the certificate for it.
  if (auto r = m_deps.store.put(rec); !r) return reply(tl::unexpected(r.error()));
  GetRequest get{.torrent_bytes = offer.torrent(),
                 .peers = peers,
                 .ssl_cert = offer.cert_pem(),
                 .ssl_key = offer.key_pem(),
                 .source_label = "(sent by contact " + from + ")"};
  m_deps.transfers.get(std::move(get), [this, rec, id, reply = std::move(reply)](Result<Added> added) {
    if (!added) {
      if (auto r = m_deps.store.set_state(id, "refused", added.error().message); !r)
        spdlog::error("offer {}: {}", id, r.error().message);
      return reply(tl::unexpected(added.error()));
    }
    spdlog::info("{} sent {} ({} bytes): downloading as transfer {}", rec.contact, rec.name, rec.size,
                 rec.transfer_id);
    emit(event::FileOffer{"file.received", rec});
    reply(ssl_peers());
  });
}

void FileOfferService::acknowledged(const std::string& offer_id, bool accepted, const std::string& reason,
                                    const std::vector<std::string>& peers) {
  auto o = m_deps.store.get(offer_id);
  if (!o || !*o) return;
  if (!accepted) {
    spdlog::warn("{} refused file offer {} ({}): {}", (*o)->contact, offer_id, (*o)->name, reason);
    return emit(event::FileOffer{"file.refused", **o});
  }
  spdlog::info("{} accepted file offer {} ({})", (*o)->contact, offer_id, (*o)->name);
  // The recipient dials us; we dial them too: whichever side can be reached, the data flows.
  if (auto r = m_deps.swarm.connect_peers((*o)->transfer_id, peers); !r)
    spdlog::warn("offer {}: cannot dial the recipient: {}", offer_id, r.error().message);
  emit(event::FileOffer{"file.accepted", **o});
}

void FileOfferService::progressed(const std::string& offer_id, const std::string& state,
                                  std::int64_t /*done: in the record already*/) {
  auto o = m_deps.store.get(offer_id);
  if (!o || !*o) return;
  if (state == "delivered" || state == "quarantined") {
    spdlog::info("{} {} {} ({})", (*o)->contact, state == "delivered" ? "received" : "quarantined",
                 (*o)->name, offer_id);
    m_deps.swarm.forget_hints((*o)->transfer_id);  // nothing more to send them
  }
  emit(event::FileOffer{"file." + state, **o});
}

namespace {

// What a node event says about a received offer's download, if anything.
struct OfferReport {
  std::string transfer_id, state;  // state: transferring | scanning | delivered | quarantined
  std::uint64_t done = 0, total = 0;
};

std::optional<OfferReport> offer_report_of(const Event& e) {
  if (const auto* p = std::get_if<event::TransferProgress>(&e)) {
    const auto& t = p->transfer;
    if (t.state != "downloading" && t.state != "metadata" && t.state != "checking" && t.state != "finished")
      return std::nullopt;
    return OfferReport{t.status.id, "transferring",
                       static_cast<std::uint64_t>(std::max<std::int64_t>(0, t.status.total_done)),
                       static_cast<std::uint64_t>(std::max<std::int64_t>(0, t.status.total_wanted))};
  }
  if (const auto* s = std::get_if<event::TransferScanning>(&e)) return OfferReport{s->id, "scanning"};
  if (const auto* c = std::get_if<event::TransferCompleted>(&e)) return OfferReport{c->id, "delivered"};
  if (const auto* q = std::get_if<event::QuarantineAdded>(&e)) return OfferReport{q->item.id, "quarantined"};
  return std::nullopt;
}

}  // namespace

void FileOfferService::observe(const Event& e) {
  if (const auto* removed = std::get_if<event::TransferRemoved>(&e)) {
    std::lock_guard lock(m_mutex);
    m_watched.erase(removed->id);
    return;
  }
  auto report = offer_report_of(e);
  if (!report || report->transfer_id.empty()) return;
  const auto& tid = report->transfer_id;
  const auto& state = report->state;
  auto done = report->done, total = report->total;
  bool known;
  {
    std::lock_guard lock(m_mutex);
    known = m_watched.count(tid) != 0;
  }
  if (!known) {  // first sight of this transfer: is it an offer we received? (SQLite, outside the lock)
    Watched w;
    if (auto o = m_deps.store.by_transfer(tid, "in"); o && *o) {
      w.is_offer = true;
      w.offer_id = (*o)->id;
      w.contact = (*o)->contact;
      w.state = (*o)->state;
    }
    std::lock_guard lock(m_mutex);
    m_watched.emplace(tid, w);
  }
  Watched w;
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::steady_clock::now().time_since_epoch())
                       .count();
  const auto* progress = std::get_if<event::TransferProgress>(&e);
  bool relay = false;
  {
    std::lock_guard lock(m_mutex);
    auto& watched = m_watched[tid];
    if (!watched.is_offer || watched.state == "delivered" || watched.state == "quarantined") return;
    if (progress && progress->transfer.state != "finished")
      relay = due_for_relay(watched, progress->transfer.status.peers, now);
    w = watched;
  }
  if (relay && m_deps.relay_data) {
    spdlog::debug("{}: no peer for {} s; trying its data through a relay", tid, RELAY_DATA_AFTER_MS / 1000);
    m_deps.relay_data(w.contact, tid);
  }
  {
    std::lock_guard lock(m_mutex);
    auto& watched = m_watched[tid];
    if (state == watched.state && now - watched.reported_ms < 2000) return;
    watched.state = state;
    watched.reported_ms = now;
    w = watched;
  }
  if (auto o = m_deps.store.get(w.offer_id); o && *o) {
    if (state != "transferring") done = total = static_cast<std::uint64_t>((*o)->size);
    if (auto r = m_deps.store.set_progress(w.offer_id, state, static_cast<std::int64_t>(done)); !r)
      spdlog::warn("offer {}: {}", w.offer_id, r.error().message);
  }
  if (state == "delivered" || state == "quarantined")
    m_deps.swarm.forget_hints(tid);  // the sender has no more
  if (m_deps.report) m_deps.report(w.contact, w.offer_id, state, done, total);
}

Result<std::vector<store::FileOfferRecord>> FileOfferService::list() { return m_deps.store.list(); }

bool FileOfferService::due_for_relay(Watched& w, int peers, std::int64_t now_ms) {
  if (peers > 0) {
    w.no_peer_since_ms = 0;
    return false;
  }
  if (w.no_peer_since_ms == 0) w.no_peer_since_ms = now_ms;
  if (now_ms - w.no_peer_since_ms < RELAY_DATA_AFTER_MS || now_ms < w.relay_next_ms) return false;
  w.relay_next_ms = now_ms + RELAY_DATA_RETRY_MS;
  return true;
}

}  // namespace kith::app
