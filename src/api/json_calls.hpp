#pragma once
// The JSON of calls (docs/api.md § Calls): call views, endpoint signals, and the "call.*" events.
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "calls/call_service.hpp"

namespace kith::api {

nlohmann::json call_json(const calls::CallView& call);
nlohmann::json signal_json(const calls::EndpointSignal& signal);
// "call.updated" {call}, "call.signal" {call_id, signal}.
std::pair<std::string, nlohmann::json> event_json(const calls::Event& event);

}  // namespace kith::api
