#pragma once
// The JSON of contacts, messages, groups and their events (docs/api.md § Contacts and messages, § Event
// stream), made from the messenger's typed views. The API, the CLI and the web UI read these shapes:
// change them only with docs/api.md.
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "messaging/events.hpp"
#include "messaging/views.hpp"

namespace kith::api {

nlohmann::json contact_json(const messaging::ContactView& c);
nlohmann::json contacts_json(const std::vector<messaging::ContactView>& list);
nlohmann::json message_json(const messaging::MessageView& m);
// A message with "deliveries": [{recipient, delivered_at, read_at}] (when they could be read).
nlohmann::json message_json(const messaging::MessageDetails& m);
nlohmann::json group_json(const messaging::GroupView& g);
nlohmann::json groups_json(const std::vector<messaging::GroupView>& list);
nlohmann::json inbox_json(const messaging::InboxPage& page);
nlohmann::json mark_read_json(const messaging::MarkReadResult& r);
nlohmann::json messenger_status_json(const messaging::MessengerStatus& s);

// An event's name ("contact.online", "message.received", ...) and data.
std::pair<std::string, nlohmann::json> event_json(const messaging::Event& event);

}  // namespace kith::api
