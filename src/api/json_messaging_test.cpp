// The JSON of the messenger's views and events, byte for byte as docs/api.md shows it (and as the
// Messenger produced it before its views became typed): the CLI, the web UI and the tests read it.
#include "api/json_messaging.hpp"

#include <gtest/gtest.h>

using namespace kith;
using messaging::Via;

namespace {

messaging::ContactView offline_contact() {
  messaging::ContactView c;
  c.id = "KID";
  c.name = "alice";
  c.relation = contacts::Relation::outgoing;
  c.addrs = {"192.168.1.5:6882"};
  c.added_at = 1764170000;
  return c;
}

messaging::MessageView outgoing_message() {
  messaging::MessageView m;
  m.id = "M1";
  m.conversation = "KID";
  m.conversation_name = "alice";
  m.author = "ME";
  m.author_name = "bob";
  m.outgoing = true;
  m.seq = 3;
  m.sent_at = 1764170000123;
  m.received_at = 1764170000123;
  m.text = "hello";
  m.cursor = 42;
  m.delivered = 1;
  m.recipients = 1;
  m.state = messaging::MessageView::State::delivered;
  return m;
}

}  // namespace

TEST(JsonMessaging, ContactOfflineAndNeverSeen) {
  EXPECT_EQ(
      api::contact_json(offline_contact()).dump(),
      R"({"added_at":1764170000,"address":null,"addrs":["192.168.1.5:6882"],"id":"KID","last_seen":null,)"
      R"("name":"alice","online":false,"state":"outgoing","via":null})");
}

TEST(JsonMessaging, ContactOnlineWithEverything) {
  auto c = offline_contact();
  c.relation = contacts::Relation::accepted;
  c.note = "it's me";
  c.last_seen = 1764170500;
  c.online = true;
  c.address = "192.168.1.5:6882";
  c.via = Via::lan;
  c.incoming = false;
  c.discovered = std::vector<messaging::DiscoveredAddress>{
      {"192.168.1.5:6882", Via::lan}, {"203.0.113.9:6882", Via::internet}, {"h:1", Via::hint}};
  c.unread = 2;
  EXPECT_EQ(api::contact_json(c).dump(),
            R"({"added_at":1764170000,"address":"192.168.1.5:6882","addrs":["192.168.1.5:6882"],)"
            R"("discovered":[{"address":"192.168.1.5:6882","source":"lan"},)"
            R"({"address":"203.0.113.9:6882","source":"dht"},{"address":"h:1","source":"hint"}],)"
            R"("id":"KID","incoming":false,"last_seen":1764170500,"name":"alice","note":"it's me",)"
            R"("online":true,"state":"accepted","unread":2,"via":"lan"})");
  c.via = Via::internet;
  c.discovered = std::vector<messaging::DiscoveredAddress>{};
  auto j = api::contact_json(c);
  EXPECT_EQ(j["via"], "internet");
  EXPECT_EQ(j["discovered"].dump(), "[]");
  EXPECT_EQ(api::contacts_json({}).dump(), "[]");
}

TEST(JsonMessaging, Messages) {
  EXPECT_EQ(api::message_json(outgoing_message()).dump(),
            R"({"author":"ME","author_name":"bob","conversation":"KID","conversation_name":"alice",)"
            R"("cursor":42,"delivered":1,"id":"M1","outgoing":true,"received_at":1764170000123,)"
            R"("recipients":1,"sent_at":1764170000123,"seq":3,"status":"delivered","text":"hello"})");
  auto in = outgoing_message();
  in.outgoing = false;
  in.read = true;
  EXPECT_EQ(api::message_json(in).dump(),
            R"({"author":"ME","author_name":"bob","conversation":"KID","conversation_name":"alice",)"
            R"("cursor":42,"id":"M1","outgoing":false,"read":true,"received_at":1764170000123,)"
            R"("sent_at":1764170000123,"seq":3,"text":"hello"})");
  auto queued = outgoing_message();
  queued.state = messaging::MessageView::State::queued;
  EXPECT_EQ(api::message_json(queued)["status"], "queued");
  queued.state = messaging::MessageView::State::read;
  EXPECT_EQ(api::message_json(queued)["status"], "read");

  messaging::MessageDetails details{outgoing_message(), std::vector<messaging::Receipt>{{"KID", 5, 0}}};
  EXPECT_EQ(api::message_json(details)["deliveries"].dump(),
            R"([{"delivered_at":5,"read_at":null,"recipient":"KID"}])");
  details.deliveries.reset();
  EXPECT_FALSE(api::message_json(details).contains("deliveries"));

  messaging::InboxPage page{{outgoing_message()}, 42};
  auto inbox = api::inbox_json(page);
  EXPECT_EQ(inbox["cursor"], 42);
  EXPECT_EQ(inbox["messages"].size(), 1u);
  EXPECT_EQ(api::mark_read_json({"KID", 2, 1}).dump(), R"({"conversation":"KID","read":2,"receipts":1})");
}

TEST(JsonMessaging, GroupsAndStatus) {
  messaging::GroupView g{"G1", "trio", "ME", {{"ME", "bob"}, {"KID", "alice"}}, 1764170000};
  EXPECT_EQ(api::group_json(g).dump(),
            R"({"created_at":1764170000,"creator":"ME","id":"G1",)"
            R"("members":[{"id":"ME","name":"bob"},{"id":"KID","name":"alice"}],"name":"trio"})");
  EXPECT_EQ(api::groups_json({g}).size(), 1u);
  messaging::MessengerStatus s{6882, 2, 1, 3, -1, 4, 5};
  s.addresses = {"10.0.0.5:6882", "198.18.0.1:6882"};
  s.nat = {"endpoint-independent", {"198.18.0.1:6882"}, {"198.18.0.1"}, 2};
  s.relay.enabled = true;
  s.relay.max_circuits = 8;
  s.relay.bytes = 1000;
  EXPECT_EQ(api::messenger_status_json(s).dump(),
            R"({"addresses":["10.0.0.5:6882","198.18.0.1:6882"],"contacts":2,)"
            R"("nat":{"observers":2,"public_addresses":["198.18.0.1:6882"],"public_ips":["198.18.0.1"],)"
            R"("type":"endpoint-independent"},"online":1,"outbox":-1,"port":6882,)"
            R"("refused_channels":4,"rejected_messages":5,)"
            R"("relay":{"bytes":1000,"circuits":0,"enabled":true,"max_circuits":8,"refused":0,)"
            R"("relayed_channels":0,"waiting":0},"requests":3,)"
            R"("turn":{"address":"","channels":0,"permits":0,"server":"","state":""}})");
}

TEST(JsonMessaging, EventNamesAndData) {
  auto c = offline_contact();
  auto name = [](const messaging::Event& e) { return api::event_json(e).first; };
  EXPECT_EQ(name(messaging::ContactRequested{c}), "contact.request");
  EXPECT_EQ(name(messaging::ContactAccepted{c}), "contact.accepted");
  EXPECT_EQ(name(messaging::ContactOnline{c}), "contact.online");
  EXPECT_EQ(name(messaging::ContactOffline{c}), "contact.offline");
  EXPECT_EQ(api::event_json(messaging::ContactOnline{c}).second, api::contact_json(c));
  EXPECT_EQ(api::event_json(messaging::ContactBlocked{{}, "KID"}),
            std::make_pair(std::string("contact.blocked"), nlohmann::json{{"id", "KID"}}));
  EXPECT_EQ(api::event_json(messaging::ContactRemoved{{}, "KID"}),
            std::make_pair(std::string("contact.removed"), nlohmann::json{{"id", "KID"}}));
  EXPECT_EQ(name(messaging::MessageSent{outgoing_message()}), "message.sent");
  EXPECT_EQ(api::event_json(messaging::MessageReceived{outgoing_message()}).second,
            api::message_json(outgoing_message()));
  EXPECT_EQ(api::event_json(messaging::MessageReceived{outgoing_message()}).first, "message.received");
  EXPECT_EQ(api::event_json(messaging::MessageDelivered{"M1", "KID"}).second.dump(),
            R"({"by":"KID","id":"M1"})");
  EXPECT_EQ(api::event_json(messaging::MessageDelivered{"M1", "KID"}).first, "message.delivered");
  EXPECT_EQ(api::event_json(messaging::MessageRead{"M1", "KID"}).first, "message.read");
}
