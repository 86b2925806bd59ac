#include "api/json_calls.hpp"

namespace kith::api {

nlohmann::json call_json(const calls::CallView& c) {
  nlohmann::json j{{"id", c.id},
                   {"contact", {{"id", c.contact.id}, {"name", c.contact.name}}},
                   {"direction", calls::to_string(c.direction)},
                   {"state", calls::to_string(c.state)},
                   {"video", c.video},
                   {"remote_ringing", c.remote_ringing},
                   {"started_ms", c.started_ms},
                   {"answered_ms", c.answered_ms},
                   {"connected_ms", c.connected_ms},
                   {"ended_ms", c.ended_ms},
                   {"end_reason", c.end_reason},
                   {"room", c.room},
                   {"link", c.link},
                   {"roster", c.roster}};
  if (!c.replaced_by.empty()) j["replaced_by"] = c.replaced_by;
  return j;
}

nlohmann::json signal_json(const calls::EndpointSignal& s) {
  nlohmann::json j{{"seq", s.seq}, {"type", s.type}};
  if (s.type == "candidate") {
    j["candidate"] = s.candidate;
    j["mline"] = s.mline;
  } else {
    j["sdp"] = s.sdp;
  }
  return j;
}

std::pair<std::string, nlohmann::json> event_json(const calls::Event& event) {
  if (const auto* changed = std::get_if<calls::CallChanged>(&event))
    return {"call.updated", {{"call", call_json(changed->call)}}};
  const auto& to = std::get<calls::ToEndpoint>(event);
  return {"call.signal", {{"call_id", to.call_id}, {"signal", signal_json(to.signal)}}};
}

}  // namespace kith::api
