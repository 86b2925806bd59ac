#include "calls/call_machine.hpp"

#include <algorithm>
#include <cctype>
#include <utility>

#include "base/hex.hpp"
#include "calls/errors.hpp"

namespace kith::calls {
namespace {

using Kind = wire::pb::CallSignal;

Error error(errc code, std::string message) { return Error{make_error_code(code), std::move(message)}; }

std::string id_of(const wire::pb::CallSignal& s) { return base::to_hex(s.call_id()); }

std::string call_id_bytes(const std::string& hex) { return base::from_hex(hex).value_or(std::string()); }

// A kith ID as a ROSTER names it: its text form (base32), nothing else.
bool plausible_id(const std::string& id) {
  return !id.empty() && id.size() <= 64 &&
         std::all_of(id.begin(), id.end(), [](unsigned char c) { return std::isalnum(c) != 0; });
}

// Our end reason when the contact hung up with `code`.
std::string remote_end_reason(const std::string& code, bool answered) {
  if (code == "no-answer") return "no answer";
  if (code == "answered-elsewhere") return "answered on another device";
  if (code == "declined-elsewhere") return "declined on another device";
  if (code == "failed") return "the other side's media failed";
  if (code == "bad-signal") return "the other side refused our signalling";
  if (code == "glare") return "replaced: both called at once";
  return answered ? "the other side hung up" : "the caller hung up";
}

}  // namespace

const char* to_string(State s) {
  switch (s) {
    case State::calling:
      return "calling";
    case State::ringing:
      return "ringing";
    case State::connecting:
      return "connecting";
    case State::active:
      return "active";
    case State::ended:
      return "ended";
  }
  return "ended";
}

const char* to_string(Direction d) { return d == Direction::outgoing ? "outgoing" : "incoming"; }

std::string describe_hangup(const std::string& code) { return remote_end_reason(code, true); }

CallMachine::CallMachine(Limits limits) : m_limits(std::move(limits)) {}

CallMachine::Call* CallMachine::find(const std::string& id) {
  auto it = m_live.find(id);
  return it == m_live.end() ? nullptr : &it->second;
}

const CallMachine::Call* CallMachine::find(const std::string& id) const {
  if (auto it = m_live.find(id); it != m_live.end()) return &it->second;
  for (const auto& c : m_history)
    if (c.view.id == id) return &c;
  return nullptr;
}

CallMachine::Call* CallMachine::live_call() { return m_live.empty() ? nullptr : &m_live.begin()->second; }

bool CallMachine::in_room(const std::string& room) const {
  return std::any_of(m_live.begin(), m_live.end(), [&](const auto& entry) {
    const auto& v = entry.second.view;
    return v.room == room &&
           (v.direction == Direction::outgoing || v.state == State::connecting || v.state == State::active);
  });
}

std::size_t CallMachine::room_calls(const std::string& room) const {
  return static_cast<std::size_t>(
      std::count_if(m_live.begin(), m_live.end(), [&](const auto& e) { return e.second.view.room == room; }));
}

bool CallMachine::linked(const std::string& room, const std::string& contact_id) const {
  return std::any_of(m_live.begin(), m_live.end(), [&](const auto& e) {
    return e.second.view.room == room && e.second.view.contact.id == contact_id;
  });
}

// Each answered call of the room learns who else we are connected with (calls.md § Group calls).
void CallMachine::send_rosters(const std::string& room, Effects& out) const {
  std::vector<const Call*> answered;
  for (const auto& [id, call] : m_live)
    if (call.view.room == room && (call.view.state == State::connecting || call.view.state == State::active))
      answered.push_back(&call);
  for (const auto* call : answered) {
    wire::pb::CallSignal roster;
    roster.set_kind(Kind::ROSTER);
    for (const auto* other : answered)
      if (other->view.contact.id != call->view.contact.id) roster.add_members(other->view.contact.id);
    send(*call, call->device, std::move(roster), out);
  }
}

void CallMachine::changed(const Call& call, Effects& out) const { out.push_back(CallChanged{call.view}); }

void CallMachine::send(const Call& call, const std::string& device, wire::pb::CallSignal signal,
                       Effects& out) const {
  signal.set_call_id(call_id_bytes(call.view.id));
  out.push_back(SendSignal{call.view.contact.id, device, std::move(signal)});
}

void CallMachine::send_all(const Call& call, wire::pb::CallSignal::Kind kind, const std::string& reason,
                           Effects& out, const std::string& except) const {
  for (const auto& d : call.devices) {
    if (d == except) continue;
    wire::pb::CallSignal s;
    s.set_kind(kind);
    s.set_reason(reason);
    send(call, d, std::move(s), out);
  }
}

void CallMachine::end(Call& call, std::string reason, std::int64_t now, Effects& out) {
  const auto room = call.view.room;
  const bool was_answered = call.view.state == State::connecting || call.view.state == State::active;
  call.view.state = State::ended;
  call.view.ended_ms = now;
  call.view.end_reason = std::move(reason);
  call.inbox.clear();
  call.inbox.shrink_to_fit();
  changed(call, out);
  auto node = m_live.extract(call.view.id);
  m_history.push_front(std::move(node.mapped()));
  while (m_history.size() > m_limits.history) m_history.pop_back();
  if (!room.empty() && was_answered) send_rosters(room, out);
}

Result<CallView> CallMachine::place(const std::string& id, Contact contact, std::vector<std::string> devices,
                                    bool video, std::int64_t now, Effects& out, const std::string& room,
                                    bool link) {
  for (const auto& [other_id, other] : m_live)
    if (room.empty() || other.view.room != room)
      return tl::unexpected(error(errc::busy, "you are in a call with " + other.view.contact.name +
                                                  " (hang up first: kith hangup " + other_id + ")"));
  if (!room.empty() && linked(room, contact.id))
    return tl::unexpected(error(errc::busy, "you are in this group call with " + contact.name + " already"));
  if (!room.empty() && room_calls(room) >= MAX_ROOM_CALLS)
    return tl::unexpected(error(
        errc::busy, "the group call is full (" + std::to_string(MAX_ROOM_CALLS + 1) + " people at most)"));
  if (devices.empty())
    return tl::unexpected(error(errc::not_reachable, contact.name +
                                                         " is not reachable now (no open channel): try again "
                                                         "when `kith contacts` shows them online"));
  Call call;
  call.view.id = id;
  call.view.contact = std::move(contact);
  call.view.direction = Direction::outgoing;
  call.view.state = State::calling;
  call.view.video = video;
  call.view.started_ms = now;
  call.view.room = room;
  call.view.link = link;
  call.devices = std::move(devices);
  auto& c = m_live.emplace(id, std::move(call)).first->second;
  for (const auto& d : c.devices) {
    wire::pb::CallSignal s;
    s.set_kind(Kind::INVITE);
    s.set_video(video);
    if (!room.empty()) {
      s.set_room(call_id_bytes(room));
      s.set_link(link);
    }
    send(c, d, std::move(s), out);
  }
  changed(c, out);
  return c.view;
}

Status CallMachine::answer(const std::string& id, std::int64_t now, Effects& out) {
  auto* call = find(id);
  if (!call) {
    if (std::as_const(*this).find(id)) return tl::unexpected(error(errc::wrong_state, "the call has ended"));
    return tl::unexpected(error(errc::unknown_call, "no call " + id + " (see kith calls)"));
  }
  if (call->view.state != State::ringing)
    return tl::unexpected(error(errc::wrong_state,
                                std::string("the call is ") + to_string(call->view.state) + ", not ringing"));
  accept(*call, now, out);
  if (const auto room = call->view.room; !room.empty()) {
    // Two participants invited us: answering one joins the room, so the other is answered too.
    for (auto& [other_id, other] : m_live)
      if (other.view.room == room && other.view.state == State::ringing) accept(other, now, out);
    send_rosters(room, out);
  }
  return {};
}

void CallMachine::accept(Call& call, std::int64_t now, Effects& out) {
  call.view.state = State::connecting;
  call.view.answered_ms = now;
  call.device = call.devices.front();
  wire::pb::CallSignal s;
  s.set_kind(Kind::ACCEPT);
  send(call, call.device, std::move(s), out);
  changed(call, out);
}

std::size_t CallMachine::leave_room(const std::string& room, std::int64_t now, Effects& out) {
  std::vector<std::string> ids;
  for (const auto& [id, call] : m_live)
    if (call.view.room == room) ids.push_back(id);
  for (const auto& id : ids) (void)hangup(id, now, out);  // live: cannot fail
  return ids.size();
}

Status CallMachine::hangup(const std::string& id, std::int64_t now, Effects& out) {
  auto* call = find(id);
  if (!call) {
    if (std::as_const(*this).find(id)) return {};  // already ended: hanging up again is not an error
    return tl::unexpected(error(errc::unknown_call, "no call " + id + " (see kith calls)"));
  }
  switch (call->view.state) {
    case State::ringing:
      send_all(*call, Kind::DECLINE, "", out);
      end(*call, "declined", now, out);
      break;
    case State::calling:
      send_all(*call, Kind::HANGUP, "hangup", out);
      end(*call, "cancelled", now, out);
      break;
    default: {
      wire::pb::CallSignal s;
      s.set_kind(Kind::HANGUP);
      s.set_reason("hangup");
      send(*call, call->device, std::move(s), out);
      end(*call, "hung up", now, out);
    }
  }
  return {};
}

Status CallMachine::local_signal(const std::string& id, const std::string& type, const std::string& sdp,
                                 const std::string& candidate, std::uint32_t mline, Effects& out) {
  auto* call = find(id);
  if (!call) return tl::unexpected(error(errc::unknown_call, "no live call " + id));
  if (call->view.state != State::connecting && call->view.state != State::active)
    return tl::unexpected(error(errc::wrong_state, std::string("the call is ") + to_string(call->view.state) +
                                                       ": signals flow once it is answered"));
  if (call->sent >= m_limits.max_signals)
    return tl::unexpected(error(errc::wrong_state, "too many signals for one call"));
  wire::pb::CallSignal s;
  if (type == "offer" || type == "answer") {
    if (auto ok = check_sdp(sdp); !ok) return ok;
    s.set_kind(type == "offer" ? Kind::OFFER : Kind::ANSWER);
    s.set_sdp(filter_sdp_candidates(sdp, m_limits.ice_networks, m_limits.relay_only));
  } else if (type == "candidate") {
    auto address = check_candidate(candidate);
    if (!address) return tl::unexpected(address.error());
    if (!m_limits.ice_networks.allows(*address)) return {};  // kept to calls.ice_networks: dropped
    // "Always relay": our address never reaches the contact, even from an endpoint that ignored the
    // configuration's relay policy.
    if (m_limits.relay_only && candidate.find(" typ relay") == std::string::npos) return {};
    s.set_kind(Kind::CANDIDATE);
    s.set_candidate(candidate);
    s.set_mline(mline);
  } else {
    return tl::unexpected(
        Error{base::make_error_code(base::errc::bad_input), "type must be offer, answer or candidate"});
  }
  ++call->sent;  // counted when sent: candidates dropped above do not use up the limit
  send(*call, call->device, std::move(s), out);
  return {};
}

Status CallMachine::connected(const std::string& id, std::int64_t now, Effects& out) {
  auto* call = find(id);
  if (!call) return tl::unexpected(error(errc::unknown_call, "no live call " + id));
  if (call->view.state == State::active) return {};
  if (call->view.state != State::connecting)
    return tl::unexpected(
        error(errc::wrong_state, std::string("the call is ") + to_string(call->view.state)));
  call->view.state = State::active;
  call->view.connected_ms = now;
  changed(*call, out);
  return {};
}

Status CallMachine::failed(const std::string& id, const std::string& why, std::int64_t now, Effects& out) {
  auto* call = find(id);
  if (!call) return tl::unexpected(error(errc::unknown_call, "no live call " + id));
  if (call->device.empty())
    send_all(*call, Kind::HANGUP, "failed", out);
  else {
    wire::pb::CallSignal s;
    s.set_kind(Kind::HANGUP);
    s.set_reason("failed");
    send(*call, call->device, std::move(s), out);
  }
  end(*call, "media failed: " + why.substr(0, 200), now, out);
  return {};
}

void CallMachine::on_invite(const Contact& from, const std::string& device, const wire::pb::CallSignal& s,
                            std::int64_t now, Effects& out) {
  const auto id = id_of(s);
  if (std::as_const(*this).find(id)) return;               // a repeat
  if (!s.room().empty() && s.room().size() != 16) return;  // malformed: not a call we could answer
  const auto room = base::to_hex(s.room());
  Call call;
  call.view.id = id;
  call.view.contact = from;
  call.view.direction = Direction::incoming;
  call.view.state = State::ringing;
  call.view.video = s.video();
  call.view.started_ms = now;
  call.view.room = room;
  call.view.link = s.link();
  call.devices = {device};
  if (!room.empty() && in_room(room)) {
    // We chose to be in this group call: a participant's link (or a late joiner) is answered at once.
    if (linked(room, from.id) || room_calls(room) >= MAX_ROOM_CALLS) {
      wire::pb::CallSignal busy;
      busy.set_kind(Kind::BUSY);
      send(call, device, std::move(busy), out);
      return;
    }
    auto& c = m_live.emplace(id, std::move(call)).first->second;
    accept(c, now, out);
    send_rosters(room, out);
    return;
  }
  if (!room.empty() && s.link()) return;  // a link for a room this device is not in: another device's
  const bool same_room_rings = !room.empty() && std::all_of(m_live.begin(), m_live.end(), [&](const auto& e) {
    return e.second.view.room == room;  // only rings of this room (we are not in it yet)
  });
  if (auto* other = live_call(); other && !same_room_rings) {
    // Glare: we ring them while they ring us. Both keep the call with the smaller id.
    if (room.empty() && other->view.room.empty() && other->view.contact.id == from.id &&
        other->view.state == State::calling) {
      if (other->view.id < id) return;  // ours survives; they answer it
      other->view.replaced_by = id;
      send_all(*other, Kind::HANGUP, "glare", out);
      end(*other, "replaced: both called at once", now, out);
      m_live.emplace(id, std::move(call));
      (void)answer(id, now, out);  // cannot fail: the call rings; ringing -> connecting, ACCEPT sent
      return;
    }
    wire::pb::CallSignal busy;
    busy.set_kind(Kind::BUSY);
    send(call, device, std::move(busy), out);
    call.view.state = State::ended;
    call.view.ended_ms = now;
    call.view.end_reason = "missed: you were in another call";
    changed(call, out);
    m_history.push_front(std::move(call));
    while (m_history.size() > m_limits.history) m_history.pop_back();
    return;
  }
  auto& c = m_live.emplace(id, std::move(call)).first->second;
  wire::pb::CallSignal ringing;
  ringing.set_kind(Kind::RINGING);
  send(c, device, std::move(ringing), out);
  changed(c, out);
}

void CallMachine::remote(const Contact& from, const std::string& device, const wire::pb::CallSignal& s,
                         std::int64_t now, Effects& out) {
  if (s.call_id().size() != 16) return;  // not a call of ours or theirs: nothing to answer
  if (s.kind() == Kind::INVITE) return on_invite(from, device, s, now, out);
  auto* call = find(id_of(s));
  // Only the call's contact, and once answered only its one device, may move a call.
  if (!call || call->view.contact.id != from.id) return;
  if (!call->device.empty() && call->device != device) return;
  if (call->device.empty() &&
      std::find(call->devices.begin(), call->devices.end(), device) == call->devices.end())
    return;
  const bool outgoing_waiting =
      call->view.direction == Direction::outgoing && call->view.state == State::calling;
  switch (s.kind()) {
    case Kind::RINGING:
      if (outgoing_waiting && !call->view.remote_ringing) {
        call->view.remote_ringing = true;
        changed(*call, out);
      }
      break;
    case Kind::ACCEPT:
      if (!outgoing_waiting) break;
      call->device = device;
      call->view.state = State::connecting;
      call->view.answered_ms = now;
      send_all(*call, Kind::HANGUP, "answered-elsewhere", out, device);
      changed(*call, out);
      if (!call->view.room.empty()) send_rosters(call->view.room, out);
      break;
    case Kind::DECLINE:
      if (!outgoing_waiting) break;
      send_all(*call, Kind::HANGUP, "declined-elsewhere", out, device);
      end(*call, "declined", now, out);
      break;
    case Kind::BUSY:
      if (!outgoing_waiting) break;
      call->busy.insert(device);
      if (call->busy.size() == call->devices.size()) end(*call, "busy: in another call", now, out);
      break;
    case Kind::HANGUP:
      end(*call, remote_end_reason(s.reason(), call->view.answered_ms != 0), now, out);
      break;
    case Kind::OFFER:
    case Kind::ANSWER:
    case Kind::CANDIDATE:
      on_media_signal(*call, s, now, out);
      break;
    case Kind::ROSTER:
      on_roster(*call, s, out);
      break;
    default:
      break;
  }
}

void CallMachine::on_media_signal(Call& call, const wire::pb::CallSignal& s, std::int64_t now, Effects& out) {
  if (call.view.state != State::connecting && call.view.state != State::active) return;
  auto refuse = [&](const std::string& why) {
    wire::pb::CallSignal bye;
    bye.set_kind(Kind::HANGUP);
    bye.set_reason("bad-signal");
    send(call, call.device, std::move(bye), out);
    end(call, "ended: " + call.view.contact.name + " sent a bad signal (" + why + ")", now, out);
  };
  if (call.inbox.size() >= m_limits.max_signals) return refuse("too many signals");
  EndpointSignal e;
  e.seq = call.inbox.empty() ? 1 : call.inbox.back().seq + 1;
  if (s.kind() == Kind::CANDIDATE) {
    auto address = check_candidate(s.candidate());
    if (!address) return refuse(address.error().message);
    if (!m_limits.ice_networks.allows(*address)) return;  // outside calls.ice_networks: not used
    e.type = "candidate";
    e.candidate = s.candidate();
    e.mline = s.mline();
  } else {
    if (auto ok = check_sdp(s.sdp()); !ok) return refuse(ok.error().message);
    e.type = s.kind() == Kind::OFFER ? "offer" : "answer";
    e.sdp = filter_sdp_candidates(s.sdp(), m_limits.ice_networks);
  }
  call.inbox.push_back(e);
  out.push_back(ToEndpoint{call.view.id, std::move(e)});
}

void CallMachine::on_roster(Call& call, const wire::pb::CallSignal& s, Effects& out) {
  if (call.view.room.empty() || call.device.empty()) return;  // not a group call, or not answered
  if (static_cast<std::size_t>(s.members_size()) > MAX_ROOM_CALLS) return;
  if (!std::all_of(s.members().begin(), s.members().end(), plausible_id)) return;
  call.view.roster.assign(s.members().begin(), s.members().end());
  changed(call, out);
  for (const auto& member : call.view.roster) {
    if (member == m_limits.self_id || member == call.view.contact.id) continue;
    if (linked(call.view.room, member)) continue;
    // The smaller kith ID of the two places the link; the other waits for it.
    if (m_limits.self_id.empty() || !(m_limits.self_id < member)) continue;
    out.push_back(PlaceLink{call.view.room, member, call.view.video});
  }
}

void CallMachine::contact_offline(const std::string& contact_id, std::int64_t now, Effects& out) {
  for (auto it = m_live.begin(); it != m_live.end();) {
    auto& call = (it++)->second;  // end() moves the call out of m_live
    if (call.view.contact.id == contact_id && call.view.state != State::active)
      end(call, "the connection to " + call.view.contact.name + " was lost", now, out);
  }
}

void CallMachine::tick(std::int64_t now, Effects& out) {
  for (auto it = m_live.begin(); it != m_live.end();) {
    auto& call = (it++)->second;
    const auto& v = call.view;
    if ((v.state == State::calling || v.state == State::ringing) &&
        now - v.started_ms >= m_limits.ring_timeout.count()) {
      if (v.state == State::calling) send_all(call, Kind::HANGUP, "no-answer", out);
      end(call, v.direction == Direction::outgoing ? "no answer" : "missed", now, out);
    } else if (v.state == State::connecting && now - v.answered_ms >= m_limits.connect_timeout.count()) {
      wire::pb::CallSignal s;
      s.set_kind(Kind::HANGUP);
      s.set_reason("failed");
      send(call, call.device, std::move(s), out);
      end(call,
          "could not connect (no media path within " +
              std::to_string(m_limits.connect_timeout.count() / 1000) + " s)",
          now, out);
    }
  }
}

std::optional<std::int64_t> CallMachine::next_deadline() const {
  std::optional<std::int64_t> next;
  auto consider = [&](std::int64_t t) { next = next ? std::min(*next, t) : t; };
  for (const auto& [id, call] : m_live) {
    const auto& v = call.view;
    if (v.state == State::calling || v.state == State::ringing)
      consider(v.started_ms + m_limits.ring_timeout.count());
    if (v.state == State::connecting) consider(v.answered_ms + m_limits.connect_timeout.count());
  }
  return next;
}

std::vector<CallView> CallMachine::list() const {
  std::vector<CallView> out;
  for (const auto& [id, call] : m_live) out.push_back(call.view);
  for (const auto& call : m_history) out.push_back(call.view);
  return out;
}

void CallMachine::restore(std::vector<CallView> ended) {
  for (auto& view : ended) {
    if (m_history.size() >= m_limits.history) break;
    if (view.state != State::ended || std::as_const(*this).find(view.id)) continue;
    Call call;
    call.view = std::move(view);
    m_history.push_back(std::move(call));
  }
}

Result<CallView> CallMachine::get(const std::string& id) const {
  if (const auto* call = find(id)) return call->view;
  return tl::unexpected(error(errc::unknown_call, "no call " + id + " (see kith calls)"));
}

Result<std::vector<EndpointSignal>> CallMachine::signals(const std::string& id, std::uint64_t after) const {
  const auto* call = find(id);
  if (!call) return tl::unexpected(error(errc::unknown_call, "no call " + id + " (see kith calls)"));
  std::vector<EndpointSignal> out;
  for (const auto& s : call->inbox)
    if (s.seq > after) out.push_back(s);
  return out;
}

}  // namespace kith::calls
