#pragma once
// The JSON shapes of the node's typed results and events (docs/api.md): the only place where
// transfers, quarantine items, block lists, status and events become JSON.
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "app/events.hpp"
#include "app/model.hpp"
#include "app/report_service.hpp"
#include "app/settings_store.hpp"

namespace kith::api {

nlohmann::json to_json(const app::Transfer& t);
nlohmann::json to_json(const std::vector<app::Transfer>& list);
nlohmann::json to_json(const std::vector<swarm::FileStatus>& files);
nlohmann::json to_json(const std::vector<swarm::PeerStatus>& peers);
nlohmann::json to_json(const store::QuarantineRecord& q);
nlohmann::json to_json(const app::QuarantineItem& item);
nlohmann::json to_json(const store::BlockRecord& e);
nlohmann::json to_json(const app::IpFilterSummary& s);
nlohmann::json to_json(const app::BlockList& list);
nlohmann::json to_json(const app::NodeStatus& s);
nlohmann::json to_json(const app::Identity& i);
nlohmann::json to_json(const store::FileOfferRecord& o);
nlohmann::json to_json(const app::ListedReport& r);
nlohmann::json to_json(const app::SettingChange& c);

// (event type, data) as the event stream sends them.
std::pair<std::string, nlohmann::json> event_json(const app::Event& e);

}  // namespace kith::api
