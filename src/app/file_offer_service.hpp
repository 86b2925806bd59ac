#pragma once
// Files to and from contacts (`kith send`, docs/protocol/file-offer.md). The sender hashes the data into
// an SSL torrent whose root certificate issued exactly two leaves (its own and the recipient's), seeds
// it on the SSL listener, and queues a FileOffer through the messenger; the recipient adds it as an
// ordinary download, so it goes staging -> scan -> download.dir (or quarantine) like every other one.
//
// Threading: no state of its own besides the offer table (store::FileOfferStore, thread-safe). Its
// completions run where the service it waited for answered (the transfer service's strand); the
// messenger is reached only through the two functions in Deps, which post.
#include <functional>
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
  };
  explicit FileOfferService(Deps deps) : m_deps(std::move(deps)) {}

  // Answers at once with the transfer in state "hashing"; the offer is stored and sent when hashing
  // ends (file.offered), or not (transfer.error on the hashing job).
  void send(std::string who, std::string path, base::Done<Result<Transfer>> done);
  // An offer that arrived from the accepted contact `from`: checked, stored, and its download added
  // (auto-accepted). `reply` says whether it was taken (the FileOfferAck); any thread.
  void receive(std::string from, wire::pb::FileOffer offer, base::Done<Status> reply);
  // The recipient acknowledged one of ours.
  void acknowledged(const std::string& offer_id, bool accepted, const std::string& reason);
  // Sent and received, newest first.
  Result<std::vector<store::FileOfferRecord>> list();

 private:
  void offer(const std::string& contact, const std::string& path, const crypto::TransferCerts& certs,
             const Transfer& shared);
  void emit(Event e) const;

  Deps m_deps;
};

}  // namespace kith::app
