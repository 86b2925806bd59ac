#pragma once
// Files to and from contacts (`kith send`, docs/protocol/file-offer.md). The sender hashes the data into
// an SSL torrent whose root certificate issued exactly two leaves (its own and the recipient's), seeds
// it on the SSL listener, and queues a FileOffer through the messenger; the recipient adds it as an
// ordinary download, so it goes staging -> scan -> download.dir (or quarantine) like every other one.
//
// A sent offer is "offered" once the recipient acknowledged it, then follows the recipient's reports
// (FileOfferProgress): transferring, scanning, and "delivered" only once their copy was scanned and
// released (or "quarantined"). The recipient reports its own download's progress the same way.
//
// Threading: its state is the offer table (store::FileOfferStore, thread-safe) and a small map of the
// transfers it watches (under a mutex, never held while calling out). Its completions run where the
// service it waited for answered (the transfer service's strand); observe() runs wherever an event is
// emitted; the messenger is reached only through the functions in Deps, which post.
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "app/events.hpp"
#include "app/settings_store.hpp"
#include "app/transfer_service.hpp"
#include "base/async.hpp"
#include "crypto/transfer_certs.hpp"
#include "store/file_offer_store.hpp"
#include "swarm/session_host.hpp"
#include "wire/kith.pb.h"

namespace kith::app {

class FileOfferService {
 public:
  struct Deps {
    TransferService& transfers;
    swarm::SessionHost& swarm;
    store::FileOfferStore& store;
    const SettingsStore& settings;
    EventSink sink;
    // The kith ID of `who` if it is an accepted contact (else an error saying why); null: the node runs
    // without contacts (transient), so there is nobody to send to.
    std::function<void(std::string who, base::Done<Result<std::string>>)> accepted_contact;
    // Sends a stored pending offer now if the contact is connected (else it waits for a channel).
    std::function<void(std::string contact_id, std::string offer_id)> deliver;
    // Tells the sender of an offer we received how our download goes (messenger's FileOfferProgress).
    std::function<void(std::string contact_id, std::string offer_id, std::string state, std::uint64_t done,
                       std::uint64_t total)>
        report;
    // An offer we receive has had no peer for RELAY_DATA_AFTER: try its data through a relay
    // (DataRelays::start). Null: never.
    std::function<void(std::string contact_id, std::string transfer_id)> relay_data;
  };
  // How long a received offer's download may go without a peer before its data is tried through a
  // relay, and how soon again after that.
  static constexpr std::int64_t RELAY_DATA_AFTER_MS = 20'000, RELAY_DATA_RETRY_MS = 60'000;
  explicit FileOfferService(Deps deps) : m_deps(std::move(deps)) {}

  // Answers at once with the transfer in state "hashing"; the offer is stored and sent when hashing
  // ends (file.offered), or not (transfer.error on the hashing job).
  void send(std::string who, std::string path, base::Done<Result<Transfer>> done);
  // An offer that arrived from the accepted contact `from`: checked, stored, and its download added
  // (auto-accepted). `reply` says whether it was taken and where we take its peers (the FileOfferAck);
  // any thread.
  void receive(std::string from, wire::pb::FileOffer offer,
               base::Done<Result<std::vector<std::string>>> reply);
  // The recipient acknowledged one of ours; `peers`: where it takes peers, dialled from our side too
  // (a recipient behind a NAT cannot be reached, but it can reach us, and the other way round).
  void acknowledged(const std::string& offer_id, bool accepted, const std::string& reason,
                    const std::vector<std::string>& peers);
  // The recipient's download of one of ours moved on (the store is updated already).
  void progressed(const std::string& offer_id, const std::string& state, std::int64_t done);
  // Every node event, from any thread: the downloads of offers we received are reported to their
  // senders (transferring at most every 2 s, then scanning, delivered or quarantined).
  void observe(const Event& e);
  // Sent and received, newest first.
  Result<std::vector<store::FileOfferRecord>> list();

 private:
  void offer(const std::string& contact, const std::string& path, const crypto::TransferCerts& certs,
             const Transfer& shared);
  void emit(Event e) const;
  std::vector<std::string> ssl_peers() const;  // where this node takes SSL torrent peers

  struct Watched {
    bool is_offer = false;  // false: a transfer that is not an incoming offer
    std::string offer_id, contact;
    std::string state;
    std::int64_t reported_ms = 0;
    std::int64_t no_peer_since_ms = 0, relay_next_ms = 0;  // RELAY_DATA_AFTER_MS
  };
  // On a received offer's progress: true when its data should now be tried through a relay.
  bool due_for_relay(Watched& w, int peers, std::int64_t now_ms);

  Deps m_deps;
  std::mutex m_mutex;
  std::map<std::string, Watched> m_watched;  // by transfer id
};

}  // namespace kith::app
