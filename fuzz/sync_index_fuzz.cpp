// Fuzzes the handling of a peer's index (sync/file_info.hpp, sync/global.hpp): the bytes are an
// IndexUpdate body; every entry goes through from_wire() as the engine's index handler does, and the
// accepted ones into compute_global() beside a small local index, as a pull plans.
// Invariants: an accepted entry has a name check_name() accepts, blocks that follow each other and add
// up to its size; it converts back to the wire and again to the same entry; and every need the plan
// makes is for a name some accepted entry has.
#include <cstdint>
#include <cstdlib>
#include <map>
#include <set>
#include <string>

#include "bep/bep.pb.h"
#include "sync/file_info.hpp"
#include "sync/global.hpp"
#include "sync/names.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  kith::bep::pb::IndexUpdate index;
  if (!index.ParseFromArray(data, static_cast<int>(size))) return 0;
  std::vector<kith::store::SyncFile> accepted;
  std::set<std::string> names;
  for (const auto& info : index.files()) {
    auto f = kith::sync::from_wire(info, "folder", "DEVICE");
    if (!f) continue;
    if (!kith::sync::check_name(f->name)) std::abort();
    std::int64_t offset = 0;
    for (const auto& b : f->blocks) {
      if (b.offset != offset) std::abort();
      offset += b.size;
    }
    if (!f->blocks.empty() && offset != f->size) std::abort();
    auto again = kith::sync::from_wire(kith::sync::to_wire(*f), "folder", "DEVICE");
    if (!again || !(*again == *f)) std::abort();
    names.insert(f->name);
    accepted.push_back(std::move(*f));
  }
  std::vector<kith::store::SyncFile> local(1);
  local[0].folder = "folder";
  local[0].name = "a";
  local[0].version = {{1, 1}};
  std::map<std::string, std::vector<kith::store::SyncFile>> remote = {{"DEVICE", accepted}};
  const auto plan = kith::sync::compute_global(kith::sync::NeedInput{&local, &remote, false, nullptr});
  for (const auto& need : plan.needs)
    if (!names.count(need.global.name)) std::abort();
  return 0;
}
