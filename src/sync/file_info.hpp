#pragma once
// BEP's FileInfo (the wire) <-> store::SyncFile (the index). Entries from peers are checked here, before
// anything else sees them: a name that is not a plain relative path inside the folder, blocks that do not
// add up to the size, or oversized fields make the whole entry refused (docs/protocol/bep.md § Checks).
#include <string>

#include "base/error.hpp"
#include "bep/bep.pb.h"
#include "store/sync_store.hpp"
#include "sync/blocks.hpp"  // MIN_BLOCK_SIZE, MAX_BLOCK_SIZE

namespace kith::sync {

// Limits on one entry from a peer.
inline constexpr std::size_t MAX_VERSION_COUNTERS = 1024;
inline constexpr std::size_t MAX_SYMLINK_TARGET = 4096;

bep::pb::FileInfo to_wire(const store::SyncFile& file);
// base::errc::bad_input with the reason when the entry is not acceptable.
Result<store::SyncFile> from_wire(const bep::pb::FileInfo& info, const std::string& folder,
                                  const std::string& device);

}  // namespace kith::sync
