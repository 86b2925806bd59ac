#pragma once
// What the Messenger answers and announces: typed views of contacts, messages and groups. They are
// copies made on the messenger's strand (safe to keep and read anywhere); src/api turns them into the
// JSON of docs/api.md (api/json_messaging.hpp).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "contacts/contact_book.hpp"
#include "crypto/sign.hpp"

namespace kith::messaging {

// How a contact was last reached or where it may be: a LAN beacon, the internet (a DHT record, or a
// public address), a static hint.
enum class Via { lan, internet, hint };

struct DiscoveredAddress {
  std::string address;  // "host:port"
  Via source = Via::lan;
};

struct ContactView {
  crypto::PublicKey key{};
  std::string id;  // kith ID
  std::string name;
  contacts::Relation relation = contacts::Relation::stranger;
  std::string note;                // their request's text (empty: none)
  std::vector<std::string> addrs;  // static hints
  std::int64_t added_at = 0;       // unix seconds
  std::int64_t last_seen = 0;      // unix seconds of the last channel; 0: never
  bool online = false;             // a channel with them is up (their Hello arrived)
  // While online: the channel's other end, whether it reaches us over the LAN (Via::lan) or not
  // (Via::internet), and whether they opened it.
  std::optional<std::string> address;
  std::optional<Via> via;
  std::optional<bool> incoming;
  // The channel's path: "direct", "hole-punched", "hole-punched-udp", "turn" or "relayed" (through a
  // contact's relay; still end-to-end TLS between us). net::to_string(net::Path).
  std::optional<std::string> path;
  // Addresses learnt in this run (LAN beacons, DHT records); absent when none was ever looked at.
  std::optional<std::vector<DiscoveredAddress>> discovered;
  std::optional<std::int64_t> unread;  // accepted contacts only
};

struct MessageView {
  enum class State { queued, delivered, read };
  std::string id;                 // 32 hex digits
  std::string conversation;       // a contact's kith ID or "group:<id>"
  std::string conversation_name;  // the contact's name, or "group:<name>"
  std::string author;             // kith ID
  std::string author_name;
  bool outgoing = false;
  std::int64_t seq = 0;
  std::int64_t sent_at = 0;      // unix ms, the author's clock
  std::int64_t received_at = 0;  // unix ms, ours
  std::string text;
  std::int64_t cursor = 0;  // the local order (rowid)
  // Incoming messages: read by us.
  bool read = false;
  // Outgoing messages: receipts so far.
  int delivered = 0;
  int recipients = 0;
  State state = State::queued;  // read once every recipient read it, delivered once every one has it
};

struct Receipt {
  std::string recipient;          // kith ID
  std::int64_t delivered_at = 0;  // unix ms; 0: still in the outbox
  std::int64_t read_at = 0;       // unix ms; 0: not read
};

struct MessageDetails {
  MessageView message;
  std::optional<std::vector<Receipt>> deliveries;  // absent when they could not be read
};

struct InboxPage {
  std::vector<MessageView> messages;  // oldest first
  std::int64_t cursor = 0;            // the highest cursor returned (or the `after` given)
};

struct MarkReadResult {
  std::string conversation;
  std::size_t read = 0;  // messages marked read
  int receipts = 0;      // read receipts sent or queued
};

struct GroupMember {
  std::string id;  // kith ID
  std::string name;
};

struct GroupView {
  std::string id;  // 32 hex digits
  std::string name;
  std::string creator;  // kith ID
  std::vector<GroupMember> members;
  std::int64_t created_at = 0;  // unix seconds
};

// What peers tell us about our public address (net/nat.hpp has the rules).
struct NatStatus {
  std::string type = "unknown";               // unknown | none | endpoint-independent | endpoint-dependent
  std::vector<std::string> public_addresses;  // where the Internet may reach our channel listener
  std::vector<std::string> public_ips;        // every public IP peers saw us at
  int observers = 0;                          // distinct public peers counted
};

// Relaying for contacts (docs/protocol/channel.md § Relays): what this node does for others, and how
// many of our own channels run through someone's relay.
struct RelayStatus {
  bool enabled = false;
  int circuits = 0;  // spliced now
  int waiting = 0;   // announced, the second half not arrived yet
  int max_circuits = 0;
  std::uint64_t bytes = 0;    // relayed since start, both directions
  std::uint64_t refused = 0;  // requests refused (off, not a contact, not connected, a cap)
  int relayed_channels = 0;   // our own channels that run through a relay now
};

// Reach through a TURN server (rendezvous.turn; turn.cpp).
struct TurnStatus {
  std::string server;   // "host:port"; empty: none set
  std::string state;    // connecting | allocated | failed: why
  std::string address;  // our relayed address on it, advertised while allocated
  int permits = 0;      // peer IPs the server lets in
  int channels = 0;     // our channels that run through it now
};

struct MessengerStatus {
  std::uint16_t port = 0;               // the channel listener's
  int contacts = 0;                     // accepted
  int online = 0;                       // people with a channel up
  int requests = 0;                     // incoming requests waiting
  std::int64_t outbox = 0;              // deliveries waiting for a receipt; -1 if the database could not say
  std::uint64_t refused_channels = 0;   // closed by policy, or failed their handshake
  std::uint64_t rejected_messages = 0;  // bad signature, wrong recipient, not a member
  NatStatus nat;
  RelayStatus relay;
  TurnStatus turn;
  std::vector<std::string> addresses;  // advertised now: interface addresses, then public ones
};

// An accepted contact to call, and its devices we have a channel with now (hex device keys).
struct CallTarget {
  std::string id;
  std::string name;
  std::vector<std::string> devices;
};

}  // namespace kith::messaging
