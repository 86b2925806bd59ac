// Node: files to and from contacts (`kith send`). The sender hashes the data into an SSL torrent whose
// root certificate only issued two leaves (its own and the recipient's), seeds it on the SSL listener,
// and queues a FileOffer through the messenger; the recipient adds it as an ordinary download, so it
// goes staging -> safety scan -> download.dir (or quarantine) like every other one, and resumes like
// one after a restart.
#include <spdlog/spdlog.h>

#include <filesystem>

#include "app/errors.hpp"
#include "app/node.hpp"
#include "base/clock.hpp"
#include "base/hex.hpp"
#include "crypto/random.hpp"
#include "crypto/transfer_certs.hpp"
#include "identity/kith_id.hpp"
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

nlohmann::json Node::offer_json(const store::FileOfferRecord& o) const {
  return {{"id", o.id},
          {"direction", o.direction},
          {"contact", o.contact},
          {"transfer_id", o.transfer_id},
          {"name", o.name},
          {"size", o.size},
          {"peers", nlohmann::json::parse(o.peers, nullptr, false)},
          {"state", o.state},
          {"reason", o.reason},
          {"created_at", o.created_at}};
}

void Node::add_ssl_options(const store::TransferRecord& rec, swarm::AddOptions& add) {
  auto offer = m_file_offers->by_transfer(rec.id, rec.kind == "get" ? "in" : "out");
  if (!offer || !*offer) return;
  add.ssl_cert = (*offer)->cert;
  add.ssl_key = (*offer)->key;
  // The sender's address: without DHT or tracker (never used for these) it is the only way back.
  auto peers = nlohmann::json::parse((*offer)->peers, nullptr, false);
  if (peers.is_array())
    for (const auto& p : peers)
      if (p.is_string()) add.peers.push_back(p.get<std::string>());
}

Result<nlohmann::json> Node::send_file(const std::string& contact_id, const std::string& path) {
  auto messenger = require_messenger();
  if (!messenger) return tl::unexpected(messenger.error());
  if (!identity::decode_id(contact_id))
    return tl::unexpected(invalid("'" + contact_id + "' is not a kith ID"));
  const auto ssl_port = m_swarm->ssl_listen_port();
  if (ssl_port == 0)
    return fail(base::make_error_code(base::errc::unavailable),
                "this node has no SSL listener (setting bt.ssl_listen is empty or its port is taken), so "
                "nobody could fetch a file from it");
  auto certs = crypto::make_transfer_certs();
  if (!certs) return tl::unexpected(certs.error());
  auto shared = share({.path = path,
                       .format = swarm::TorrentFormat::v1,
                       .root_cert = certs->root_cert,
                       .ssl_cert = certs->sender_cert,
                       .ssl_key = certs->sender_key,
                       .max_pieces = MAX_PIECES});
  if (!shared) return shared;
  const std::string transfer_id = (*shared)["id"];
  auto torrent = m_swarm->torrent_file(transfer_id);
  if (!torrent) return tl::unexpected(torrent.error());
  if (torrent->size() > MAX_OFFER_TORRENT) {
    (void)remove(transfer_id, false);
    return fail(make_error_code(errc::bad_path),
                path + " has too many files to send in one offer (its file list takes " +
                    std::to_string(torrent->size() / 1024) + " KiB, at most " +
                    std::to_string(MAX_OFFER_TORRENT / 1024) + " KiB); send it as an archive");
  }
  const auto peers = swarm::peer_hints(setting_string("bt.ssl_listen"), ssl_port);
  wire::pb::FileOffer offer;
  offer.set_id(crypto::random_bytes(16));
  offer.set_name((*shared)["name"].get<std::string>());
  offer.set_torrent(*torrent);
  for (const auto& p : peers) offer.add_peers(p);
  offer.set_cert_pem(certs->recipient_cert);
  offer.set_key_pem(certs->recipient_key);
  offer.set_size(static_cast<std::uint64_t>((*shared).value("total_size", std::int64_t{0})));
  store::FileOfferRecord rec{.id = base::to_hex(offer.id()),
                             .direction = "out",
                             .contact = contact_id,
                             .transfer_id = transfer_id,
                             .name = offer.name(),
                             .size = static_cast<std::int64_t>(offer.size()),
                             .cert = certs->sender_cert,
                             .key = certs->sender_key,
                             .peers = nlohmann::json(peers).dump(),
                             .offer = offer.SerializeAsString(),
                             .state = "pending",
                             .created_at = base::unix_seconds()};
  if (auto r = m_file_offers->put(rec); !r) {
    (void)remove(transfer_id, false);
    return tl::unexpected(r.error());
  }
  (*messenger)->deliver_offer(contact_id, rec.id);
  auto j = offer_json(rec);
  spdlog::info("offered {} ({} bytes) to {}: transfer {}", rec.name, rec.size, rec.contact, transfer_id);
  publish("file.offered", j);
  shared->erase("torrent");
  (*shared)["offer"] = j;
  return shared;
}

Status Node::on_file_offer(const std::string& from, const wire::pb::FileOffer& offer) {
  if (offer.id().size() != 16) return tl::unexpected(invalid("an offer id is 16 bytes"));
  const auto id = base::to_hex(offer.id());
  auto known = m_file_offers->get(id);
  if (!known) return tl::unexpected(known.error());
  if (*known) {  // sent again (our ack was lost): answer as the first time
    if ((*known)->direction != "in" || (*known)->contact != from)
      return tl::unexpected(invalid("offer id reused"));
    if ((*known)->state != "accepted") return tl::unexpected(invalid((*known)->reason));
    return {};
  }
  auto src = swarm::parse_torrent(offer.torrent());
  if (!src) return tl::unexpected(src.error());
  // Only SSL torrents: anything else could be fetched (and seeded on) by anyone who learns its hash.
  if (src->ssl_root.empty()) return tl::unexpected(invalid("the offered torrent is not an SSL torrent"));
  if (!crypto::cert_signed_by(offer.cert_pem(), src->ssl_root))
    return tl::unexpected(invalid("the offer's certificate is not signed by the torrent's root"));
  if (offer.peers_size() > MAX_OFFER_PEERS)
    return tl::unexpected(invalid("too many peer addresses in the offer"));
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
  if (auto r = m_file_offers->put(rec); !r) return r;
  GetRequest get_request{.torrent_bytes = offer.torrent(),
                         .peers = peers,
                         .ssl_cert = offer.cert_pem(),
                         .ssl_key = offer.key_pem(),
                         .source_label = "(sent by contact " + from + ")"};
  auto added = get(get_request);
  if (!added) {
    (void)m_file_offers->set_state(id, "refused", added.error().message);
    return tl::unexpected(added.error());
  }
  spdlog::info("{} sent {} ({} bytes): downloading as transfer {}", from, rec.name, rec.size,
               rec.transfer_id);
  publish("file.received", offer_json(rec));
  return {};
}

Result<nlohmann::json> Node::file_offers() {
  auto all = m_file_offers->list();
  if (!all) return tl::unexpected(all.error());
  auto out = nlohmann::json::array();
  for (const auto& o : *all) out.push_back(offer_json(o));
  return out;
}

}  // namespace kith::app
