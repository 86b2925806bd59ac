#pragma once
// The global state of a folder and what this node needs of it (sans-IO). For each name the newest entry
// among every device's index is global: a version vector that is greater wins; of two concurrent ones
// (edited on two devices while apart) the conflict winner is the valid one, then the not-deleted one,
// then the newer modification time, then the greater vector (Syncthing's FileInfo.WinsConflict), so
// every device picks the same winner and the loser keeps its copy as NAME.sync-conflict-....
// The input is indexes without their block lists (store::Blocks::without): content is compared by
// SyncFile::blocks_hash, and a need's blocks are read when its pull starts (engine_pull.cpp).
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "store/sync_store.hpp"

namespace kith::sync {

// Does `a` win a conflict with `b` (their vectors concurrent)?
bool wins_conflict(const store::SyncFile& a, const store::SyncFile& b);

// The newest of the candidates (none empty).
const store::SyncFile& newest(const std::vector<const store::SyncFile*>& candidates);

struct Need {
  store::SyncFile global;            // what the name should become (its device is where it came from);
                                     // as its input was: without blocks
  std::vector<std::string> sources;  // devices whose index has exactly this version (to fetch blocks from)
  bool conflict = false;             // the local entry is concurrent and loses: keep it as a conflict copy
  bool metadata_only = false;        // same content here (size and blocks_hash): adopt the version and
                                     // times, move no data
  std::optional<store::SyncFile> local;  // this node's entry for the name, if any
};

struct NeedInput {
  const std::vector<store::SyncFile>* local = nullptr;                          // device ""
  const std::map<std::string, std::vector<store::SyncFile>>* remote = nullptr;  // by device
  bool receive_only = false;  // local entries flagged invalid (changed here) are kept, not overwritten
  // name -> version held back by the safety check: not fetched again until the version changes.
  const std::map<std::string, std::vector<store::SyncCounter>>* held = nullptr;
  // Names this node's .stignore ignores: never pulled, created or deleted here (Syncthing's puller
  // skips them the same way); empty: none.
  std::function<bool(const std::string&)> ignored;
};

struct GlobalState {
  std::vector<Need> needs;  // directories first (parents before children), then files, then deletions
  std::int64_t global_files = 0, global_bytes = 0;  // not deleted
  std::map<std::string, std::pair<std::int64_t, std::int64_t>>
      device_need;  // device -> files, bytes it lacks
};

GlobalState compute_global(const NeedInput& in);

}  // namespace kith::sync
