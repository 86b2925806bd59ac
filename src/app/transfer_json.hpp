#pragma once
// The JSON shapes of transfers, as the API returns them and the CLI prints them (docs/api.md).
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "store/transfer_store.hpp"
#include "swarm/types.hpp"

namespace kith::app {

nlohmann::json to_json(const swarm::TransferStatus& st, const store::TransferRecord& rec, bool releasing,
                       const std::string& release_error);
nlohmann::json to_json(const std::vector<swarm::FileStatus>& files);

}  // namespace kith::app
