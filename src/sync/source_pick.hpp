#pragma once
// Which device a block of a file being pulled is requested from (docs/sync.md § Pulling), sans-IO, as
// Syncthing's puller chooses: among the devices that have the block now, the one with the fewest
// requests in flight. Those are the devices whose index has exactly the version being pulled (full
// holders) and the devices whose DownloadProgress says that version's block is in their temporary file
// (asked with from_temporary). A full holder wins a tie, so an idle one is always asked first; equal
// devices take turns by block index, spreading a file over them as a swarm would.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace kith::sync {

struct Holder {
  std::string device;
  std::size_t in_flight = 0;  // its requests not answered yet (every file, every folder)
  // nullptr: it has the whole file; else the block indexes in its temporary file (sorted, unique).
  const std::vector<std::int32_t>* temp_blocks = nullptr;
};

struct BlockSource {
  std::string device;
  bool temporary = false;  // request with from_temporary
  bool operator==(const BlockSource&) const = default;
};

// The device to ask for block `index`, or nullopt when none has it. `temp_refused`: devices whose
// temporary file failed this file once (an error, bytes with the wrong hash); they are not asked for its
// temporary blocks again.
std::optional<BlockSource> pick_source(std::int32_t index, const std::vector<Holder>& holders,
                                       const std::set<std::string>& temp_refused);

}  // namespace kith::sync
