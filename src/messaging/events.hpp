#pragma once
// What the Messenger announces (docs/api.md § Event stream lists their names and JSON: src/api's
// json_messaging.hpp makes it). Emitted in order on the messenger's strand, after the work that caused
// them is done and with nothing locked: a sink may call the messenger back.
#include <functional>
#include <string>
#include <variant>

#include "messaging/views.hpp"

namespace kith::messaging {

struct ContactRequested {  // "contact.request": someone asked to be our contact
  ContactView contact;
};
struct ContactAccepted {  // "contact.accepted": they accepted our request, or we accepted theirs
  ContactView contact;
};
struct ContactOnline {  // "contact.online": the first channel with them came up
  ContactView contact;
};
struct ContactOffline {  // "contact.offline": the last channel with them closed
  ContactView contact;
};
struct ContactBlocked {  // "contact.blocked"
  crypto::PublicKey key{};
  std::string id;
};
struct ContactRemoved {  // "contact.removed"
  crypto::PublicKey key{};
  std::string id;
};
struct MessageSent {  // "message.sent": queued or on its way
  MessageView message;
};
struct MessageReceived {  // "message.received": new (duplicates are not announced)
  MessageView message;
};
struct MessageDelivered {  // "message.delivered": a recipient's delivery receipt for our message
  std::string id;
  std::string by;  // kith ID
};
struct MessageRead {  // "message.read": a recipient's read receipt
  std::string id;
  std::string by;
};

struct AddressesChanged {  // "node.addresses": what we advertise changed (a public address learnt or lost)
  std::vector<std::string> addresses;
  NatStatus nat;
};

using Event = std::variant<ContactRequested, ContactAccepted, ContactOnline, ContactOffline, ContactBlocked,
                           ContactRemoved, MessageSent, MessageReceived, MessageDelivered, MessageRead,
                           AddressesChanged>;
using EventSink = std::function<void(const Event&)>;

}  // namespace kith::messaging
