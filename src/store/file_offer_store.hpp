#pragma once
// Files sent to and received from contacts (`kith send`), in HOME/state.sqlite: the offer outbox, and
// each side's certificate for its SSL torrent (needed again whenever the transfer is restored).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/database.hpp"

namespace kith::store {

struct FileOfferRecord {
  std::string id;         // 32 hex digits
  std::string direction;  // "out" or "in"
  std::string contact;    // kith ID
  std::string transfer_id;
  std::string name;
  std::int64_t size = 0;
  std::string cert;          // our certificate for the torrent, PEM
  std::string key;           // its key, PEM
  std::string peers = "[]";  // JSON array of "host:port" (incoming offers)
  std::string offer;         // serialized wire FileOffer (outgoing offers)
  // out: pending | offered (acknowledged) | transferring | scanning | delivered | quarantined | refused;
  // in: accepted | transferring | scanning | delivered | quarantined. "delivered": scanned clean and
  // released at the recipient (docs/protocol/file-offer.md).
  std::string state;
  std::string reason;
  std::int64_t created_at = 0;  // unix seconds
  std::int64_t done = 0;        // bytes the recipient has (while transferring)
};

class FileOfferStore {
 public:
  explicit FileOfferStore(Database& db) : m_db(db) {}
  Status put(const FileOfferRecord& offer);
  Result<std::optional<FileOfferRecord>> get(const std::string& id);
  // The offer of this transfer and direction, if any (a node may both send and receive one torrent
  // only in tests; each side's certificate differs).
  Result<std::optional<FileOfferRecord>> by_transfer(const std::string& transfer_id,
                                                     const std::string& direction);
  // Outgoing offers to `contact` not yet acknowledged, oldest first.
  Result<std::vector<FileOfferRecord>> pending(const std::string& contact);
  // True if a row changed.
  Result<bool> set_state(const std::string& id, const std::string& state, const std::string& reason);
  Result<bool> set_progress(const std::string& id, const std::string& state, std::int64_t done);
  // Incoming offers from `contact` that reached a final state (delivered, quarantined), newest first.
  Result<std::vector<FileOfferRecord>> finished_in(const std::string& contact, int limit);
  // Every offer, newest first.
  Result<std::vector<FileOfferRecord>> list();

 private:
  Database& m_db;
};

}  // namespace kith::store
