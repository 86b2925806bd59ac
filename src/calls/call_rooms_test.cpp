// Group calls (calls.md § Group calls): rooms as a mesh of calls, links placed by the smaller kith ID,
// joining late, leaving, busy and full rooms, rosters that are refused.
#include <gtest/gtest.h>

#include "base/hex.hpp"
#include "calls/call_machine.hpp"
#include "calls/call_test_net.hpp"

namespace kith::calls {
namespace {

using namespace testing;  // Net, Kind

const std::string ROOM = "0123456789abcdef0123456789abcdef";

// Live calls of `device` in `room`, by contact.
std::map<std::string, CallView> room_calls(Net& net, const std::string& device,
                                           const std::string& room = ROOM) {
  std::map<std::string, CallView> out;
  for (const auto& c : net.devices.at(device).machine.list())
    if (c.room == room && c.state != State::ended) out[c.contact.id] = c;
  return out;
}

std::vector<std::string> contacts_of(const std::map<std::string, CallView>& calls) {
  std::vector<std::string> out;
  for (const auto& [who, call] : calls) out.push_back(who);
  return out;
}

// Every participant's endpoint "connects" each of its calls of the room.
void connect_all(Net& net, const std::vector<std::string>& devices) {
  for (const auto& d : devices)
    for (const auto& [who, call] : room_calls(net, d))
      if (call.state == State::connecting) {
        ASSERT_TRUE(net.act(d, [&](auto& m, auto& o) { return m.connected(call.id, net.now, o); }));
      }
}

// alice starts a room with bob and carol, both answer: a mesh of three.
void start_three(Net& net) {
  net.add("alice", "alice");
  net.add("bob", "bob");
  net.add("carol", "carol");
  auto ab = net.place("alice", "bob", {"bob"}, false, ROOM);
  auto ac = net.place("alice", "carol", {"carol"}, false, ROOM);
  EXPECT_EQ(net.state("bob", ab.id), State::ringing);
  EXPECT_EQ(net.state("carol", ac.id), State::ringing);
  ASSERT_TRUE(net.act("bob", [&](auto& m, auto& o) { return m.answer(ab.id, net.now, o); }));
  ASSERT_TRUE(net.act("carol", [&](auto& m, auto& o) { return m.answer(ac.id, net.now, o); }));
  net.place_links();
}

TEST(CallRooms, ThreePeopleEndInAMeshWithEachPairCalledOnce) {
  Net net;
  start_three(net);
  EXPECT_EQ(contacts_of(room_calls(net, "alice")), (std::vector<std::string>{"bob", "carol"}));
  EXPECT_EQ(contacts_of(room_calls(net, "bob")), (std::vector<std::string>{"alice", "carol"}));
  EXPECT_EQ(contacts_of(room_calls(net, "carol")), (std::vector<std::string>{"alice", "bob"}));
  // bob < carol: bob placed the link, carol answered it at once (no ring).
  auto bc = room_calls(net, "bob").at("carol");
  EXPECT_TRUE(bc.link);
  EXPECT_EQ(bc.direction, Direction::outgoing);
  EXPECT_EQ(bc.state, State::connecting);
  EXPECT_EQ(room_calls(net, "carol").at("bob").state, State::connecting);
  EXPECT_EQ(room_calls(net, "carol").at("bob").id, bc.id);
  for (const auto& c : net.devices.at("carol").changes)
    if (c.id == bc.id) {
      EXPECT_NE(c.state, State::ringing) << "the link rang";
    }
  // The rosters say who else is there.
  EXPECT_EQ(room_calls(net, "bob").at("alice").roster, (std::vector<std::string>{"carol"}));
  connect_all(net, {"alice", "bob", "carol"});
  for (const auto* d : {"alice", "bob", "carol"})
    for (const auto& [who, call] : room_calls(net, d))
      EXPECT_EQ(call.state, State::active) << d << "-" << who;
}

TEST(CallRooms, OneWhoJoinsLateThroughAParticipantIsLinkedToEveryone) {
  Net net;
  start_three(net);
  connect_all(net, {"alice", "bob", "carol"});
  net.add("dave", "dave");
  // dave calls carol with the room: carol is in it and answers at once; alice and bob (smaller IDs
  // than dave's) learn of dave from carol's roster and link to him.
  auto dc = net.place("dave", "carol", {"carol"}, false, ROOM);
  EXPECT_EQ(net.state("carol", dc.id), State::connecting);
  net.place_links();
  EXPECT_EQ(contacts_of(room_calls(net, "dave")), (std::vector<std::string>{"alice", "bob", "carol"}));
  EXPECT_EQ(contacts_of(room_calls(net, "alice")), (std::vector<std::string>{"bob", "carol", "dave"}));
  EXPECT_EQ(contacts_of(room_calls(net, "bob")), (std::vector<std::string>{"alice", "carol", "dave"}));
  EXPECT_EQ(room_calls(net, "alice").at("dave").direction, Direction::outgoing);
}

TEST(CallRooms, LeavingEndsOnlyThatPersonsCalls) {
  Net net;
  start_three(net);
  connect_all(net, {"alice", "bob", "carol"});
  auto& carol = net.devices.at("carol").machine;
  Effects out;
  EXPECT_EQ(carol.leave_room(ROOM, net.now, out), 2u);
  net.take("carol", out);
  net.flush();
  EXPECT_TRUE(room_calls(net, "carol").empty());
  EXPECT_EQ(contacts_of(room_calls(net, "alice")), (std::vector<std::string>{"bob"}));
  EXPECT_EQ(contacts_of(room_calls(net, "bob")), (std::vector<std::string>{"alice"}));
  EXPECT_EQ(room_calls(net, "bob").at("alice").state, State::active);
  EXPECT_TRUE(room_calls(net, "bob").at("alice").roster.empty());  // alice's new roster: nobody else
  // carol may call back in: a participant answers at once.
  auto again = net.place("carol", "alice", {"alice"}, false, ROOM);
  EXPECT_EQ(net.state("alice", again.id), State::connecting);
  net.place_links();
  EXPECT_EQ(contacts_of(room_calls(net, "carol")), (std::vector<std::string>{"alice", "bob"}));
}

TEST(CallRooms, OthersAreBusyLinksForOtherDevicesAreIgnoredAndAFullRoomRefuses) {
  Net net;
  start_three(net);
  // A 1:1 ring while in a room: busy.
  net.add("erin", "erin");
  auto ring = net.place("erin", "alice", {"alice"});
  EXPECT_EQ(net.state("erin", ring.id), State::ended);
  EXPECT_EQ(net.reason("erin", ring.id), "busy: in another call");
  // Placing a 1:1 call from inside a room: busy too.
  Effects out;
  EXPECT_FALSE(net.devices.at("alice").machine.place(Net::next_id(), net.contact("erin"), {"erin"}, false,
                                                     net.now, out));
  // bob's second device, not in the room, gets a link INVITE: it neither rings nor answers.
  net.add("bob", "bob-phone");
  wire::pb::CallSignal link;
  link.set_kind(Kind::INVITE);
  link.set_call_id(std::string(16, 'x'));
  link.set_room(*base::from_hex(ROOM));
  link.set_link(true);
  auto& phone = net.devices.at("bob-phone").machine;
  phone.remote(net.contact("carol"), "carol", link, net.now, out);
  EXPECT_TRUE(out.empty());
  EXPECT_TRUE(phone.list().empty());
}

TEST(CallRooms, ARoomOfSixIsFull) {
  Net net;
  net.add("a", "a");
  for (const auto* p : {"b", "c", "d", "e", "f", "g"}) net.add(p, p);
  for (const auto* p : {"b", "c", "d", "e", "f"}) net.place("a", p, {p}, false, ROOM);
  Effects out;
  auto seventh =
      net.devices.at("a").machine.place(Net::next_id(), net.contact("g"), {"g"}, false, net.now, out, ROOM);
  ASSERT_FALSE(seventh);
  EXPECT_NE(seventh.error().message.find("full"), std::string::npos);
  // g joining through b, who answers: b is in the room; but a, who would link to g, is full (6 people).
  ASSERT_TRUE(
      net.act("b", [&](auto& m, auto& o) { return m.answer(room_calls(net, "b").at("a").id, net.now, o); }));
  auto gb = net.place("g", "b", {"b"}, false, ROOM);
  EXPECT_EQ(net.state("b", gb.id), State::connecting);
  net.place_links();
  EXPECT_EQ(room_calls(net, "a").size(), MAX_ROOM_CALLS);
  EXPECT_FALSE(room_calls(net, "g").count("a"));
}

TEST(CallRooms, BadRostersAreIgnored) {
  Net net;
  start_three(net);
  auto call = room_calls(net, "alice").at("bob");
  auto& alice = net.devices.at("alice").machine;
  auto roster = [&](std::vector<std::string> members) {
    wire::pb::CallSignal s;
    s.set_kind(Kind::ROSTER);
    s.set_call_id(*base::from_hex(call.id));
    for (auto& m : members) s.add_members(m);
    Effects out;
    alice.remote(net.contact("bob"), "bob", s, net.now, out);
    return out;
  };
  EXPECT_TRUE(roster({"c1", "c2", "c3", "c4", "c5", "c6"}).empty());  // more than 5
  EXPECT_TRUE(roster({"carol", "../x"}).empty());                     // not a kith ID
  EXPECT_TRUE(roster({std::string(65, 'z')}).empty());
  auto ok = roster({"carol", "zed"});  // zed is new to alice, and alice < zed: she links to him
  ASSERT_EQ(ok.size(), 2u);
  EXPECT_TRUE(std::holds_alternative<CallChanged>(ok[0]));
  ASSERT_TRUE(std::holds_alternative<PlaceLink>(ok[1]));
  EXPECT_EQ(std::get<PlaceLink>(ok[1]).contact_id, "zed");
  // A roster on a call that is not in a room means nothing.
  net.add("erin", "erin");
  net.add("frank", "frank");
  auto one = net.place("erin", "frank", {"frank"});
  ASSERT_TRUE(net.act("frank", [&](auto& m, auto& o) { return m.answer(one.id, net.now, o); }));
  wire::pb::CallSignal s;
  s.set_kind(Kind::ROSTER);
  s.set_call_id(*base::from_hex(one.id));
  s.add_members("zed");
  Effects out;
  net.devices.at("erin").machine.remote(net.contact("frank"), "frank", s, net.now, out);
  EXPECT_TRUE(out.empty());
}

}  // namespace
}  // namespace kith::calls
