#include "api/json_messaging.hpp"

#include <type_traits>

namespace kith::api {
namespace {

using messaging::Via;

nlohmann::json time_or_null(std::int64_t t) { return t ? nlohmann::json(t) : nlohmann::json(); }

// A channel's network: "lan" or "internet".
const char* network_name(Via v) { return v == Via::lan ? "lan" : "internet"; }

// Where an address was learnt: a LAN beacon, a DHT record, a static hint.
const char* source_name(Via v) {
  switch (v) {
    case Via::lan:
      return "lan";
    case Via::internet:
      return "dht";
    case Via::hint:
      break;
  }
  return "hint";
}

const char* state_name(messaging::MessageView::State s) {
  switch (s) {
    case messaging::MessageView::State::read:
      return "read";
    case messaging::MessageView::State::delivered:
      return "delivered";
    case messaging::MessageView::State::queued:
      break;
  }
  return "queued";
}

}  // namespace

nlohmann::json contact_json(const messaging::ContactView& c) {
  nlohmann::json j = {{"id", c.id},
                      {"name", c.name},
                      {"state", contacts::to_string(c.relation)},
                      {"addrs", c.addrs},
                      {"added_at", c.added_at},
                      {"last_seen", time_or_null(c.last_seen)},
                      {"online", c.online},
                      {"via", c.via ? nlohmann::json(network_name(*c.via)) : nlohmann::json()},
                      {"address", c.address ? nlohmann::json(*c.address) : nlohmann::json()}};
  if (!c.note.empty()) j["note"] = c.note;
  if (c.incoming) j["incoming"] = *c.incoming;
  if (c.path) j["path"] = *c.path;
  if (c.discovered) {
    auto known = nlohmann::json::array();
    for (const auto& d : *c.discovered)
      known.push_back({{"address", d.address}, {"source", source_name(d.source)}});
    j["discovered"] = known;
  }
  if (c.unread) j["unread"] = *c.unread;
  return j;
}

nlohmann::json contacts_json(const std::vector<messaging::ContactView>& list) {
  auto out = nlohmann::json::array();
  for (const auto& c : list) out.push_back(contact_json(c));
  return out;
}

nlohmann::json message_json(const messaging::MessageView& m) {
  nlohmann::json j = {{"id", m.id},
                      {"conversation", m.conversation},
                      {"conversation_name", m.conversation_name},
                      {"author", m.author},
                      {"author_name", m.author_name},
                      {"outgoing", m.outgoing},
                      {"seq", m.seq},
                      {"sent_at", m.sent_at},
                      {"received_at", m.received_at},
                      {"text", m.text},
                      {"cursor", m.cursor}};
  if (!m.outgoing) {
    j["read"] = m.read;
    return j;
  }
  j["delivered"] = m.delivered;
  j["recipients"] = m.recipients;
  j["status"] = state_name(m.state);
  return j;
}

nlohmann::json message_json(const messaging::MessageDetails& m) {
  auto j = message_json(m.message);
  if (m.deliveries) {
    auto list = nlohmann::json::array();
    for (const auto& r : *m.deliveries)
      list.push_back({{"recipient", r.recipient},
                      {"delivered_at", time_or_null(r.delivered_at)},
                      {"read_at", time_or_null(r.read_at)}});
    j["deliveries"] = list;
  }
  return j;
}

nlohmann::json group_json(const messaging::GroupView& g) {
  auto members = nlohmann::json::array();
  for (const auto& m : g.members) members.push_back({{"id", m.id}, {"name", m.name}});
  return {{"id", g.id},
          {"name", g.name},
          {"creator", g.creator},
          {"members", members},
          {"created_at", g.created_at}};
}

nlohmann::json groups_json(const std::vector<messaging::GroupView>& list) {
  auto out = nlohmann::json::array();
  for (const auto& g : list) out.push_back(group_json(g));
  return out;
}

nlohmann::json inbox_json(const messaging::InboxPage& page) {
  auto list = nlohmann::json::array();
  for (const auto& m : page.messages) list.push_back(message_json(m));
  return {{"messages", list}, {"cursor", page.cursor}};
}

nlohmann::json mark_read_json(const messaging::MarkReadResult& r) {
  return {{"conversation", r.conversation}, {"read", r.read}, {"receipts", r.receipts}};
}

nlohmann::json nat_json(const messaging::NatStatus& n) {
  return {{"type", n.type},
          {"public_addresses", n.public_addresses},
          {"public_ips", n.public_ips},
          {"observers", n.observers}};
}

nlohmann::json messenger_status_json(const messaging::MessengerStatus& s) {
  return {{"port", s.port},
          {"contacts", s.contacts},
          {"online", s.online},
          {"requests", s.requests},
          {"outbox", s.outbox},
          {"refused_channels", s.refused_channels},
          {"rejected_messages", s.rejected_messages},
          {"addresses", s.addresses},
          {"nat", nat_json(s.nat)},
          {"relay",
           {{"enabled", s.relay.enabled},
            {"circuits", s.relay.circuits},
            {"waiting", s.relay.waiting},
            {"max_circuits", s.relay.max_circuits},
            {"bytes", s.relay.bytes},
            {"refused", s.relay.refused},
            {"relayed_channels", s.relay.relayed_channels}}},
          {"turn",
           {{"server", s.turn.server},
            {"state", s.turn.state},
            {"address", s.turn.address},
            {"permits", s.turn.permits},
            {"channels", s.turn.channels}}}};
}

std::pair<std::string, nlohmann::json> event_json(const messaging::Event& event) {
  return std::visit(
      [](const auto& e) -> std::pair<std::string, nlohmann::json> {
        using E = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<E, messaging::ContactRequested>)
          return {"contact.request", contact_json(e.contact)};
        else if constexpr (std::is_same_v<E, messaging::ContactAccepted>)
          return {"contact.accepted", contact_json(e.contact)};
        else if constexpr (std::is_same_v<E, messaging::ContactOnline>)
          return {"contact.online", contact_json(e.contact)};
        else if constexpr (std::is_same_v<E, messaging::ContactOffline>)
          return {"contact.offline", contact_json(e.contact)};
        else if constexpr (std::is_same_v<E, messaging::ContactBlocked>)
          return {"contact.blocked", {{"id", e.id}}};
        else if constexpr (std::is_same_v<E, messaging::ContactRemoved>)
          return {"contact.removed", {{"id", e.id}}};
        else if constexpr (std::is_same_v<E, messaging::MessageSent>)
          return {"message.sent", message_json(e.message)};
        else if constexpr (std::is_same_v<E, messaging::MessageReceived>)
          return {"message.received", message_json(e.message)};
        else if constexpr (std::is_same_v<E, messaging::MessageDelivered>)
          return {"message.delivered", {{"id", e.id}, {"by", e.by}}};
        else if constexpr (std::is_same_v<E, messaging::AddressesChanged>)
          return {"node.addresses", {{"addresses", e.addresses}, {"nat", nat_json(e.nat)}}};
        else {
          static_assert(std::is_same_v<E, messaging::MessageRead>, "every event has a name");
          return {"message.read", {{"id", e.id}, {"by", e.by}}};
        }
      },
      event);
}

}  // namespace kith::api
