#pragma once
// The calls of one node, as a state machine without I/O (docs/protocol/calls.md). Inputs are what
// the user does (place, answer, hang up), what the local media endpoint reports (its SDP and
// candidates, connected, failed), what contacts' devices signal, and the clock; outputs are
// Effects — signals to send to a contact's device, changed calls to announce, signals to hand to the
// local endpoint. CallService (call_service.hpp) runs it on a strand and carries the effects out.
//
//   outgoing: calling --ACCEPT--> connecting --connected()--> active --> ended
//   incoming: ringing --answer()--> connecting --connected()--> active --> ended
//
// Every state can end: hang-up by either side, decline, busy, no answer (ring_timeout), no media
// (connect_timeout), a contact's bad signal, the channel lost before the media ran. One live call at
// a time — or one group call (a room: calls sharing a room id, one per other participant, up to
// MAX_ROOM_CALLS) —: a ring for anything else gets BUSY. Glare (both call each other at once): the INVITE
// with the smaller call id survives; the side whose call lost answers the survivor at once, and its lost
// call names the survivor (`replaced_by`), so the endpoint that placed it follows the new id.
//
// Group calls (calls.md § Group calls): a node in a room answers the room's further calls at once,
// tells each participant who else it is connected with (ROSTER) whenever that changes, and asks for a
// link call (PlaceLink) to each participant it learns of and is not connected with, when its own kith
// ID is the smaller of the two — so each pair is called once.
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "base/error.hpp"
#include "calls/signal_checks.hpp"
#include "wire/kith.pb.h"

namespace kith::calls {

enum class State { calling, ringing, connecting, active, ended };
enum class Direction { outgoing, incoming };
const char* to_string(State s);
const char* to_string(Direction d);

struct Contact {
  std::string id;    // kith ID
  std::string name;  // display name (the contact book's)
};

// A signal for the local endpoint that runs the media: the contact's offer, answer or candidate.
struct EndpointSignal {
  std::uint64_t seq = 0;  // 1, 2, ... per call: endpoints ask for those after the last they took
  std::string type;       // "offer" | "answer" | "candidate"
  std::string sdp;        // offer, answer
  std::string candidate;  // candidate: "candidate:..."
  std::uint32_t mline = 0;
};

constexpr std::size_t MAX_ROOM_CALLS = 5;  // a mesh of 6 people: each node runs 5 peer connections

struct CallView {
  std::string id;  // 32 hex digits
  Contact contact;
  Direction direction = Direction::outgoing;
  State state = State::calling;
  bool video = false;
  bool remote_ringing = false;  // outgoing: a device of the contact rings
  std::int64_t started_ms = 0, answered_ms = 0, connected_ms = 0, ended_ms = 0;
  std::string end_reason;           // once ended: one line for people (e.g. "declined", "no answer")
  std::string replaced_by;          // ended by glare: the call that took its place
  std::string room;                 // group call: 32 hex digits, the same on every call of it; else empty
  bool link = false;                // a call between two participants of `room` (never rang)
  std::vector<std::string> roster;  // the contact's other participants, as their last ROSTER said
};

struct Limits {
  std::chrono::milliseconds ring_timeout{45'000};     // unanswered: "no answer"
  std::chrono::milliseconds connect_timeout{30'000};  // answered, media not running: "could not connect"
  std::size_t max_signals = 64;                       // per call and direction: offers, answers, candidates
  std::size_t history = 100;                          // ended calls listed by `kith calls` (the node also
                                                      // keeps them in state.sqlite, CallService::Deps::ended)
  Networks ice_networks;                              // candidates outside are dropped (calls.ice_networks)
  bool relay_only =
      false;            // our endpoint's candidates other than "typ relay" are not sent (calls.relay_only)
  std::string self_id;  // our kith ID: decides which of two participants places their link call
};

struct SendSignal {  // to one device of a contact
  std::string contact_id;
  std::string device;  // hex device key
  wire::pb::CallSignal signal;
};
struct CallChanged {  // "call.updated"
  CallView call;
};
struct ToEndpoint {  // "call.signal": for the local endpoint
  std::string call_id;
  EndpointSignal signal;
};
struct PlaceLink {  // a group call's participant we are not connected with: place a link call to them
  std::string room;
  std::string contact_id;
  bool video = false;
};
using Effect = std::variant<SendSignal, CallChanged, ToEndpoint, PlaceLink>;
using Effects = std::vector<Effect>;

class CallMachine {
 public:
  explicit CallMachine(Limits limits);

  // Our user calls `contact`, whose devices with an open channel are `devices`; with a `room`, as part
  // of that group call (`link`: a call between participants, which never rings). Errors: busy (we are
  // in another call, the room is full, or a link exists already), not_reachable (no device).
  Result<CallView> place(const std::string& id, Contact contact, std::vector<std::string> devices, bool video,
                         std::int64_t now, Effects& out, const std::string& room = {}, bool link = false);
  Status answer(const std::string& id, std::int64_t now, Effects& out);  // a ringing incoming call
  // Ends a live call: declines a ringing one, cancels an outgoing one, hangs up otherwise.
  Status hangup(const std::string& id, std::int64_t now, Effects& out);
  // The local endpoint's offer/answer/candidate for the contact.
  Status local_signal(const std::string& id, const std::string& type, const std::string& sdp,
                      const std::string& candidate, std::uint32_t mline, Effects& out);
  Status connected(const std::string& id, std::int64_t now, Effects& out);  // media runs (ICE + DTLS)
  Status failed(const std::string& id, const std::string& why, std::int64_t now, Effects& out);

  // A signal from device `device` of accepted contact `from`.
  void remote(const Contact& from, const std::string& device, const wire::pb::CallSignal& signal,
              std::int64_t now, Effects& out);
  // The contact's last channel closed: calls not yet active end (an active call's media may go on).
  void contact_offline(const std::string& contact_id, std::int64_t now, Effects& out);
  void tick(std::int64_t now, Effects& out);
  // When tick() next has something to do; none while no call is live.
  std::optional<std::int64_t> next_deadline() const;

  // Leaves a group call: hangs up each of its live calls. Answers how many there were.
  std::size_t leave_room(const std::string& room, std::int64_t now, Effects& out);
  std::vector<CallView> list() const;  // live calls first, then the history, newest first
  // Ended calls from before a restart (newest first), behind any ended since: the history we start with.
  void restore(std::vector<CallView> ended);
  Result<CallView> get(const std::string& id) const;
  // The contact's signals for the local endpoint with seq > after.
  Result<std::vector<EndpointSignal>> signals(const std::string& id, std::uint64_t after) const;

 private:
  struct Call {
    CallView view;
    std::vector<std::string> devices;  // invited (outgoing) or the caller's (incoming)
    std::string device;                // the one device the call runs with, once answered
    std::set<std::string> busy;        // outgoing: devices that said BUSY
    std::vector<EndpointSignal> inbox;
    std::size_t sent = 0;  // signals our endpoint sent
  };
  Call* find(const std::string& id);
  const Call* find(const std::string& id) const;
  Call* live_call();
  bool in_room(const std::string& room) const;  // a live call of it that we placed or that is answered
  std::size_t room_calls(const std::string& room) const;
  bool linked(const std::string& room, const std::string& contact_id) const;  // a live call in it with them
  void send_rosters(const std::string& room, Effects& out) const;
  void on_roster(Call& call, const wire::pb::CallSignal& s, Effects& out);
  void accept(Call& call, std::int64_t now, Effects& out);  // ringing -> connecting, ACCEPT sent
  void end(Call& call, std::string reason, std::int64_t now, Effects& out);
  void send(const Call& call, const std::string& device, wire::pb::CallSignal signal, Effects& out) const;
  void send_all(const Call& call, wire::pb::CallSignal::Kind kind, const std::string& reason, Effects& out,
                const std::string& except = {}) const;
  void changed(const Call& call, Effects& out) const;
  void on_invite(const Contact& from, const std::string& device, const wire::pb::CallSignal& s,
                 std::int64_t now, Effects& out);
  void on_media_signal(Call& call, const wire::pb::CallSignal& s, std::int64_t now, Effects& out);

  Limits m_limits;
  std::map<std::string, Call> m_live;  // at most a few: one running, the rest ending within this call
  std::deque<Call> m_history;          // newest first
};

// "hangup", "no-answer", ...: the reason codes of CallSignal.reason, and what they mean to people.
std::string describe_hangup(const std::string& code);

}  // namespace kith::calls
