#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "store/block_store.hpp"
#include "store/call_store.hpp"
#include "store/database.hpp"
#include "store/file_offer_store.hpp"
#include "store/message_store.hpp"
#include "store/migrations.hpp"
#include "store/transfer_store.hpp"

using namespace kith;

namespace {

std::filesystem::path temp_db(const char* name) {
  auto p =
      std::filesystem::temp_directory_path() / (std::string(name) + std::to_string(::getpid()) + ".sqlite");
  std::filesystem::remove(p);
  return p;
}

}  // namespace

TEST(Database, MigrationsRunOnceAndSetVersion) {
  auto file = temp_db("kith_migr");
  std::vector<std::string> migrations = {"CREATE TABLE a (x INTEGER)", "ALTER TABLE a ADD COLUMN y TEXT"};
  {
    auto db = store::Database::open(file, migrations);
    ASSERT_TRUE(db) << db.error().message;
    EXPECT_EQ((*db)->schema_version(), 2);
    ASSERT_TRUE((*db)->exec("INSERT INTO a (x, y) VALUES (?1, ?2)", {std::int64_t{7}, std::string("seven")}));
  }
  auto db = store::Database::open(file, migrations);  // re-open: no migration runs twice
  ASSERT_TRUE(db) << db.error().message;
  auto rows = (*db)->query("SELECT x, y FROM a");
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ(store::as_int((*rows)[0][0]), 7);
  EXPECT_EQ(store::as_text((*rows)[0][1]), "seven");
  std::filesystem::remove(file);
}

TEST(Database, RefusesNewerSchema) {
  auto file = temp_db("kith_newer");
  ASSERT_TRUE(store::Database::open(file, {"CREATE TABLE a (x)", "CREATE TABLE b (x)"}));
  auto db = store::Database::open(file, {"CREATE TABLE a (x)"});
  ASSERT_FALSE(db);
  EXPECT_EQ(db.error().code, store::make_error_code(store::errc::too_new));
  std::filesystem::remove(file);
}

TEST(Database, FailedMigrationRollsBack) {
  auto file = temp_db("kith_rollback");
  auto db = store::Database::open(file, {"CREATE TABLE a (x); THIS IS NOT SQL"});
  ASSERT_FALSE(db);
  auto db2 = store::Database::open(file, {});
  ASSERT_TRUE(db2);
  EXPECT_EQ((*db2)->schema_version(), 0);
  EXPECT_FALSE((*db2)->query("SELECT * FROM a"));  // table creation was rolled back
  std::filesystem::remove(file);
}

TEST(Database, GarbageFileIsAClearError) {
  auto file = temp_db("kith_garbage");
  {
    std::FILE* f = std::fopen(file.c_str(), "wb");
    std::fputs("this is not a database, just some text that is long enough to have a header....", f);
    std::fclose(f);
  }
  auto db = store::Database::open(file, store::state_migrations());
  ASSERT_FALSE(db);
  EXPECT_NE(db.error().message.find(file.string()), std::string::npos);
  std::filesystem::remove(file);
}

TEST(TransferStore, PutListResumeRemove) {
  auto file = temp_db("kith_transfers");
  auto db = store::Database::open(file, store::state_migrations());
  ASSERT_TRUE(db) << db.error().message;
  store::TransferStore transfers(**db);
  store::TransferRecord t;
  t.id = "abc";
  t.name = "folder";
  t.kind = "get";
  t.source = "magnet:?xt=urn:btih:abc";
  t.destination = "/tmp/x";
  t.added_at = 100;
  ASSERT_TRUE(transfers.put(t));
  ASSERT_TRUE(transfers.save_resume("abc", {1, 2, 3}));
  ASSERT_TRUE(transfers.set_paused("abc", true));
  ASSERT_TRUE(transfers.mark_released("abc", 200));
  auto got = transfers.get("abc");
  ASSERT_TRUE(got && *got);
  EXPECT_EQ((*got)->resume, (std::vector<std::uint8_t>{1, 2, 3}));
  EXPECT_TRUE((*got)->paused);
  EXPECT_TRUE((*got)->released);
  EXPECT_EQ((*got)->completed_at, 200);
  auto all = transfers.list();
  ASSERT_TRUE(all);
  EXPECT_EQ(all->size(), 1u);
  ASSERT_TRUE(transfers.remove("abc"));
  auto none = transfers.get("abc");
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
  ASSERT_TRUE(transfers.put_kv("session", {9}));
  auto kv = transfers.get_kv("session");
  ASSERT_TRUE(kv && *kv);
  EXPECT_EQ(**kv, std::vector<std::uint8_t>{9});
  std::filesystem::remove(file);
}

TEST(BlockStore, PutReplaceListRemove) {
  auto file = temp_db("kith_blocks");
  auto db = store::Database::open(file, store::state_migrations());
  ASSERT_TRUE(db) << db.error().message;
  store::BlockStore blocks(**db);
  ASSERT_TRUE(blocks.put({"info_hash", std::string(40, 'a'), "spam", 10}));
  ASSERT_TRUE(blocks.put({"peer_id", "-XL0012-", "", 11}));
  ASSERT_TRUE(blocks.put({"info_hash", std::string(40, 'a'), "malware", 12}));  // replaces
  auto all = blocks.list();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].kind, "peer_id");
  EXPECT_EQ((*all)[1].reason, "malware");
  EXPECT_EQ((*all)[1].added_at, 12);
  auto removed = blocks.remove("peer_id", "-XL0012-");
  ASSERT_TRUE(removed);
  EXPECT_TRUE(*removed);
  auto again = blocks.remove("peer_id", "-XL0012-");
  ASSERT_TRUE(again);
  EXPECT_FALSE(*again);
  std::filesystem::remove(file);
}

TEST(MessageStore, DedupOutboxReceiptsSearch) {
  auto file = temp_db("kith_msgs");
  auto db = store::Database::open(file, store::state_migrations());
  ASSERT_TRUE(db) << db.error().message;
  store::MessageStore ms(**db);
  store::MessageRecord m;
  m.id = std::string(32, 'a');
  m.conversation = "bob";
  m.author = "me";
  m.outgoing = true;
  m.seq = 1;
  m.text = "the quick brown fox";
  m.signed_bytes = std::string("\0\1", 2);
  ASSERT_TRUE(*ms.insert(m, {"bob"}, 10));
  EXPECT_FALSE(*ms.insert(m, {"bob"}, 11));  // same id: a duplicate, not stored twice
  EXPECT_EQ(*ms.next_seq("bob", "me"), 2);
  m.id = std::string(32, 'b');
  m.seq = 2;
  m.text = "lazy dog";
  ASSERT_TRUE(*ms.insert(m, {"bob"}, 12));
  auto out = ms.outbox("bob");
  ASSERT_TRUE(out);
  ASSERT_EQ(out->size(), 2u);
  EXPECT_EQ((*out)[0].seq, 1);
  EXPECT_EQ((*out)[0].signed_bytes, std::string("\0\1", 2));
  EXPECT_TRUE(*ms.mark_delivered(std::string(32, 'a'), "bob", 20));
  EXPECT_FALSE(*ms.mark_delivered(std::string(32, 'a'), "bob", 21));  // repeated receipt
  EXPECT_EQ(ms.outbox("bob")->size(), 1u);
  EXPECT_TRUE(*ms.mark_read(std::string(32, 'b'), "bob", 30));  // read implies delivered
  EXPECT_EQ(ms.outbox("bob")->size(), 0u);
  auto found = ms.search("QUICK fox", "", 10);
  ASSERT_TRUE(found) << found.error().message;
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ(found->front().seq, 1);
  EXPECT_TRUE(ms.search("\"unbalanced", "", 10));  // user text is never FTS syntax
  auto h = ms.history("bob", 1);
  ASSERT_EQ(h->size(), 1u);
  EXPECT_EQ(h->front().text, "lazy dog");
}

TEST(FileOfferStore, OutboxUntilAcknowledged) {
  auto file = temp_db("kith_offers");
  auto db = store::Database::open(file, store::state_migrations());
  ASSERT_TRUE(db) << db.error().message;
  store::FileOfferStore fs(**db);
  store::FileOfferRecord o{.id = std::string(32, 'b'),
                           .direction = "out",
                           .contact = "bob",
                           .transfer_id = "t1",
                           .name = "a.bin",
                           .size = 5,
                           .cert = "C",
                           .key = "K",
                           .offer = std::string("\0x", 2),
                           .state = "pending",
                           .created_at = 1};
  ASSERT_TRUE(fs.put(o));
  auto in = o;
  in.id = std::string(32, 'c');
  in.direction = "in";
  in.state = "accepted";
  ASSERT_TRUE(fs.put(in));
  auto pending = fs.pending("bob");
  ASSERT_TRUE(pending);
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ(pending->front().offer, o.offer);
  EXPECT_EQ(fs.by_transfer("t1", "in").value()->id, in.id);
  EXPECT_TRUE(fs.set_state(o.id, "delivered", "").value());
  EXPECT_FALSE(fs.set_state(o.id, "delivered", "").value());
  EXPECT_FALSE(fs.set_state("nope", "delivered", "").value());
  EXPECT_TRUE(fs.pending("bob")->empty());
  EXPECT_EQ(fs.list()->size(), 2u);
  db->reset();
  std::filesystem::remove(file);
}

// Unit tests of other modules use an in-memory database with the real schema.
TEST(Database, InMemoryRunsTheRealMigrations) {
  auto db = store::Database::open(store::Database::IN_MEMORY, store::state_migrations());
  ASSERT_TRUE(db) << db.error().message;
  EXPECT_EQ((*db)->schema_version(), static_cast<int>(store::state_migrations().size()));
  store::BlockStore blocks(**db);
  ASSERT_TRUE(blocks.put({"info_hash", "aa", "", 1}));
  EXPECT_EQ(blocks.list()->size(), 1u);
  // Each in-memory database is private: a second one starts empty.
  auto other = store::Database::open(store::Database::IN_MEMORY, store::state_migrations());
  ASSERT_TRUE(other);
  EXPECT_TRUE(store::BlockStore(**other).list()->empty());
}

// transaction() holds the connection's (non-recursive) lock: its body works through the Transaction,
// and a body that calls the Database itself gets an error instead of a deadlock.
TEST(Database, TransactionBodyUsesTheTransaction) {
  auto db = store::Database::open(store::Database::IN_MEMORY, {"CREATE TABLE t (x INTEGER)"});
  ASSERT_TRUE(db);
  auto ok = (*db)->transaction([](store::Transaction& tx) -> Status {
    if (auto r = tx.exec("INSERT INTO t VALUES (?1)", {std::int64_t{1}}); !r) return r;
    auto rows = tx.query("SELECT COUNT(*) FROM t");
    if (!rows) return tl::unexpected(rows.error());
    EXPECT_EQ(store::as_int((*rows)[0][0]), 1);
    return {};
  });
  ASSERT_TRUE(ok) << ok.error().message;
  auto misuse = (*db)->transaction(
      [&](store::Transaction&) -> Status { return (*db)->exec("INSERT INTO t VALUES (2)"); });
  ASSERT_FALSE(misuse);
  EXPECT_NE(misuse.error().message.find("inside transaction"), std::string::npos) << misuse.error().message;
  auto rows = (*db)->query("SELECT x FROM t");
  ASSERT_TRUE(rows);
  EXPECT_EQ(rows->size(), 1u);  // the failed transaction was rolled back
}

// Statements are kept prepared, a bounded number of SQL texts: a body that runs more distinct texts than
// the cache holds still has the Statements it prepared (the cache is never emptied under them), and the
// cache works again afterwards.
TEST(Database, ManyDistinctStatementsLeaveAPreparedOneValid) {
  auto db = store::Database::open(store::Database::IN_MEMORY, {"CREATE TABLE t (x INTEGER)"});
  ASSERT_TRUE(db);
  auto ok = (*db)->transaction([](store::Transaction& tx) -> Status {
    auto insert = tx.prepare("INSERT INTO t VALUES (?1)");
    if (!insert) return tl::unexpected(insert.error());
    for (int i = 0; i < 600; ++i) {
      auto rows = tx.query("SELECT ?1 + " + std::to_string(i), {std::int64_t{1}});
      if (!rows) return tl::unexpected(rows.error());
      EXPECT_EQ(store::as_int((*rows)[0][0]), 1 + i);
      if (auto r = insert->exec({std::int64_t{i}}); !r) return r;
    }
    return {};
  });
  ASSERT_TRUE(ok) << ok.error().message;
  for (int i = 0; i < 600; ++i) ASSERT_TRUE((*db)->query("SELECT " + std::to_string(i)));
  auto rows = (*db)->query("SELECT COUNT(*), SUM(x) FROM t");
  ASSERT_TRUE(rows);
  EXPECT_EQ(store::as_int((*rows)[0][0]), 600);
  EXPECT_EQ(store::as_int((*rows)[0][1]), 599 * 600 / 2);
}

// Other threads wait for a transaction to end (the lock serialises them), and see all of it or none.
TEST(Database, TransactionsFromSeveralThreadsAreSerialised) {
  auto db = store::Database::open(store::Database::IN_MEMORY, {"CREATE TABLE t (x INTEGER)"});
  ASSERT_TRUE(db);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        auto r = (*db)->transaction([&](store::Transaction& tx) -> Status {
          if (auto a = tx.exec("INSERT INTO t VALUES (?1)", {std::int64_t{t}}); !a) return a;
          return tx.exec("INSERT INTO t VALUES (?1)", {std::int64_t{t}});
        });
        EXPECT_TRUE(r);
        auto rows = (*db)->query("SELECT COUNT(*) FROM t");
        ASSERT_TRUE(rows);
        EXPECT_EQ(store::as_int((*rows)[0][0]) % 2, 0);  // never half a transaction
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(store::as_int((*(*db)->query("SELECT COUNT(*) FROM t"))[0][0]), 400);
}

TEST(CallStore, KeepsTheNewestCallsAcrossReopening) {
  auto file = temp_db("calls");
  {
    auto db = store::Database::open(file, store::state_migrations());
    ASSERT_TRUE(db);
    store::CallStore calls(**db);
    for (std::int64_t i = 0; i < store::CallStore::KEEP + 5; ++i) {
      store::CallRecord c;
      c.id = std::to_string(1000 + i);
      c.contact_id = "bob-id";
      c.contact_name = "bob";
      c.direction = i % 2 ? "incoming" : "outgoing";
      c.video = i % 3 == 0;
      c.started_ms = i;
      c.ended_ms = 10 + i;
      c.end_reason = "hung up";
      ASSERT_TRUE(calls.put(c));
    }
  }
  auto db = store::Database::open(file, store::state_migrations());
  ASSERT_TRUE(db);
  store::CallStore calls(**db);
  auto all = calls.recent(10'000);
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), static_cast<std::size_t>(store::CallStore::KEEP));
  EXPECT_EQ(all->front().id, std::to_string(1000 + store::CallStore::KEEP + 4));  // newest first
  EXPECT_EQ(all->back().id, "1005");                                              // the 5 oldest went
  auto few = calls.recent(2);
  ASSERT_TRUE(few);
  ASSERT_EQ(few->size(), 2u);
  EXPECT_EQ(few->at(1).direction, few->at(0).direction == "incoming" ? "outgoing" : "incoming");
  std::filesystem::remove(file);
}
