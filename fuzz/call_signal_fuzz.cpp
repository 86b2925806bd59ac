// Fuzzes what a contact's node sends for a call (src/calls): a CallSignal frame body goes into a
// CallMachine that has a live call with that contact (answered, so offers, answers and candidates are
// taken), and the raw input is also read as an SDP and a candidate.
// Invariants: signals go only to the contact's one device; whatever reaches the local endpoint passes
// the checks again (an SDP with a fingerprint, a well-formed candidate inside the allowed networks);
// filter_sdp_candidates never grows its input; a group call's roster asks for at most 5 links, never
// to ourselves or the sender, and only for IDs that look like kith IDs.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "base/hex.hpp"
#include "calls/call_machine.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace kith::calls;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  static const Networks loopback = *Networks::parse({"127.0.0.0/8", "::1"});

  (void)check_sdp(input);
  if (auto address = check_candidate(input); address) (void)loopback.allows(*address);
  if (filter_sdp_candidates(input, loopback).size() > input.size()) std::abort();

  kith::wire::pb::CallSignal signal;
  if (!signal.ParseFromArray(data, static_cast<int>(size))) return 0;
  Limits limits;
  limits.ice_networks = loopback;
  limits.self_id = "alice";
  CallMachine machine(limits);
  Effects out;
  const std::string id = "0123456789abcdef0123456789abcdef";
  const Contact bob{"bob-id", "bob"};
  // A third of the inputs meet a call in a group call (rosters, links, invites for the room).
  const std::string room = size % 3 == 0 ? "fedcba9876543210fedcba9876543210" : "";
  if (!machine.place(id, bob, {"b1"}, false, 1000, out, room)) std::abort();
  kith::wire::pb::CallSignal accept;
  accept.set_call_id(*kith::base::from_hex(id));
  accept.set_kind(kith::wire::pb::CallSignal::ACCEPT);
  machine.remote(bob, "b1", accept, 1000, out);
  out.clear();
  // Half the inputs are aimed at the live call, the rest keep their own id (unknown calls, invites).
  if (size % 2 == 0) signal.set_call_id(*kith::base::from_hex(id));
  machine.remote(bob, "b1", signal, 2000, out);
  machine.remote(Contact{"mallory-id", "mallory"}, "m1", signal, 2000, out);
  machine.tick(100'000, out);
  std::size_t links = 0;
  for (const auto& e : out) {
    if (const auto* l = std::get_if<PlaceLink>(&e)) {
      if (++links > MAX_ROOM_CALLS || l->contact_id == "alice" || l->contact_id == "bob-id" ||
          l->room != room || l->contact_id.empty() || l->contact_id.size() > 64)
        std::abort();
    }
    if (const auto* s = std::get_if<SendSignal>(&e); s && (s->device != "b1" || s->contact_id != "bob-id"))
      if (s->contact_id != "mallory-id") std::abort();
    if (const auto* to = std::get_if<ToEndpoint>(&e)) {
      if (to->signal.type == "candidate") {
        auto address = check_candidate(to->signal.candidate);
        if (!address || !loopback.allows(*address)) std::abort();
      } else if (!check_sdp(to->signal.sdp)) {
        std::abort();
      }
    }
  }
  return 0;
}
