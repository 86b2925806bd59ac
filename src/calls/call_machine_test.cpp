#include "calls/call_machine.hpp"

#include <gtest/gtest.h>

#include "base/hex.hpp"
#include "calls/call_test_net.hpp"

namespace kith::calls {
namespace {

using namespace testing;  // Net, SDP, CANDIDATE, Kind

TEST(CallMachine, ACallRingsIsAnsweredCarriesSignalsAndEndsOnBothSides) {
  Net net;
  net.add("alice", "a1");
  net.add("bob", "b1");
  auto call = net.place("a1", "bob", {"b1"}, true);
  EXPECT_EQ(net.state("a1", call.id), State::calling);
  EXPECT_EQ(net.state("b1", call.id), State::ringing);
  EXPECT_TRUE(net.devices.at("a1").machine.get(call.id)->remote_ringing);
  EXPECT_TRUE(net.devices.at("b1").machine.get(call.id)->video);
  EXPECT_EQ(net.devices.at("b1").machine.get(call.id)->contact.id, "alice");
  // Signals before the answer are refused.
  EXPECT_FALSE(
      net.act("a1", [&](auto& m, auto& o) { return m.local_signal(call.id, "offer", SDP, "", 0, o); }));

  ASSERT_TRUE(net.act("b1", [&](auto& m, auto& o) { return m.answer(call.id, net.now, o); }));
  EXPECT_EQ(net.state("a1", call.id), State::connecting);
  EXPECT_EQ(net.state("b1", call.id), State::connecting);

  ASSERT_TRUE(
      net.act("a1", [&](auto& m, auto& o) { return m.local_signal(call.id, "offer", SDP, "", 0, o); }));
  ASSERT_TRUE(net.act(
      "a1", [&](auto& m, auto& o) { return m.local_signal(call.id, "candidate", "", CANDIDATE, 0, o); }));
  ASSERT_TRUE(
      net.act("b1", [&](auto& m, auto& o) { return m.local_signal(call.id, "answer", SDP, "", 0, o); }));
  auto& bob_endpoint = net.devices.at("b1").endpoint;
  ASSERT_EQ(bob_endpoint.size(), 2u);
  EXPECT_EQ(bob_endpoint[0].signal.type, "offer");
  EXPECT_EQ(bob_endpoint[0].signal.seq, 1u);
  EXPECT_EQ(bob_endpoint[1].signal.candidate, CANDIDATE);
  EXPECT_EQ(net.devices.at("a1").endpoint.at(0).signal.type, "answer");
  // An endpoint that polls gets the same, after a cursor.
  auto later = net.devices.at("b1").machine.signals(call.id, 1);
  ASSERT_TRUE(later);
  ASSERT_EQ(later->size(), 1u);
  EXPECT_EQ(later->front().type, "candidate");

  ASSERT_TRUE(net.act("a1", [&](auto& m, auto& o) { return m.connected(call.id, net.now, o); }));
  EXPECT_EQ(net.state("a1", call.id), State::active);
  ASSERT_TRUE(net.act("b1", [&](auto& m, auto& o) { return m.hangup(call.id, net.now, o); }));
  EXPECT_EQ(net.state("a1", call.id), State::ended);
  EXPECT_EQ(net.reason("a1", call.id), "the other side hung up");
  EXPECT_EQ(net.reason("b1", call.id), "hung up");
  // Hanging up an ended call again is harmless; a new call is possible.
  EXPECT_TRUE(net.act("a1", [&](auto& m, auto& o) { return m.hangup(call.id, net.now, o); }));
  auto next = net.place("a1", "bob", {"b1"});
  EXPECT_EQ(net.state("b1", next.id), State::ringing);
}

TEST(CallMachine, DeclineAndCancel) {
  Net net;
  net.add("alice", "a1");
  net.add("bob", "b1");
  auto call = net.place("a1", "bob", {"b1"});
  ASSERT_TRUE(net.act("b1", [&](auto& m, auto& o) { return m.hangup(call.id, net.now, o); }));
  EXPECT_EQ(net.reason("a1", call.id), "declined");
  EXPECT_EQ(net.reason("b1", call.id), "declined");
  auto second = net.place("a1", "bob", {"b1"});
  ASSERT_TRUE(net.act("a1", [&](auto& m, auto& o) { return m.hangup(second.id, net.now, o); }));
  EXPECT_EQ(net.reason("a1", second.id), "cancelled");
  EXPECT_EQ(net.reason("b1", second.id), "the caller hung up");
}

TEST(CallMachine, BusyWhenTheCalleeIsInAnotherCallAndWeCannotPlaceTwo) {
  Net net;
  net.add("alice", "a1");
  net.add("bob", "b1");
  net.add("carol", "c1");
  auto first = net.place("c1", "bob", {"b1"});
  ASSERT_TRUE(net.act("b1", [&](auto& m, auto& o) { return m.answer(first.id, net.now, o); }));
  auto call = net.place("a1", "bob", {"b1"});
  EXPECT_EQ(net.reason("a1", call.id), "busy: in another call");
  EXPECT_EQ(net.reason("b1", call.id), "missed: you were in another call");
  EXPECT_EQ(net.state("b1", first.id), State::connecting);  // the running call goes on
  Effects out;
  auto again = net.devices.at("b1").machine.place("ff000000000000000000000000000000", net.contact("alice"),
                                                  {"a1"}, false, net.now, out);
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().message.find("you are in a call"), std::string::npos);
}

TEST(CallMachine, UnansweredAndUnconnectedCallsTimeOut) {
  Net net;
  net.add("alice", "a1");
  net.add("bob", "b1");
  auto call = net.place("a1", "bob", {"b1"});
  EXPECT_EQ(*net.devices.at("a1").machine.next_deadline(), net.now + 45'000);
  net.now += 45'000;
  EXPECT_TRUE(net.act("b1", [&](auto& m, auto& o) {
    m.tick(net.now, o);
    return Status{};
  }));
  EXPECT_TRUE(net.act("a1", [&](auto& m, auto& o) {
    m.tick(net.now, o);
    return Status{};
  }));
  EXPECT_EQ(net.reason("a1", call.id), "no answer");
  EXPECT_EQ(net.reason("b1", call.id), "missed");
  EXPECT_FALSE(net.devices.at("a1").machine.next_deadline());

  auto second = net.place("a1", "bob", {"b1"});
  EXPECT_TRUE(net.act("b1", [&](auto& m, auto& o) { return m.answer(second.id, net.now, o); }));
  net.now += 30'000;
  EXPECT_TRUE(net.act("a1", [&](auto& m, auto& o) {
    m.tick(net.now, o);
    return Status{};
  }));
  EXPECT_NE(net.reason("a1", second.id).find("could not connect"), std::string::npos);
  EXPECT_EQ(net.state("b1", second.id), State::ended);
}

TEST(CallMachine, GlareKeepsTheCallWithTheSmallerIdOnBothSides) {
  Net net;
  net.add("alice", "a1");
  net.add("bob", "b1");
  // Both place before either INVITE arrives.
  Effects a_out, b_out;
  const std::string small = "00000000000000000000000000000001", big = "00000000000000000000000000000002";
  ASSERT_TRUE(net.devices.at("a1").machine.place(big, net.contact("bob"), {"b1"}, false, net.now, a_out));
  ASSERT_TRUE(net.devices.at("b1").machine.place(small, net.contact("alice"), {"a1"}, false, net.now, b_out));
  net.take("a1", a_out);
  net.take("b1", b_out);
  net.flush();
  EXPECT_EQ(net.state("a1", big), State::ended);
  EXPECT_EQ(net.devices.at("a1").machine.get(big)->replaced_by, small);
  EXPECT_EQ(net.state("a1", small), State::connecting);
  EXPECT_EQ(net.devices.at("a1").machine.get(small)->direction, Direction::incoming);
  EXPECT_EQ(net.state("b1", small), State::connecting);
  EXPECT_FALSE(net.devices.at("b1").machine.get(big));  // bob never rang for alice's lost call
}

TEST(CallMachine, EveryDeviceRingsAndTheFirstToAnswerTakesTheCall) {
  Net net;
  net.add("alice", "a1");
  net.add("bob", "b1");
  net.add("bob", "b2");
  auto call = net.place("a1", "bob", {"b1", "b2"});
  EXPECT_EQ(net.state("b1", call.id), State::ringing);
  EXPECT_EQ(net.state("b2", call.id), State::ringing);
  ASSERT_TRUE(net.act("b2", [&](auto& m, auto& o) { return m.answer(call.id, net.now, o); }));
  EXPECT_EQ(net.state("a1", call.id), State::connecting);
  EXPECT_EQ(net.reason("b1", call.id), "answered on another device");
  // Only the device that answered may signal now.
  Effects out;
  wire::pb::CallSignal s;
  s.set_call_id(std::string(16, '\0'));
  wire::pb::CallSignal hangup;
  hangup.set_call_id(*base::from_hex(call.id));
  hangup.set_kind(Kind::HANGUP);
  net.devices.at("a1").machine.remote(net.contact("bob"), "b1", hangup, net.now, out);
  EXPECT_EQ(net.state("a1", call.id), State::connecting);
  // And not someone else in the device's name.
  net.devices.at("a1").machine.remote(net.contact("mallory"), "b2", hangup, net.now, out);
  EXPECT_EQ(net.state("a1", call.id), State::connecting);
  net.devices.at("a1").machine.remote(net.contact("bob"), "b2", hangup, net.now, out);
  EXPECT_EQ(net.state("a1", call.id), State::ended);
}

TEST(CallMachine, ABadSignalEndsTheCallOnBothSidesWithAClearReason) {
  Net net;
  net.add("alice", "a1");
  net.add("bob", "b1");
  auto call = net.place("a1", "bob", {"b1"});
  EXPECT_TRUE(net.act("b1", [&](auto& m, auto& o) { return m.answer(call.id, net.now, o); }));
  wire::pb::CallSignal evil;
  evil.set_call_id(*base::from_hex(call.id));
  evil.set_kind(Kind::OFFER);
  evil.set_sdp("v=0\r\nm=audio 9 RTP 0\r\n");  // no fingerprint
  Effects out;
  net.devices.at("b1").machine.remote(net.contact("alice"), "a1", evil, net.now, out);
  net.take("b1", out);
  net.flush();
  EXPECT_NE(net.reason("b1", call.id).find("sent a bad signal (the session description has no DTLS"),
            std::string::npos);
  EXPECT_EQ(net.reason("a1", call.id), "the other side refused our signalling");
  EXPECT_TRUE(net.devices.at("b1").endpoint.empty());  // nothing reached the endpoint
}

TEST(CallMachine, CandidatesOutsideTheAllowedNetworksAreDropped) {
  Net net;
  Limits only_loopback;
  only_loopback.ice_networks = *Networks::parse({"127.0.0.0/8"});
  net.add("alice", "a1", only_loopback);
  net.add("bob", "b1", only_loopback);
  auto call = net.place("a1", "bob", {"b1"});
  EXPECT_TRUE(net.act("b1", [&](auto& m, auto& o) { return m.answer(call.id, net.now, o); }));
  EXPECT_TRUE(net.act("a1", [&](auto& m, auto& o) {
    return m.local_signal(call.id, "candidate", "", "candidate:1 1 udp 2 192.168.1.9 5000 typ host", 0, o);
  }));
  EXPECT_TRUE(net.wire.empty());
  EXPECT_TRUE(net.devices.at("b1").endpoint.empty());
  EXPECT_TRUE(net.act(
      "a1", [&](auto& m, auto& o) { return m.local_signal(call.id, "candidate", "", CANDIDATE, 0, o); }));
  EXPECT_EQ(net.devices.at("b1").endpoint.size(), 1u);
}

TEST(CallMachine, AlwaysRelaySendsOnlyRelayedCandidates) {
  Net net;
  Limits relay;
  relay.relay_only = true;
  net.add("alice", "a1", relay);
  net.add("bob", "b1");
  auto call = net.place("a1", "bob", {"b1"});
  EXPECT_TRUE(net.act("b1", [&](auto& m, auto& o) { return m.answer(call.id, net.now, o); }));
  const std::string relayed = "candidate:3 1 udp 5 198.51.100.9 49152 typ relay raddr 0.0.0.0 rport 0";
  for (const auto& c : {CANDIDATE, relayed})
    EXPECT_TRUE(
        net.act("a1", [&](auto& m, auto& o) { return m.local_signal(call.id, "candidate", "", c, 0, o); }));
  EXPECT_TRUE(net.act("a1", [&](auto& m, auto& o) {
    return m.local_signal(call.id, "offer", SDP + "a=candidate:" + CANDIDATE.substr(10) + "\r\n", "", 0, o);
  }));
  const auto& got = net.devices.at("b1").endpoint;
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].signal.candidate, relayed);
  EXPECT_EQ(got[1].signal.sdp.find("127.0.0.1 50001"), std::string::npos);
}

TEST(CallMachine, NotReachableAndUnknownCalls) {
  Net net;
  net.add("alice", "a1");
  Effects out;
  auto call = net.devices.at("a1").machine.place("00000000000000000000000000000009", net.contact("bob"), {},
                                                 false, net.now, out);
  ASSERT_FALSE(call);
  EXPECT_NE(call.error().message.find("not reachable"), std::string::npos);
  EXPECT_FALSE(net.devices.at("a1").machine.answer("nope", net.now, out));
  // Signals for calls that do not exist, or with a malformed id, do nothing.
  wire::pb::CallSignal s;
  s.set_call_id("short");
  s.set_kind(Kind::INVITE);
  net.devices.at("a1").machine.remote(net.contact("bob"), "b1", s, net.now, out);
  EXPECT_TRUE(out.empty());
  EXPECT_TRUE(net.devices.at("a1").machine.list().empty());
}

TEST(CallMachine, ALostChannelEndsACallThatIsNotRunningYet) {
  Net net;
  net.add("alice", "a1");
  net.add("bob", "b1");
  auto call = net.place("a1", "bob", {"b1"});
  Effects out;
  net.devices.at("a1").machine.contact_offline("bob", net.now, out);
  EXPECT_EQ(net.reason("a1", call.id), "the connection to bob-name was lost");
}

TEST(CallMachine, HistoryFromBeforeARestartComesAfterNewCalls) {
  Net net;
  auto& a = net.add("alice", "a1");
  net.add("bob", "b1");
  CallView old;
  old.id = "00000000000000000000000000000042";
  old.contact = net.contact("bob");
  old.state = State::ended;
  old.end_reason = "missed";
  CallView live = old;
  live.id = "00000000000000000000000000000043";
  live.state = State::active;  // not an ended call: not history
  a.machine.restore({old, live});
  auto call = net.place("a1", "bob", {"b1"});
  ASSERT_TRUE(net.act("a1", [&](auto& m, auto& o) { return m.hangup(call.id, net.now, o); }));
  auto list = a.machine.list();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].id, call.id);
  EXPECT_EQ(list[1].id, old.id);
  EXPECT_EQ(list[1].end_reason, "missed");
}

}  // namespace
}  // namespace kith::calls
