// Messenger: reaching a contact without a direct path — relays through a mutual contact, the
// doorbell that makes an unreachable person dial back, the router's port forward advertised, a
// request's channel that outlives its timeout (the harness: messenger_harness.hpp).
#include "messaging/messenger_harness.hpp"

using namespace kith;
using namespace kith::messenger_test;

TEST(Messenger, AMutualContactRelaysWhenThereIsNoDirectPath) {
  Person alice("alice"), bob("bob"), carol("carol");
  // Neither tells anyone an address: on loopback one would otherwise dial the other directly once
  // their Hellos arrived, and the direct channel would replace the relayed one (as it should).
  bob.reachable = carol.reachable = false;
  Running a(alice), b(bob), c(carol);
  befriend(b, bob, a, alice);
  befriend(c, carol, a, alice);

  auto asked = add_contact(c, bob.id(), "carol here");
  ASSERT_TRUE(asked) << asked.error().message;
  auto requested = b.events.wait<messaging::ContactRequested>(1, "bob gets carol's request through alice");
  EXPECT_EQ(requested[0].contact.id, carol.id());
  EXPECT_EQ(requested[0].contact.note, "carol here");
  value(accept(b, carol.id()));
  eventually([&] { return value(contact(c, bob.id())).online; }, "carol sees bob online");
  const auto seen = value(contact(c, bob.id()));
  EXPECT_EQ(seen.path, std::optional<std::string>("relayed"));
  EXPECT_EQ(seen.via, std::optional<messaging::Via>(messaging::Via::internet));

  value(send(c, bob.id(), "through the relay"));
  value(send(b, carol.id(), "and back"));
  eventually([&] { return value(inbox(b, carol.id())).messages.size() == 2; }, "both messages at bob");
  eventually([&] { return value(inbox(c, bob.id())).messages.size() == 2; }, "both messages at carol");
  std::set<std::string> at_bob;
  for (const auto& m : value(inbox(b, carol.id())).messages) at_bob.insert(m.text);
  EXPECT_EQ(at_bob, (std::set<std::string>{"through the relay", "and back"}));

  const auto relay = status(a).relay;
  EXPECT_TRUE(relay.enabled);
  EXPECT_EQ(relay.circuits, 1);
  EXPECT_EQ(status(c).relay.relayed_channels, 1);
  EXPECT_EQ(status(b).relay.relayed_channels, 1);
}

TEST(Messenger, ARelayThatIsOffRefusesAndNothingArrives) {
  Person alice("alice"), bob("bob"), carol("carol");
  alice.relay = false;
  Running a(alice), b(bob), c(carol);
  befriend(b, bob, a, alice);
  befriend(c, carol, a, alice);
  value(add_contact(c, bob.id()));
  eventually([&] { return status(a).relay.refused >= 1; }, "alice refuses to relay");
  EXPECT_TRUE(b.events.of<messaging::ContactRequested>().empty());
  EXPECT_EQ(status(a).relay.circuits, 0);
}

// The channel a request arrived on is held open for the answer; once accepted it is an ordinary
// channel, which the request-mode timeout must not close (it did, 10 s after every request).
TEST(Messenger, AnAcceptedRequestsChannelOutlivesTheRequestTimeout) {
  Person alice("alice"), bob("bob");
  alice.request_only_timeout = 300ms;
  Running a(alice), b(bob);
  befriend(b, bob, a, alice);  // bob asks on his channel to alice; alice accepts at once
  std::this_thread::sleep_for(900ms);
  EXPECT_TRUE(a.events.of<messaging::ContactOffline>().empty()) << "the accepted channel was closed";
  EXPECT_TRUE(value(contact(a, bob.id())).online);
  value(send(b, alice.id(), "still here"));
  eventually([&] { return value(inbox(a, bob.id())).messages.size() == 1; }, "the message on that channel");
}

// The doorbell's messenger side (the DHT side is rendezvous::Doorbell, tested in rendezvous): alice
// holds the invite of bob, who is behind a NAT (no address); she rings his bell; his doorbell hears her
// address and his messenger dials her; her request travels on that channel.
TEST(Messenger, AnUnreachablePersonDialsBackWhoeverRangTheirBell) {
  Person alice("alice"), bob("bob");
  bob.reachable = false;
  bob.bell = "mfrggzdfmztwq2lknnwg23tpoa";  // 16 bytes in base32, as invites carry bells
  Running a(alice), b(bob);
  const auto invite = b.invite();
  ASSERT_NE(invite.find("bell=" + bob.bell), std::string::npos) << invite;
  value(add_contact(a, invite, "ring ring"));
  eventually([&] { return a.ringing() == std::vector<std::string>{bob.bell}; }, "alice rings bob's bell");

  b.m->answer_rings(
      {"127.0.0.1:" + std::to_string(alice.port), "not an address", "127.0.0.1:" + std::to_string(bob.port)});
  auto requested = b.events.wait<messaging::ContactRequested>(1, "alice's request on bob's dial back");
  EXPECT_EQ(requested[0].contact.id, alice.id());
  EXPECT_EQ(requested[0].contact.note, "ring ring");
  value(accept(b, alice.id()));
  a.events.wait<messaging::ContactAccepted>(1, "alice hears bob accepted");
  eventually([&] { return value(contact(a, bob.id())).online; }, "alice sees bob online");
  eventually([&] { return a.ringing().empty(); }, "alice stops ringing once bob is online");
  value(send(a, bob.id(), "hello through the doorbell"));
  eventually([&] { return value(inbox(b, alice.id())).messages.size() == 1; }, "the message at bob");
}

// A router's port forward (UPnP/NAT-PMP through libtorrent: swarm::SessionHost::map_port) is advertised
// to contacts and in invites; a private one (a router behind a carrier-grade NAT) is not.
TEST(Messenger, AdvertisesTheRoutersPortForward) {
  Person alice("alice");
  Running a(alice);
  a.m->set_router_address("100.64.0.2:6882");  // behind a CGN: useless outside it
  a.m->set_router_address("not an address");
  a.m->set_router_address("198.51.100.7:6882");
  eventually(
      [&] {
        auto addrs = a.m->addresses();
        return std::find(addrs.begin(), addrs.end(), "198.51.100.7:6882") != addrs.end();
      },
      "the forwarded address advertised");
  const auto addrs = a.m->addresses();
  EXPECT_EQ(std::count(addrs.begin(), addrs.end(), "100.64.0.2:6882"), 0);
  EXPECT_NE(a.invite().find("addr=198.51.100.7%3A6882"), std::string::npos) << a.invite();
  auto moved = a.events.wait<messaging::AddressesChanged>(1, "node.addresses");
  EXPECT_EQ(moved.back().addresses, addrs);
}
