// ContactBook over an in-memory database with the real schema: every transition of the header's
// diagram, the refusals, name/ID resolution, and what survives a reload.
#include "contacts/contact_book.hpp"

#include <gtest/gtest.h>

#include "base/error.hpp"
#include "identity/kith_id.hpp"
#include "store/database.hpp"
#include "store/migrations.hpp"

using namespace kith;
using contacts::Relation;

namespace {

crypto::PublicKey new_key() { return crypto::SigningKey::generate()->public_key(); }

// A key whose first bytes are chosen: kith IDs of keys sharing 4 leading bytes share 6 characters.
crypto::PublicKey key_with(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d,
                           std::uint8_t last) {
  crypto::PublicKey k{};
  k[0] = a, k[1] = b, k[2] = c, k[3] = d, k[31] = last;
  return k;
}

identity::Invite invite_of(const crypto::PublicKey& key, std::string name = "",
                           std::vector<std::string> addrs = {}) {
  return {key, identity::encode_id(key), std::move(name), std::move(addrs), ""};
}

bool is(const Error& e, base::errc code) { return e.code == base::make_error_code(code); }

class ContactBookTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = store::Database::open(store::Database::IN_MEMORY, store::state_migrations());
    ASSERT_TRUE(db) << db.error().message;
    m_db = std::move(*db);
    m_store = std::make_unique<store::ContactStore>(*m_db);
    m_book = std::make_unique<contacts::ContactBook>(*m_store, m_me);
    ASSERT_TRUE(m_book->load());
  }
  // A second book over the same database, as after a restart.
  contacts::ContactBook reloaded() {
    contacts::ContactBook again(*m_store, m_me);
    EXPECT_TRUE(again.load());
    return again;
  }
  contacts::ContactBook& book() { return *m_book; }

  crypto::PublicKey m_me = new_key();
  std::unique_ptr<store::Database> m_db;
  std::unique_ptr<store::ContactStore> m_store;
  std::unique_ptr<contacts::ContactBook> m_book;
};

}  // namespace

TEST_F(ContactBookTest, WeAskTheyAccept) {
  const auto bob = new_key();
  auto added = book().add(invite_of(bob, "Bob", {"192.168.1.5:6882"}), "", "hi, it's me", 100);
  ASSERT_TRUE(added) << added.error().message;
  EXPECT_EQ(added->relation, Relation::outgoing);  // stranger --add--> outgoing
  EXPECT_EQ(added->name, "Bob");
  EXPECT_EQ(added->note, "hi, it's me");
  EXPECT_EQ(added->addrs, std::vector<std::string>{"192.168.1.5:6882"});
  EXPECT_EQ(added->added_at, 100);
  // Accepting is for incoming requests only.
  EXPECT_TRUE(is(book().accept(bob).error(), base::errc::not_found));
  ASSERT_TRUE(book().mark_accepted(bob));  // outgoing --(they accept)--> accepted
  EXPECT_EQ(book().relation(bob), Relation::accepted);
  ASSERT_TRUE(book().mark_accepted(bob));  // a repeated answer changes nothing
  EXPECT_EQ(book().relation(bob), Relation::accepted);
  EXPECT_EQ(reloaded().relation(bob), Relation::accepted);
}

TEST_F(ContactBookTest, TheyAskWeAccept) {
  const auto carol = new_key();
  auto r = book().record_request(carol, "Carol", "remember me?", {"10.0.0.7:6882", "not an address"}, 200);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, Relation::incoming);  // stranger --(their request)--> incoming
  const auto* c = book().find(carol);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->name, "Carol");
  EXPECT_EQ(c->note, "remember me?");
  EXPECT_EQ(c->addrs, std::vector<std::string>{"10.0.0.7:6882"});  // invalid hints are dropped
  // Asking again refreshes the request.
  ASSERT_EQ(*book().record_request(carol, "Caro", "again", {}, 300), Relation::incoming);
  EXPECT_EQ(book().find(carol)->name, "Caro");
  EXPECT_EQ(book().find(carol)->note, "again");
  EXPECT_EQ(book().find(carol)->added_at, 200);
  EXPECT_TRUE(book().mark_accepted(carol));  // only outgoing requests are accepted by the other side
  EXPECT_EQ(book().relation(carol), Relation::incoming);
  ASSERT_TRUE(book().accept(carol));  // incoming --accept--> accepted
  EXPECT_EQ(book().relation(carol), Relation::accepted);
  // A request from an accepted contact changes nothing.
  EXPECT_EQ(*book().record_request(carol, "Other", "", {}, 400), Relation::accepted);
  EXPECT_EQ(book().find(carol)->name, "Caro");
  EXPECT_EQ(reloaded().relation(carol), Relation::accepted);
}

TEST_F(ContactBookTest, DeclineForgets) {
  const auto dave = new_key();
  ASSERT_TRUE(book().record_request(dave, "Dave", "", {}, 1));
  ASSERT_TRUE(book().decline(dave));  // incoming --decline--> stranger (forgotten)
  EXPECT_EQ(book().relation(dave), Relation::stranger);
  EXPECT_EQ(book().find(dave), nullptr);
  EXPECT_EQ(reloaded().find(dave), nullptr);
  // Only requests are declined.
  EXPECT_TRUE(is(book().decline(dave).error(), base::errc::not_found));
  const auto erin = new_key();
  ASSERT_TRUE(book().add(invite_of(erin), "Erin", "", 1));
  EXPECT_TRUE(is(book().decline(erin).error(), base::errc::not_found));
  EXPECT_EQ(book().relation(erin), Relation::outgoing);
}

TEST_F(ContactBookTest, BothAskedAreContactsAtOnce) {
  const auto frank = new_key();
  ASSERT_TRUE(book().add(invite_of(frank), "Frank", "", 1));
  EXPECT_EQ(*book().record_request(frank, "Frank", "", {}, 2),
            Relation::accepted);  // outgoing + their request
  const auto gina = new_key();
  ASSERT_TRUE(book().record_request(gina, "Gina", "", {}, 1));
  auto added = book().add(invite_of(gina), "", "", 2);  // incoming + our add
  ASSERT_TRUE(added);
  EXPECT_EQ(added->relation, Relation::accepted);
  EXPECT_EQ(added->name, "Gina");  // their name stays unless we give one
  auto again = reloaded();
  EXPECT_EQ(again.relation(frank), Relation::accepted);
  EXPECT_EQ(again.relation(gina), Relation::accepted);
}

TEST_F(ContactBookTest, AnyoneCanBeBlockedAndRemovedAgain) {
  const auto stranger = new_key(), outgoing = new_key(), incoming = new_key(), accepted = new_key();
  ASSERT_TRUE(book().add(invite_of(outgoing), "Out", "", 1));
  ASSERT_TRUE(book().record_request(incoming, "In", "", {}, 1));
  ASSERT_TRUE(book().record_request(accepted, "Acc", "", {}, 1));
  ASSERT_TRUE(book().accept(accepted));
  for (const auto& key : {stranger, outgoing, incoming, accepted}) {
    ASSERT_TRUE(book().block(key, 5));  // any --block--> blocked
    EXPECT_EQ(book().relation(key), Relation::blocked);
  }
  EXPECT_EQ(book().find(stranger)->name, identity::encode_id(stranger).substr(0, 8));
  EXPECT_EQ(book().find(outgoing)->name, "Out");  // a known contact keeps its name
  // Blocked: their requests change nothing, and we cannot ask them until they are removed.
  EXPECT_EQ(*book().record_request(incoming, "In", "", {}, 6), Relation::blocked);
  auto asked = book().add(invite_of(outgoing), "", "", 6);
  ASSERT_FALSE(asked);
  EXPECT_TRUE(is(asked.error(), base::errc::invalid_argument));
  EXPECT_EQ(reloaded().relation(accepted), Relation::blocked);
  ASSERT_TRUE(book().remove(outgoing));  // blocked --remove--> stranger
  EXPECT_EQ(book().relation(outgoing), Relation::stranger);
  EXPECT_EQ(reloaded().relation(outgoing), Relation::stranger);
  ASSERT_TRUE(book().add(invite_of(outgoing), "Out", "", 7));  // and may be asked again
  EXPECT_EQ(book().relation(outgoing), Relation::outgoing);
  EXPECT_TRUE(is(book().remove(new_key()).error(), base::errc::not_found));
}

TEST_F(ContactBookTest, RefusesOurOwnKey) {
  auto added = book().add(invite_of(m_me), "me", "", 1);
  ASSERT_FALSE(added);
  EXPECT_TRUE(is(added.error(), base::errc::invalid_argument));
  auto asked = book().record_request(m_me, "me", "", {}, 1);  // e.g. a channel from another of our devices
  ASSERT_FALSE(asked);
  EXPECT_TRUE(is(asked.error(), base::errc::invalid_argument));
  auto blocked = book().block(m_me, 1);
  ASSERT_FALSE(blocked);
  EXPECT_TRUE(is(blocked.error(), base::errc::invalid_argument));
  EXPECT_TRUE(book().list().empty());
}

TEST_F(ContactBookTest, TooManyPendingRequestsAreRefused) {
  std::vector<crypto::PublicKey> asked;
  for (std::size_t i = 0; i < contacts::MAX_PENDING_REQUESTS; ++i) {
    asked.push_back(new_key());
    ASSERT_TRUE(book().record_request(asked.back(), "p" + std::to_string(i), "", {}, 1));
  }
  EXPECT_EQ(book().count(Relation::incoming), contacts::MAX_PENDING_REQUESTS);
  auto one_more = book().record_request(new_key(), "late", "", {}, 2);
  ASSERT_FALSE(one_more);
  EXPECT_TRUE(is(one_more.error(), base::errc::invalid_argument));
  EXPECT_EQ(book().count(Relation::incoming), contacts::MAX_PENDING_REQUESTS);
  // Those already waiting may ask again, and contacts we asked may still answer.
  EXPECT_EQ(*book().record_request(asked.front(), "p0", "again", {}, 3), Relation::incoming);
  const auto friend_key = new_key();
  ASSERT_TRUE(book().add(invite_of(friend_key), "Friend", "", 3));
  EXPECT_EQ(*book().record_request(friend_key, "Friend", "", {}, 4), Relation::accepted);
  // Declining one makes room for another.
  ASSERT_TRUE(book().decline(asked.back()));
  EXPECT_TRUE(book().record_request(new_key(), "next", "", {}, 5));
}

TEST_F(ContactBookTest, ResolvesByNameIdAndPrefix) {
  const auto alice = key_with(1, 2, 3, 4, 1), alina = key_with(1, 2, 3, 4, 2), bob = key_with(9, 9, 9, 9, 9);
  ASSERT_TRUE(book().record_request(alice, "Alice", "", {}, 1));
  ASSERT_TRUE(book().record_request(alina, "Alina", "", {}, 1));
  ASSERT_TRUE(book().add(invite_of(bob), "bob", "", 1));
  const auto alice_id = identity::encode_id(alice), alina_id = identity::encode_id(alina);
  ASSERT_EQ(alice_id.substr(0, 6), alina_id.substr(0, 6));

  EXPECT_EQ(book().resolve("ALICE")->key, alice);  // names: case-insensitive, exact
  EXPECT_TRUE(is(book().resolve("Ali").error(), base::errc::not_found));
  EXPECT_EQ(book().resolve(alina_id)->key, alina);                             // a whole ID
  EXPECT_EQ(book().resolve(identity::encode_id(bob).substr(0, 6))->key, bob);  // a unique prefix
  auto short_prefix = book().resolve(identity::encode_id(bob).substr(0, 5));   // under 6 characters
  EXPECT_TRUE(is(short_prefix.error(), base::errc::not_found));
  auto ambiguous = book().resolve(alice_id.substr(0, 6));
  ASSERT_FALSE(ambiguous);
  EXPECT_TRUE(is(ambiguous.error(), base::errc::invalid_argument));
  EXPECT_NE(ambiguous.error().message.find(alice_id), std::string::npos);  // it names the choices
  EXPECT_NE(ambiguous.error().message.find(alina_id), std::string::npos);
  // A valid ID of someone unknown is not a name.
  EXPECT_TRUE(is(book().resolve(identity::encode_id(new_key())).error(), base::errc::not_found));

  ASSERT_TRUE(book().rename(alina, "alice"));  // two people called alice
  auto two = book().resolve("Alice");
  ASSERT_FALSE(two);
  EXPECT_TRUE(is(two.error(), base::errc::invalid_argument));
  EXPECT_TRUE(is(book().rename(alina, "").error(), base::errc::invalid_argument));
  EXPECT_TRUE(is(book().rename(alina, "tab\there").error(), base::errc::invalid_argument));

  // list(): every relation, sorted by name (case-insensitive).
  std::vector<std::string> names;
  for (const auto& c : book().list()) names.push_back(c.name == "Alice" ? "alice" : c.name);
  EXPECT_EQ(names, (std::vector<std::string>{"alice", "alice", "bob"}));
}

TEST_F(ContactBookTest, AddressesLastSeenAndBellSurviveAReload) {
  const auto bob = new_key();
  auto inv = invite_of(bob, "Bob", {"192.168.1.5:6882"});
  inv.bell = "aaaaaaaaaaaaaaaaaaaaaaaaaa";
  ASSERT_TRUE(book().add(inv, "", "", 1));
  ASSERT_TRUE(book().add_addrs(bob, {"10.0.0.1:1", "10.0.0.2:2"}));
  EXPECT_EQ(book().find(bob)->addrs,
            (std::vector<std::string>{"10.0.0.1:1", "10.0.0.2:2", "192.168.1.5:6882"}));  // newest first
  EXPECT_TRUE(is(book().add_addrs(bob, {"nonsense"}).error(), base::errc::invalid_argument));
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(book().add_addrs(bob, {"10.1.0." + std::to_string(i) + ":80"}));
  EXPECT_EQ(book().find(bob)->addrs.size(), identity::MAX_ADDRS);
  EXPECT_EQ(book().find(bob)->addrs.front(), "10.1.0.19:80");
  ASSERT_TRUE(book().seen(bob, 12345));
  ASSERT_TRUE(book().rename(bob, "Robert"));
  auto again = reloaded();
  const auto* c = again.find(bob);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->name, "Robert");
  EXPECT_EQ(c->last_seen, 12345);
  EXPECT_EQ(c->addrs, book().find(bob)->addrs);
  EXPECT_EQ(c->relation, Relation::outgoing);
  EXPECT_EQ(c->added_at, 1);
  EXPECT_EQ(c->bell, inv.bell);
}
