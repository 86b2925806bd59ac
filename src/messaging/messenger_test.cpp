// Messenger: contact requests, messages and receipts, offline delivery, strangers and blocked
// contacts, call signals, groups, file offers, the sink calling back, bad calls (the harness:
// messenger_harness.hpp).
#include "messaging/messenger_harness.hpp"

using namespace kith;
using namespace kith::messenger_test;

TEST(Messenger, RequestAcceptMessagesAndReceipts) {
  Person alice("alice"), bob("bob");
  Running a(alice), b(bob);

  auto asked = add_contact(a, b.invite(), "hello bob");
  ASSERT_TRUE(asked) << asked.error().message;
  EXPECT_EQ(asked->relation, contacts::Relation::outgoing);
  EXPECT_EQ(asked->name, "bob");  // from the invite
  auto requested = b.events.wait<messaging::ContactRequested>(1, "bob gets the request");
  EXPECT_EQ(requested[0].contact.id, alice.id());
  EXPECT_EQ(requested[0].contact.note, "hello bob");
  EXPECT_EQ(requested[0].contact.relation, contacts::Relation::incoming);
  auto waiting = wait_answer<Result<std::vector<messaging::ContactView>>>([&](auto d) { b.m->requests(d); });
  ASSERT_TRUE(waiting);
  ASSERT_EQ(waiting->size(), 1u);
  EXPECT_EQ(waiting->front().name, "alice");

  auto accepted = accept(b, "alice");  // by name
  ASSERT_TRUE(accepted) << accepted.error().message;
  EXPECT_EQ(accepted->relation, contacts::Relation::accepted);
  EXPECT_TRUE(accepted->online);  // the held request channel carries on
  a.events.wait<messaging::ContactOnline>(1, "alice sees bob online");

  // Events in the order things happened, on both sides.
  auto names = [](const std::vector<messaging::Event>& events) {
    std::vector<std::size_t> kinds;
    for (const auto& e : events) kinds.push_back(e.index());
    return kinds;
  };
  using E = messaging::Event;
  EXPECT_EQ(names(b.events.all()), (std::vector<std::size_t>{E(messaging::ContactRequested{}).index(),
                                                             E(messaging::ContactOnline{}).index(),
                                                             E(messaging::ContactAccepted{}).index()}));
  EXPECT_EQ(names(a.events.all()), (std::vector<std::size_t>{E(messaging::ContactAccepted{}).index(),
                                                             E(messaging::ContactOnline{}).index()}));

  auto sent = send(a, "bob", "hi bob");
  ASSERT_TRUE(sent) << sent.error().message;
  EXPECT_TRUE(sent->outgoing);
  EXPECT_EQ(sent->recipients, 1);
  EXPECT_EQ(sent->conversation, bob.id());
  EXPECT_EQ(sent->conversation_name, "bob");
  auto received = b.events.wait<messaging::MessageReceived>(1, "bob receives")[0].message;
  EXPECT_EQ(received.id, sent->id);
  EXPECT_EQ(received.text, "hi bob");
  EXPECT_EQ(received.author, alice.id());
  EXPECT_EQ(received.author_name, "alice");
  EXPECT_FALSE(received.outgoing);
  EXPECT_FALSE(received.read);
  auto delivered = a.events.wait<messaging::MessageDelivered>(1, "alice gets the delivery receipt");
  EXPECT_EQ(delivered[0].id, sent->id);
  EXPECT_EQ(delivered[0].by, bob.id());
  auto details = message(a, sent->id);
  ASSERT_TRUE(details);
  EXPECT_EQ(details->message.state, messaging::MessageView::State::delivered);
  ASSERT_TRUE(details->deliveries);
  ASSERT_EQ(details->deliveries->size(), 1u);
  EXPECT_EQ(details->deliveries->front().recipient, bob.id());
  EXPECT_EQ(details->deliveries->front().delivered_at, alice.clock.ms.load());
  EXPECT_EQ(details->deliveries->front().read_at, 0);
  EXPECT_EQ(value(contact(b, "alice")).unread, 1);

  bob.clock.advance(5s);
  auto marked = wait_answer<Result<messaging::MarkReadResult>>([&](auto d) { b.m->mark_read("alice", d); });
  ASSERT_TRUE(marked);
  EXPECT_EQ(marked->conversation, alice.id());
  EXPECT_EQ(marked->read, 1u);
  EXPECT_EQ(marked->receipts, 1);
  auto read = a.events.wait<messaging::MessageRead>(1, "alice gets the read receipt");
  EXPECT_EQ(read[0].id, sent->id);
  EXPECT_EQ(value(message(a, sent->id)).message.state, messaging::MessageView::State::read);
  EXPECT_EQ(value(contact(b, "alice")).unread, 0);

  auto reply = send(b, "alice", "hi alice");
  ASSERT_TRUE(reply);
  EXPECT_EQ(a.events.wait<messaging::MessageReceived>(1, "alice receives")[0].message.text, "hi alice");

  auto page = inbox(a, "bob");
  ASSERT_TRUE(page) << page.error().message;
  ASSERT_EQ(page->messages.size(), 2u);
  EXPECT_EQ(page->messages[0].text, "hi bob");
  EXPECT_EQ(page->messages[1].text, "hi alice");
  EXPECT_EQ(page->cursor, page->messages[1].cursor);
  EXPECT_TRUE(value(inbox(a, "bob", page->cursor)).messages.empty());
  auto found = value(inbox(a, "", 0, "ALICE"));
  ASSERT_EQ(found.messages.size(), 1u);
  EXPECT_EQ(found.messages[0].text, "hi alice");
  EXPECT_FALSE(inbox(a, "nobody"));

  auto view = value(contact(a, "bob"));
  EXPECT_TRUE(view.online);
  EXPECT_EQ(view.address, "127.0.0.1:" + std::to_string(bob.port));
  EXPECT_EQ(view.via, messaging::Via::lan);  // loopback counts as the LAN
  EXPECT_EQ(view.incoming, false);           // alice dialed
  EXPECT_EQ(view.unread, 1);
  EXPECT_EQ(view.last_seen, alice.clock.ms.load() / 1000);

  auto s = status(a);
  EXPECT_EQ(s.contacts, 1);
  EXPECT_EQ(s.online, 1);
  EXPECT_EQ(s.requests, 0);
  EXPECT_EQ(s.outbox, 0);
  EXPECT_EQ(s.port, alice.port);
  EXPECT_EQ(s.refused_channels, 0u);
  // The snapshot catches up with the strand.
  eventually([&] { return a.m->status_snapshot().online == 1; }, "the snapshot shows bob online");
  EXPECT_FALSE(a.events.overlapped());
  EXPECT_FALSE(b.events.overlapped());
}

TEST(Messenger, OfflineMessagesAreSentOnReconnectOnceAndInOrder) {
  Person alice("alice"), bob("bob");
  Running a(alice);
  std::vector<std::string> ids;
  {
    Running b(bob);
    befriend(a, alice, b, bob);
  }  // bob's node stops
  a.events.wait<messaging::ContactOffline>(1, "alice sees bob go offline");
  for (const auto* text : {"one", "two", "three"}) {
    auto sent = send(a, "bob", text);
    ASSERT_TRUE(sent) << sent.error().message;
    EXPECT_EQ(sent->state, messaging::MessageView::State::queued);
    ids.push_back(sent->id);
  }
  EXPECT_EQ(status(a).outbox, 3);

  Running b(bob);  // back, on the same port, with the same database
  auto got = b.events.wait<messaging::MessageReceived>(3, "bob receives the queued messages");
  ASSERT_EQ(got.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(got[i].message.id, ids[i]);
    EXPECT_EQ(got[i].message.seq, static_cast<std::int64_t>(i + 1));
  }
  a.events.wait<messaging::MessageDelivered>(3, "alice gets three delivery receipts");
  // A message sent now travels behind anything still on the way: after it, nothing more can come.
  ASSERT_TRUE(send(a, "bob", "four"));
  b.events.wait<messaging::MessageReceived>(4, "bob receives the fourth");
  EXPECT_EQ(b.events.of<messaging::MessageReceived>().size(), 4u);  // each once
  auto page = value(inbox(b, "alice"));
  ASSERT_EQ(page.messages.size(), 4u);
  EXPECT_EQ(page.messages[0].text, "one");
  EXPECT_EQ(page.messages[1].text, "two");
  EXPECT_EQ(page.messages[2].text, "three");
  EXPECT_EQ(page.messages[3].text, "four");
  eventually([&] { return status(a).outbox == 0; }, "alice's outbox empties");
  EXPECT_EQ(a.events.of<messaging::MessageDelivered>().size(), 4u);
}

TEST(Messenger, AStrangersDataFrameClosesTheChannel) {
  Person alice("alice");
  std::atomic<int> rings{0};
  alice.on_call = [&](std::string, std::string, std::string, wire::pb::CallSignal) { ++rings; };
  Running a(alice);
  // Mallory has a valid device certificate but is nobody's contact.
  auto mallory_user = std::move(*crypto::SigningKey::generate());
  auto mallory_device = std::move(*crypto::SigningKey::generate());
  const auto cert =
      identity::encode_device_cert(identity::certify_device(mallory_user, mallory_device.public_key()));
  auto client = *crypto::make_channel_context(mallory_device, cert, crypto::TlsRole::client);
  boost::asio::io_context io;
  auto guard = boost::asio::make_work_guard(io);  // run_for() must not run out of work in between
  std::optional<Result<std::shared_ptr<net::Channel>>> dialed;
  net::async_dial(io, client, "127.0.0.1:" + std::to_string(alice.port), alice.user.public_key(), {},
                  [&](Result<std::shared_ptr<net::Channel>> r) { dialed = std::move(r); });
  const auto until = std::chrono::steady_clock::now() + DEADLINE;
  while (!dialed && std::chrono::steady_clock::now() < until) io.run_for(10ms);
  ASSERT_TRUE(dialed && *dialed) << "mallory cannot dial alice";
  auto channel = **dialed;
  std::optional<std::string> closed;
  channel->start([](wire::pb::Frame) {}, [&](const std::string& why) { closed = why; });
  wire::pb::Frame hello;
  hello.mutable_hello()->set_name("mallory");
  channel->send(hello);
  wire::pb::Frame ring;  // a stranger cannot ring
  ring.mutable_call_signal()->set_call_id(std::string(16, 'c'));
  ring.mutable_call_signal()->set_kind(wire::pb::CallSignal::INVITE);
  channel->send(ring);
  wire::pb::Frame data;
  data.mutable_message()->set_body("not a request");
  data.mutable_message()->set_signature(std::string(64, 'x'));
  channel->send(data);
  while (!closed && std::chrono::steady_clock::now() < until) io.run_for(10ms);
  ASSERT_TRUE(closed) << "alice kept a stranger's channel that carried data";
  eventually([&] { return status(a).refused_channels == 1; }, "alice counts the refused channel");
  auto requests = wait_answer<Result<std::vector<messaging::ContactView>>>([&](auto d) { a.m->requests(d); });
  ASSERT_TRUE(requests);
  EXPECT_TRUE(requests->empty());
  EXPECT_TRUE(a.events.all().empty());
  EXPECT_EQ(status(a).rejected_messages, 0u);  // never read as a message
  EXPECT_EQ(rings.load(), 0);
}

TEST(Messenger, CallSignalsTravelBetweenAcceptedContactsDevices) {
  Person alice("alice"), bob("bob");
  std::mutex mutex;
  std::vector<std::tuple<std::string, std::string, std::string, wire::pb::CallSignal>> got;
  bob.on_call = [&](std::string id, std::string name, std::string device, wire::pb::CallSignal s) {
    std::lock_guard lock(mutex);
    got.emplace_back(id, name, device, s);
  };
  Running a(alice), b(bob);
  // Not a contact yet: no target.
  EXPECT_FALSE(wait_answer<Result<messaging::CallTarget>>([&](auto d) { a.m->call_target("bob", d); }));
  befriend(a, alice, b, bob);
  auto target =
      value(wait_answer<Result<messaging::CallTarget>>([&](auto d) { a.m->call_target("bob", d); }));
  EXPECT_EQ(target.id, bob.id());
  EXPECT_EQ(target.name, "bob");
  const auto bob_device = base::to_hex(std::string_view(
      reinterpret_cast<const char*>(bob.device.public_key().data()), bob.device.public_key().size()));
  ASSERT_EQ(target.devices, std::vector<std::string>{bob_device});
  wire::pb::CallSignal s;
  s.set_call_id(std::string(16, 'x'));
  s.set_kind(wire::pb::CallSignal::INVITE);
  s.set_video(true);
  a.m->send_call_signal(bob.id(), bob_device, s);
  a.m->send_call_signal(alice.id(), bob_device, s);  // the device is not alice's: dropped
  eventually(
      [&] {
        std::lock_guard lock(mutex);
        return !got.empty();
      },
      "bob's node gets alice's ring");
  std::this_thread::sleep_for(100ms);
  std::lock_guard lock(mutex);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(std::get<0>(got[0]), alice.id());
  EXPECT_EQ(std::get<1>(got[0]), "alice");
  EXPECT_EQ(std::get<2>(got[0]), base::to_hex(std::string_view(
                                     reinterpret_cast<const char*>(alice.device.public_key().data()), 32)));
  EXPECT_TRUE(std::get<3>(got[0]).video());
}

TEST(Messenger, ABlockedContactIsRefused) {
  Person alice("alice"), bob("bob");
  Running a(alice), b(bob);
  befriend(a, alice, b, bob);
  ASSERT_TRUE(wait_answer<Status>([&](auto d) { b.m->block("alice", d); }));
  auto blocked = b.events.wait<messaging::ContactBlocked>(1, "bob's block is announced");
  EXPECT_EQ(blocked[0].id, alice.id());
  a.events.wait<messaging::ContactOffline>(1, "bob's channel closes");
  EXPECT_EQ(value(contact(b, "alice")).relation, contacts::Relation::blocked);

  auto sent = send(a, "bob", "are you there?");
  ASSERT_TRUE(sent);
  // Alice dials again once her backoff has passed (her clock says when), and is refused each time.
  eventually(
      [&] {
        alice.clock.advance(61s);
        return status(b).refused_channels >= 2;
      },
      "bob refuses alice's new channels");
  EXPECT_EQ(value(message(a, sent->id)).message.state, messaging::MessageView::State::queued);
  EXPECT_TRUE(value(inbox(b, "")).messages.empty());
  EXPECT_TRUE(b.events.of<messaging::MessageReceived>().empty());
  EXPECT_EQ(b.events.of<messaging::ContactOnline>().size(), 1u);  // only before the block
  // Blocking is by name or by any kith ID, never our own.
  EXPECT_FALSE(wait_answer<Status>([&](auto d) { b.m->block(bob.id(), d); }));
  auto stranger = std::move(*crypto::SigningKey::generate());
  EXPECT_TRUE(
      wait_answer<Status>([&](auto d) { b.m->block(identity::encode_id(stranger.public_key()), d); }));
}

TEST(Messenger, TheGroupsCreatorRelaysToMembersWhoAreNotContacts) {
  Person alice("alice"), bob("bob"), carol("carol");
  Running a(alice), b(bob), c(carol);
  befriend(a, alice, b, bob);
  befriend(a, alice, c, carol);  // bob and carol do not know each other

  auto group = wait_answer<Result<messaging::GroupView>>([&](auto d) {
    a.m->group_create("trio", {"bob", "carol"}, d);
  });
  ASSERT_TRUE(group) << group.error().message;
  EXPECT_EQ(group->members.size(), 3u);
  EXPECT_EQ(group->creator, alice.id());
  auto first =
      wait_answer<Result<messaging::MessageView>>([&](auto d) { a.m->group_send("trio", "hello all", d); });
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->recipients, 2);
  auto at_bob = b.events.wait<messaging::MessageReceived>(1, "bob gets the group message")[0].message;
  EXPECT_EQ(at_bob.conversation, "group:" + group->id);
  EXPECT_EQ(at_bob.conversation_name, "group:trio");
  c.events.wait<messaging::MessageReceived>(1, "carol gets the group message");

  // Bob reaches only alice himself; she relays to carol.
  auto from_bob =
      wait_answer<Result<messaging::MessageView>>([&](auto d) { b.m->group_send("trio", "from bob", d); });
  ASSERT_TRUE(from_bob) << from_bob.error().message;
  EXPECT_EQ(from_bob->recipients, 1);
  auto at_carol =
      c.events.wait<messaging::MessageReceived>(2, "carol gets bob's message through alice")[1].message;
  EXPECT_EQ(at_carol.id, from_bob->id);
  EXPECT_EQ(at_carol.author, bob.id());
  EXPECT_EQ(at_carol.author_name, bob.id().substr(0, 8));  // not carol's contact
  EXPECT_EQ(at_carol.text, "from bob");
  EXPECT_EQ(a.events.wait<messaging::MessageReceived>(1, "alice gets bob's message")[0].message.text,
            "from bob");
  auto bobs_groups = wait_answer<Result<std::vector<messaging::GroupView>>>([&](auto d) { b.m->groups(d); });
  ASSERT_TRUE(bobs_groups);
  ASSERT_EQ(bobs_groups->size(), 1u);
  EXPECT_EQ(bobs_groups->front().members.size(), 3u);
  // Only the creator adds members.
  EXPECT_FALSE(
      (wait_answer<Result<messaging::GroupView>>([&](auto d) { b.m->group_add("trio", "alice", d); })));
}

TEST(Messenger, AFileOfferIsAcknowledgedWhenTheAppAnswers) {
  Person alice("alice"), bob("bob");
  struct Offered {
    std::string from;
    wire::pb::FileOffer offer;
    base::Done<Messenger::OfferReply> reply;
  };
  std::mutex mutex;
  std::vector<Offered> offered;
  std::vector<std::tuple<std::string, bool, std::string>> acks;
  std::vector<std::string> ack_peers;
  std::vector<std::pair<std::string, std::int64_t>> progress;
  OfferHooks bob_hooks{
      [&](std::string from, wire::pb::FileOffer offer, base::Done<Messenger::OfferReply> reply) {
        std::lock_guard lock(mutex);
        offered.push_back({std::move(from), std::move(offer), std::move(reply)});
      },
      nullptr};
  OfferHooks alice_hooks{
      nullptr,
      [&](std::string id, bool accepted, std::string reason, std::vector<std::string> peers) {
        std::lock_guard lock(mutex);
        acks.emplace_back(id, accepted, reason);
        if (accepted) ack_peers = peers;
      },
      [&](std::string, std::string state, std::int64_t done) {
        std::lock_guard lock(mutex);
        progress.emplace_back(state, done);
      }};
  Running a(alice, nullptr, alice_hooks), b(bob, nullptr, bob_hooks);
  befriend(a, alice, b, bob);

  auto offer_to_bob = [&](const std::string& name) {
    wire::pb::FileOffer offer;
    offer.set_id(crypto::random_bytes(16));
    offer.set_name(name);
    offer.set_size(5);
    store::FileOfferRecord rec{.id = base::to_hex(offer.id()),
                               .direction = "out",
                               .contact = bob.id(),
                               .transfer_id = "t-" + name,
                               .name = name,
                               .size = 5,
                               .offer = offer.SerializeAsString(),
                               .state = "pending",
                               .created_at = 1};
    ok(alice.offers->put(rec));
    a.m->deliver_offer(bob.id(), rec.id);
    return rec.id;
  };
  auto offered_count = [&] {
    std::lock_guard lock(mutex);
    return offered.size();
  };
  auto acked = [&](std::size_t n) {
    std::lock_guard lock(mutex);
    return acks.size() >= n;
  };

  const auto first = offer_to_bob("a.bin");
  eventually([&] { return offered_count() == 1; }, "bob's app gets the offer");
  EXPECT_EQ(offered[0].from, alice.id());
  EXPECT_EQ(offered[0].offer.name(), "a.bin");
  // Nothing is acknowledged before the app answers.
  EXPECT_EQ(value(alice.offers->get(first))->state, "pending");
  EXPECT_FALSE(acked(1));
  std::thread([reply = offered[0].reply] {
    reply(std::vector<std::string>{"127.0.0.1:7000", "not an address"});
    reply(fail(base::make_error_code(base::errc::invalid_argument), "a second answer is ignored"));
  }).join();
  eventually([&] { return acked(1); }, "alice gets the acknowledgement");
  EXPECT_EQ(acks[0], std::make_tuple(first, true, std::string()));
  EXPECT_EQ(ack_peers, std::vector<std::string>{"127.0.0.1:7000"});  // where alice dials bob too
  // Acknowledged is not delivered: that is bob's word once his copy is scanned and released.
  EXPECT_EQ(value(alice.offers->get(first))->state, "offered");
  b.m->report_offer_progress(alice.id(), first, "transferring", 2, 5);
  eventually([&] { return value(alice.offers->get(first))->state == "transferring"; }, "progress at alice");
  EXPECT_EQ(value(alice.offers->get(first))->done, 2);
  b.m->report_offer_progress(alice.id(), first, "delivered", 5, 5);
  eventually([&] { return value(alice.offers->get(first))->state == "delivered"; }, "delivered at alice");
  b.m->report_offer_progress(alice.id(), first, "bogus", 1, 5);         // not a state
  b.m->report_offer_progress(alice.id(), first, "transferring", 3, 5);  // after a final state
  offer_to_bob("c.bin");  // on the same channel after the two reports: once it arrived, they did
  eventually([&] { return offered_count() == 2; }, "bob's app gets the next offer");
  EXPECT_EQ(value(alice.offers->get(first))->state, "delivered");
  {
    std::lock_guard lock(mutex);
    EXPECT_EQ(progress,
              (std::vector<std::pair<std::string, std::int64_t>>{{"transferring", 2}, {"delivered", 5}}));
  }

  const auto second = offer_to_bob("b.bin");
  eventually([&] { return offered_count() == 3; }, "bob's app gets the second offer");
  std::thread([reply = offered[2].reply] {
    reply(fail(base::make_error_code(base::errc::invalid_argument), "no room for b.bin"));
  }).join();
  eventually([&] { return acked(2); }, "alice gets the refusal");
  EXPECT_EQ(acks[1], std::make_tuple(second, false, std::string("no room for b.bin")));
  auto refused = value(alice.offers->get(second));
  EXPECT_EQ(refused->state, "refused");
  EXPECT_EQ(refused->reason, "no room for b.bin");
  EXPECT_EQ(acks.size(), 2u);
}

// The sink runs with nothing locked: it may call the messenger back, from its own thread and from
// others, and even stop it; calls after the stop still get an answer.
TEST(Messenger, TheSinkMayCallTheMessengerBack) {
  Person alice("alice"), bob("bob");
  std::atomic<int> answered{0}, snapshots{0};
  auto call_back = [&](Messenger& m, const messaging::Event&) {
    m.contacts([&](Result<std::vector<messaging::ContactView>> r) { answered += r.has_value(); });
    std::thread([&m, &snapshots] {
      (void)m.status_snapshot();
      (void)m.invite();
      ++snapshots;
    }).join();
    (void)m.status_snapshot();
  };
  Running a(alice, call_back), b(bob, [&](Messenger&m, const messaging::Event&e) {
    call_back(m, e);
    if (std::holds_alternative<messaging::MessageReceived>(e)) m.stop();  // from the sink, on the strand
  });
  befriend(a, alice, b, bob);
  ASSERT_TRUE(send(a, "bob", "stop now"));
  b.events.wait<messaging::MessageReceived>(1, "bob receives");
  // Every call from the sinks is answered, but the one bob made just before stopping. (Alice's events
  // go on: bob going offline is one.)
  eventually(
      [&] {
        const auto events = static_cast<int>(a.events.all().size() + b.events.all().size());
        return answered == events - 1 && snapshots == events;
      },
      "every call from the sinks is answered");
  // Bob stopped: every call still gets an answer, an error.
  auto after = wait_answer<Result<std::vector<messaging::ContactView>>>([&](auto d) { b.m->contacts(d); });
  ASSERT_FALSE(after);
  EXPECT_TRUE(is_stopping(after.error())) << after.error().message;
  auto not_sent = send(b, "alice", "too late");
  ASSERT_FALSE(not_sent);
  EXPECT_TRUE(is_stopping(not_sent.error()));
  EXPECT_FALSE(a.events.overlapped());
  EXPECT_FALSE(b.events.overlapped());
}

TEST(Messenger, BadCallsGetClearErrors) {
  Person alice("alice");
  Running a(alice);
  auto own = add_contact(a, a.invite());
  ASSERT_FALSE(own);
  EXPECT_EQ(own.error().code, base::make_error_code(base::errc::invalid_argument));
  auto garbage = add_contact(a, "kith:nonsense");
  ASSERT_FALSE(garbage);
  EXPECT_EQ(garbage.error().code, base::make_error_code(base::errc::bad_input));
  auto nobody = send(a, "nobody", "hi");
  ASSERT_FALSE(nobody);
  EXPECT_EQ(nobody.error().code, base::make_error_code(base::errc::not_found));
  Person bob("bob");
  ASSERT_TRUE(add_contact(a, identity::encode_id(bob.user.public_key())));  // asked, not accepted
  auto not_yet = send(a, bob.id(), "hi");
  ASSERT_FALSE(not_yet);
  EXPECT_EQ(not_yet.error().code, base::make_error_code(base::errc::invalid_argument));
  auto empty = send(a, bob.id(), "");
  ASSERT_FALSE(empty);
  auto file_to = wait_answer<Result<std::string>>([&](auto d) { a.m->accepted_contact(bob.id(), d); });
  ASSERT_FALSE(file_to);
  EXPECT_EQ(file_to.error().code, base::make_error_code(base::errc::invalid_argument));
  EXPECT_FALSE(message(a, std::string(32, 'f')));
  EXPECT_FALSE(wait_answer<Status>([&](auto d) { a.m->add_address(bob.id(), "not an address", d); }));
  EXPECT_TRUE(wait_answer<Status>([&](auto d) { a.m->add_address(bob.id(), "127.0.0.1:9", d); }));
  EXPECT_TRUE(wait_answer<Status>([&](auto d) { a.m->rename(bob.id(), "Robert", d); }));
  EXPECT_EQ(value(contact(a, "robert")).id, bob.id());
}

// Carol knows bob only by his kith ID (no address, as behind a NAT neither can dial the other); alice is
// a contact of both. Carol's request, the answer and messages travel through alice's relay, inside the
// end-to-end TLS channel between carol and bob.
