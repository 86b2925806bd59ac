#include "sync/global.hpp"

#include <algorithm>

#include "sync/version.hpp"

namespace kith::sync {
namespace {

bool same_content(const store::SyncFile& a, const store::SyncFile& b) {
  if (a.deleted || b.deleted || a.type != b.type) return false;
  if (a.type == 4) return a.symlink_target == b.symlink_target;
  if (a.type == 1) return true;
  // By the blocks hash the store keeps: planning reads indexes without their block lists. An unknown
  // hash (empty) is never "the same": the data is fetched (or copied from here) instead.
  return a.size == b.size && !a.blocks_hash.empty() && a.blocks_hash == b.blocks_hash;
}

int depth(const std::string& name) { return static_cast<int>(std::count(name.begin(), name.end(), '/')); }

}  // namespace

bool wins_conflict(const store::SyncFile& a, const store::SyncFile& b) {
  if (a.invalid != b.invalid) return !a.invalid;
  if (a.deleted != b.deleted) return !a.deleted;
  if (a.modified_s != b.modified_s) return a.modified_s > b.modified_s;
  if (a.modified_ns != b.modified_ns) return a.modified_ns > b.modified_ns;
  return compare(a.version, b.version) == Ordering::concurrent_greater;
}

const store::SyncFile& newest(const std::vector<const store::SyncFile*>& candidates) {
  const store::SyncFile* best = candidates.front();
  for (const auto* c : candidates) {
    if (c == best) continue;
    if (c->invalid && !best->invalid) continue;
    if (best->invalid && !c->invalid) {
      best = c;
      continue;
    }
    switch (compare(c->version, best->version)) {
      case Ordering::greater:
        best = c;
        break;
      case Ordering::concurrent_greater:
      case Ordering::concurrent_lesser:
        if (wins_conflict(*c, *best)) best = c;
        break;
      default:
        break;
    }
  }
  return *best;
}

GlobalState compute_global(const NeedInput& in) {
  std::map<std::string, std::vector<const store::SyncFile*>> by_name;
  std::map<std::string, const store::SyncFile*> local;
  for (const auto& f : *in.local) {
    by_name[f.name].push_back(&f);
    local[f.name] = &f;
  }
  for (const auto& [device, files] : *in.remote)
    for (const auto& f : files) by_name[f.name].push_back(&f);

  GlobalState out;
  std::vector<Need> dirs, files, deletions;
  for (const auto& [name, candidates] : by_name) {
    const store::SyncFile& g = newest(candidates);
    if (g.invalid) continue;          // nobody has a valid version
    if (!g.deleted && g.type != 1) {  // files and symlinks (directories are not counted, as in Syncthing)
      ++out.global_files;
      out.global_bytes += g.size;
    }
    // Who lacks it (for completion figures): every remote device whose entry differs.
    for (const auto& [device, list] : *in.remote) {
      (void)list;
      bool has = false;
      for (const auto* c : candidates)
        if (c->device == device && compare(c->version, g.version) == Ordering::equal) has = true;
      if (!has && !g.deleted && g.type != 1) {
        auto& n = out.device_need[device];
        ++n.first;
        n.second += g.size;
      }
    }
    if (g.device.empty()) continue;  // ours is the newest
    if (in.ignored && in.ignored(name)) continue;
    auto it = local.find(name);
    const store::SyncFile* mine = it == local.end() ? nullptr : it->second;
    if (mine && compare(g.version, mine->version) == Ordering::equal) continue;
    if (!mine && g.deleted) continue;                        // never had it
    if (mine && mine->invalid && in.receive_only) continue;  // changed here: kept until reverted
    if (in.held) {
      auto h = in.held->find(name);
      if (h != in.held->end() && h->second == g.version) continue;
    }
    Need need;
    need.global = g;
    for (const auto* c : candidates)
      if (!c->device.empty() && !c->invalid && compare(c->version, g.version) == Ordering::equal)
        need.sources.push_back(c->device);
    if (mine) need.local = *mine;
    if (mine && !mine->deleted && !mine->invalid) {
      const Ordering o = compare(g.version, mine->version);
      need.conflict = o == Ordering::concurrent_greater || o == Ordering::concurrent_lesser;
      need.metadata_only = same_content(g, *mine);
      if (need.metadata_only) need.conflict = false;
    }
    if (g.deleted)
      deletions.push_back(std::move(need));
    else if (g.type == 1)
      dirs.push_back(std::move(need));
    else
      files.push_back(std::move(need));
  }
  // Deepest first, so that a directory is empty when its turn comes.
  std::stable_sort(deletions.begin(), deletions.end(),
                   [](const Need& a, const Need& b) { return depth(a.global.name) > depth(b.global.name); });
  out.needs = std::move(dirs);  // names come sorted from the map: parents before children
  for (auto& n : files) out.needs.push_back(std::move(n));
  for (auto& n : deletions) out.needs.push_back(std::move(n));
  return out;
}

}  // namespace kith::sync
