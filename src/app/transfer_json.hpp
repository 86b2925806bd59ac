#pragma once
// The JSON shapes of transfers, as the API returns them and the CLI prints them (docs/api.md).
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "store/transfer_store.hpp"
#include "swarm/types.hpp"

namespace kith::app {

// Where a finished download is on its way out of staging (see node_safety.cpp).
struct ReleaseState {
  bool scanning = false;
  std::pair<std::uint64_t, std::uint64_t> scan{0, 0};  // bytes scanned, bytes to scan
  bool moving = false;
  bool quarantined = false;
  std::string error;  // why it was not released (a failed move)
};

nlohmann::json to_json(const swarm::TransferStatus& st, const store::TransferRecord& rec,
                       const ReleaseState& release);
nlohmann::json to_json(const std::vector<swarm::FileStatus>& files);

}  // namespace kith::app
