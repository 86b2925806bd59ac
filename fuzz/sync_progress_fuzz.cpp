// Fuzzes the handling of a peer's DownloadProgress (sync/progress.hpp): the bytes are a DownloadProgress
// body; its updates go through to_updates() and into a ReceivedProgress with small limits, as the engine's
// handler does (engine_progress.cpp), several times over.
// Invariants: an accepted update has a name check_name() accepts, a well-formed version, and (APPEND) a
// power-of-two block size of 128 KiB-16 MiB and indexes from 0 to max_index; accepted updates go back
// to the wire and again to the same updates; what is kept never passes the limits, and the block
// indexes kept of a file are sorted and unique.
#include <algorithm>
#include <cstdint>
#include <cstdlib>

#include "bep/bep.pb.h"
#include "sync/names.hpp"
#include "sync/progress.hpp"
#include "sync/version.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  kith::bep::pb::DownloadProgress msg;
  if (!msg.ParseFromArray(data, static_cast<int>(size))) return 0;
  kith::sync::ReceivedLimits limits;
  limits.updates_per_message = 64;
  limits.files = 8;
  limits.indexes = 256;
  limits.max_index = 1 << 20;
  auto received = kith::sync::to_updates(msg, limits);
  for (const auto& u : received.updates) {
    if (!kith::sync::check_name(u.name) || !kith::sync::well_formed(u.version)) std::abort();
    if (u.forget) continue;
    if (u.block_size < (128 << 10) || u.block_size > (16 << 20) || (u.block_size & (u.block_size - 1)) != 0)
      std::abort();
    for (auto i : u.indexes)
      if (i < 0 || i > limits.max_index) std::abort();
  }
  auto again = kith::sync::to_updates(kith::sync::to_wire("f", received.updates), limits);
  if (again.refused != 0 || again.updates != received.updates) std::abort();
  kith::sync::ReceivedProgress kept(limits);
  for (const char* folder : {"f", "g", "f"}) {
    (void)kept.apply(folder, received.updates);
    if (kept.files() > limits.files || kept.indexes() > limits.indexes) std::abort();
    for (const auto& u : received.updates)
      if (const auto* blocks = kept.blocks(folder, u.name, u.version))
        if (!std::is_sorted(blocks->begin(), blocks->end()) ||
            std::adjacent_find(blocks->begin(), blocks->end()) != blocks->end())
          std::abort();
  }
  kept.forget_folder("f");
  kept.forget_folder("g");
  if (kept.files() != 0 || kept.indexes() != 0) std::abort();
  return 0;
}
