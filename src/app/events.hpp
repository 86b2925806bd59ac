#pragma once
// What the node's services announce (docs/api.md § Event stream): typed here, JSON in src/api. A
// service emits on its own strand with nothing locked; the sink (the daemon's event hub) must only
// queue.
#include <cstdint>
#include <functional>
#include <string>
#include <variant>
#include <vector>

#include "app/model.hpp"

namespace kith::app {

namespace event {

struct TransferAdded {  // transfer.added
  std::string id, name, kind;
};
struct TransferHashed {  // transfer.hashed: a share's hashing ended; `job` is now transfer `id`
  std::string job, id;
};
struct TransferMetadata {  // transfer.metadata
  std::string id, name;
};
struct TransferState {  // transfer.state
  std::string id, state;
};
struct TransferProgress {  // transfer.progress (also a share being hashed)
  Transfer transfer;
};
struct TransferScanning {  // transfer.scanning
  std::string id;
  std::size_t files = 0;
};
struct TransferScanned {  // transfer.scanned
  std::string id;
  safety::Decision decision;
};
struct TransferCompleted {  // transfer.completed
  std::string id, name, path;
};
struct TransferError {  // transfer.error
  std::string id, message;
  bool disk_full = false;
  bool has_disk_full = false;  // false: a release error (no disk_full field)
};
struct TransferRemoved {  // transfer.removed
  std::string id;
};
struct QuarantineAdded {  // quarantine.added
  store::QuarantineRecord item;
};
struct QuarantineReleased {  // quarantine.released
  std::string id, path;
};
struct QuarantineDeleted {  // quarantine.deleted
  std::string id;
};
struct ReportCreated {  // report.created
  std::string id, transfer_id, path;
};
struct BlockAdded {  // blocklist.added
  store::BlockRecord entry;
  std::vector<std::string> removed;
};
struct BlockRemoved {  // blocklist.removed
  std::string kind, value;
};
struct IpFilterReloaded {  // blocklist.ip_filter
  IpFilterSummary summary;
};
struct FileOffer {  // file.offered | file.delivered | file.refused | file.received
  std::string type;
  store::FileOfferRecord offer;
};

}  // namespace event

using Event = std::variant<event::TransferAdded, event::TransferHashed, event::TransferMetadata,
                           event::TransferState, event::TransferProgress, event::TransferScanning,
                           event::TransferScanned, event::TransferCompleted, event::TransferError,
                           event::TransferRemoved, event::QuarantineAdded, event::QuarantineReleased,
                           event::QuarantineDeleted, event::ReportCreated, event::BlockAdded,
                           event::BlockRemoved, event::IpFilterReloaded, event::FileOffer>;

using EventSink = std::function<void(const Event&)>;

}  // namespace kith::app
