// SyncStore (migration 10): folder sync's index. Part of store_test.
#include "store/sync_store.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>

#include "store/database.hpp"
#include "store/migrations.hpp"

using namespace kith;
using store::SyncBlock;
using store::SyncFile;

namespace {

// The sanitizers slow the store's own (instrumented) code several times over (TSan: ~9x here): its time
// budgets are checked in the default build only, where they mean something.
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
constexpr bool TIME_BUDGETS = false;
#else
constexpr bool TIME_BUDGETS = true;
#endif

std::unique_ptr<store::Database> open_memory() {
  auto db = store::Database::open(store::Database::IN_MEMORY, store::state_migrations());
  EXPECT_TRUE(db) << db.error().message;
  return std::move(*db);
}

std::array<std::uint8_t, 32> hash_of(std::uint8_t seed) {
  std::array<std::uint8_t, 32> h{};
  for (std::size_t i = 0; i < h.size(); ++i) h[i] = static_cast<std::uint8_t>(seed + i);
  return h;
}

// The store's blocks hash in these tests (the sync module gives Syncthing's): FNV-1a over every block.
std::string test_hash(const std::vector<SyncBlock>& blocks) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  auto mix = [&](std::uint64_t v) {
    for (int i = 0; i < 8; ++i, v >>= 8) h = (h ^ (v & 0xff)) * 0x100000001b3ULL;
  };
  for (const auto& b : blocks) {
    mix(static_cast<std::uint64_t>(b.offset));
    mix(static_cast<std::uint64_t>(b.size));
    mix(b.weak_hash);
    for (auto c : b.hash) mix(c);
  }
  return "fnv" + std::to_string(h);
}

// `f` as the store gives it back: with its blocks hash.
SyncFile hashed(SyncFile f) {
  f.blocks_hash = f.blocks.empty() ? "" : test_hash(f.blocks);
  return f;
}

// A file with every field set to something that is not its default.
SyncFile full_file(const std::string& name, std::uint8_t seed) {
  SyncFile f;
  f.name = name;
  f.type = 0;
  f.size = 300'000;
  f.permissions = 0640;
  f.modified_s = 1'700'000'000 + seed;
  f.modified_ns = 123'456'789;
  f.modified_by = 0xfedcba9876543210ULL;  // above INT64_MAX: stored bit for bit
  f.no_permissions = true;
  f.version = {{0x1111, 5}, {0xffffffffffffffffULL, 1'700'000'001}};
  f.block_size = 131072;
  f.blocks = {SyncBlock{0, 131072, hash_of(seed), 0xdeadbeef},
              SyncBlock{131072, 131072, hash_of(seed + 1), 7},
              SyncBlock{262144, 37856, hash_of(seed + 2), 0}};
  f.symlink_target = std::string("t\0arget", 7);  // bytes, NUL included
  f.inode = 0x8000000000000001ULL;
  return f;
}

class SyncStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db = open_memory();
    sync = std::make_unique<store::SyncStore>(*db, test_hash);
    ASSERT_TRUE(
        sync->put_folder({"f1", "Photos", "/data/photos", "sendreceive", false, 0x9000000000000000ULL, 1}));
    ASSERT_TRUE(sync->put_device({"DEV-A", "laptop", {"dynamic", "tcp://192.0.2.1:22000"}, 2}));
    ASSERT_TRUE(sync->put_device({"DEV-B", "phone", {}, 3, "KITHID-OF-BOB"}));
    ASSERT_TRUE(sync->share("f1", "DEV-A"));
    ASSERT_TRUE(sync->share("f1", "DEV-B"));
  }

  std::unique_ptr<store::Database> db;
  std::unique_ptr<store::SyncStore> sync;
};

}  // namespace

TEST_F(SyncStoreTest, FoldersAndDevicesRoundTrip) {
  auto f = sync->folder("f1");
  ASSERT_TRUE(f && *f);
  EXPECT_EQ(**f, (store::SyncFolderRecord{"f1", "Photos", "/data/photos", "sendreceive", false,
                                          0x9000000000000000ULL, 1}));
  // Replacing keeps the folder's files (an upsert, not delete + insert).
  ASSERT_TRUE(sync->put_local("f1", {full_file("a", 1)}));
  ASSERT_TRUE(sync->put_folder({"f1", "Pics", "/p", "sendonly", true, 7, 9}));
  f = sync->folder("f1");
  ASSERT_TRUE(f && *f);
  EXPECT_EQ((*f)->label, "Pics");
  EXPECT_EQ((*f)->type, "sendonly");
  EXPECT_TRUE((*f)->paused);
  EXPECT_EQ((*f)->index_id, 7u);
  auto files = sync->files("f1", "", store::Blocks::with);
  ASSERT_TRUE(files);
  EXPECT_EQ(files->size(), 1u);
  ASSERT_TRUE(sync->put_folder({"f0", "", "/z", "receiveonly", false, 1, 1}));
  auto all = sync->folders();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].id, "f0");

  auto d = sync->device("DEV-A");
  ASSERT_TRUE(d && *d);
  EXPECT_EQ(**d, (store::SyncDeviceRecord{"DEV-A", "laptop", {"dynamic", "tcp://192.0.2.1:22000"}, 2}));
  d = sync->device("DEV-B");
  ASSERT_TRUE(d && *d);
  EXPECT_TRUE((*d)->addresses.empty());
  EXPECT_EQ((*d)->contact, "KITHID-OF-BOB");  // migration 11
  auto none = sync->device("DEV-C");
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
  EXPECT_FALSE(sync->put_device({"DEV-C", "", {"tcp://a\ntcp://b"}, 0}));
  auto devices = sync->devices();
  ASSERT_TRUE(devices);
  EXPECT_EQ(devices->size(), 2u);
}

TEST_F(SyncStoreTest, SharesAndRemoteIndex) {
  ASSERT_TRUE(sync->share("f1", "DEV-A"));  // again: no-op
  EXPECT_FALSE(sync->share("nope", "DEV-A"));
  EXPECT_FALSE(sync->share("f1", "DEV-NOPE"));
  ASSERT_TRUE(sync->set_remote_index("f1", "DEV-A", 0xabcdef0123456789ULL, 42));
  auto shares = sync->shares("f1");
  ASSERT_TRUE(shares);
  ASSERT_EQ(shares->size(), 2u);
  EXPECT_EQ((*shares)[0], (store::SyncShare{"f1", "DEV-A", 0xabcdef0123456789ULL, 42}));
  EXPECT_EQ((*shares)[1], (store::SyncShare{"f1", "DEV-B", 0, 0}));

  ASSERT_TRUE(sync->put_remote("f1", "DEV-B", {full_file("x", 1)}));
  ASSERT_TRUE(sync->unshare("f1", "DEV-B"));  // and DEV-B's files of f1
  shares = sync->shares("f1");
  ASSERT_TRUE(shares);
  EXPECT_EQ(shares->size(), 1u);
  auto files = sync->files("f1", "DEV-B", store::Blocks::with);
  ASSERT_TRUE(files);
  EXPECT_TRUE(files->empty());
  auto set = sync->set_remote_index("f1", "DEV-B", 1, 1);
  ASSERT_FALSE(set);
  EXPECT_EQ(set.error().code, base::make_error_code(base::errc::not_found));
  // Not shared: a device's index entries for it are refused.
  EXPECT_FALSE(sync->put_remote("f1", "DEV-B", {full_file("x", 1)}));
  EXPECT_FALSE(sync->put_remote("f1", "", {full_file("x", 1)}));
}

TEST_F(SyncStoreTest, LocalFilesRoundTripEveryFieldAndGetSequences) {
  auto stored = sync->put_local("f1", {full_file("b/c", 1), full_file("a", 2)});
  ASSERT_TRUE(stored) << stored.error().message;
  ASSERT_EQ(stored->size(), 2u);
  EXPECT_EQ((*stored)[0].sequence, 1);
  EXPECT_EQ((*stored)[1].sequence, 2);
  EXPECT_EQ((*stored)[0].device, "");
  EXPECT_EQ((*stored)[0].folder, "f1");

  auto expected = hashed(full_file("b/c", 1));
  expected.folder = "f1";
  expected.sequence = 1;
  auto got = sync->file("f1", "", "b/c");
  ASSERT_TRUE(got && *got);
  EXPECT_EQ(**got, expected);

  // A deleted directory with an empty version and no blocks round-trips too.
  SyncFile dir;
  dir.name = "d";
  dir.type = 1;
  dir.deleted = true;
  dir.invalid = true;
  auto more = sync->put_local("f1", {dir});
  ASSERT_TRUE(more);
  EXPECT_EQ((*more)[0].sequence, 3);
  got = sync->file("f1", "", "d");
  ASSERT_TRUE(got && *got);
  dir.folder = "f1";
  dir.sequence = 3;
  EXPECT_EQ(**got, dir);

  auto all = sync->files("f1", "", store::Blocks::with);
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].name, "a");  // by name
  EXPECT_EQ((*all)[1].name, "b/c");
  auto max = sync->max_sequence("f1", "");
  ASSERT_TRUE(max);
  EXPECT_EQ(*max, 3);

  // Changing a file gives it a new sequence number; the old one is not reused.
  auto changed = full_file("a", 9);
  auto again = sync->put_local("f1", {changed});
  ASSERT_TRUE(again);
  EXPECT_EQ((*again)[0].sequence, 4);
  all = sync->files("f1", "", store::Blocks::with);
  ASSERT_TRUE(all);
  EXPECT_EQ(all->size(), 3u);

  auto missing = sync->file("f1", "", "zzz");
  ASSERT_TRUE(missing);
  EXPECT_FALSE(*missing);
  EXPECT_FALSE(sync->put_local("no-such-folder", {full_file("a", 1)}));
}

TEST_F(SyncStoreTest, SinceOrdersBySequenceWithLimit) {
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(sync->put_local("f1", {full_file("f" + std::to_string(i), 1)}));
  ASSERT_TRUE(sync->put_local("f1", {full_file("f1", 2)}));  // f1 moves to sequence 6
  auto page = sync->since("f1", "", 0, 3);
  ASSERT_TRUE(page);
  ASSERT_EQ(page->size(), 3u);
  EXPECT_EQ((*page)[0].name, "f0");
  EXPECT_EQ((*page)[1].name, "f2");
  EXPECT_EQ((*page)[2].name, "f3");
  page = sync->since("f1", "", 3, 100);
  ASSERT_TRUE(page);
  ASSERT_EQ(page->size(), 3u);
  EXPECT_EQ((*page)[0].sequence, 4);
  EXPECT_EQ((*page)[2].name, "f1");
  EXPECT_EQ((*page)[2].sequence, 6);
  page = sync->since("f1", "", 6, 100);
  ASSERT_TRUE(page);
  EXPECT_TRUE(page->empty());
  page = sync->since("f1", "", 0, 0);
  ASSERT_TRUE(page);
  EXPECT_TRUE(page->empty());
  page = sync->since("f1", "", 0, std::numeric_limits<std::size_t>::max());
  ASSERT_TRUE(page);
  EXPECT_EQ(page->size(), 5u);
}

// What pull planning, scans and views read: every field but the block list, the blocks hash included.
TEST_F(SyncStoreTest, ListingsWithoutBlocksCarryEverythingElse) {
  ASSERT_TRUE(sync->put_local("f1", {full_file("a", 1), full_file("b", 2)}));
  auto remote = full_file("a", 3);
  remote.sequence = 5;
  ASSERT_TRUE(sync->put_remote("f1", "DEV-A", {remote}));
  for (const std::string device : {"", "DEV-A"}) {
    auto with = sync->files("f1", device, store::Blocks::with);
    auto without = sync->files("f1", device, store::Blocks::without);
    ASSERT_TRUE(with && without);
    ASSERT_EQ(with->size(), without->size());
    ASSERT_FALSE(with->empty());
    for (std::size_t i = 0; i < with->size(); ++i) {
      const auto& full = (*with)[i];
      EXPECT_EQ(full.blocks.size(), 3u);
      EXPECT_EQ(full.blocks_hash, test_hash(full.blocks));
      EXPECT_TRUE((*without)[i].blocks.empty());
      auto header = full;
      header.blocks.clear();
      EXPECT_EQ((*without)[i], header);  // blocks_hash and all
      // One entry: with its blocks unless told otherwise.
      auto one = sync->file("f1", device, full.name);
      ASSERT_TRUE(one && *one);
      EXPECT_EQ(**one, full);
      one = sync->file("f1", device, full.name, store::Blocks::without);
      ASSERT_TRUE(one && *one);
      EXPECT_EQ(**one, header);
    }
  }
  // What is given as blocks_hash is not what is kept: the store computes it.
  auto lying = full_file("c", 4);
  lying.blocks_hash = test_hash(full_file("a", 1).blocks);
  ASSERT_TRUE(sync->put_local("f1", {lying}));
  auto c = sync->file("f1", "", "c", store::Blocks::without);
  ASSERT_TRUE(c && *c);
  EXPECT_EQ((*c)->blocks_hash, test_hash(lying.blocks));
  // An entry that loses its blocks (deleted) loses its hash and its block list's row.
  auto gone = full_file("a", 1);
  gone.deleted = true;
  gone.blocks.clear();
  ASSERT_TRUE(sync->put_local("f1", {gone}));
  auto a = sync->file("f1", "", "a");
  ASSERT_TRUE(a && *a);
  EXPECT_TRUE((*a)->blocks.empty());
  EXPECT_TRUE((*a)->blocks_hash.empty());
  auto lists = db->query("SELECT COUNT(*) FROM sync_file_blocks");
  ASSERT_TRUE(lists);
  EXPECT_EQ(store::as_int((*lists)[0][0]), 3);  // b, c, and DEV-A's a
  // Entries removed take their block lists with them.
  ASSERT_TRUE(sync->drop_remote("f1", "DEV-A"));
  ASSERT_TRUE(sync->remove_folder("f1"));
  lists = db->query("SELECT COUNT(*) FROM sync_file_blocks");
  ASSERT_TRUE(lists);
  EXPECT_EQ(store::as_int((*lists)[0][0]), 0);
}

TEST_F(SyncStoreTest, SinceStopsAtABlockBudgetButNeverBeforeOneEntry) {
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(sync->put_local("f1", {full_file("f" + std::to_string(i), 1)}));
  SyncFile dir;  // no blocks: costs nothing of the budget
  dir.name = "d";
  dir.type = 1;
  ASSERT_TRUE(sync->put_local("f1", {dir}));
  auto page = sync->since("f1", "", 0, 100, 7);  // 3 blocks each: two fit
  ASSERT_TRUE(page);
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[1].name, "f1");
  EXPECT_EQ((*page)[1].blocks.size(), 3u);
  page = sync->since("f1", "", 0, 100, 1);  // one entry even when it alone is over
  ASSERT_TRUE(page);
  ASSERT_EQ(page->size(), 1u);
  page = sync->since("f1", "", 0, 1, 100);  // the file limit still holds
  ASSERT_TRUE(page);
  EXPECT_EQ(page->size(), 1u);
  page = sync->since("f1", "", 4, 100, 3);  // f4, then the directory fits
  ASSERT_TRUE(page);
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[1].name, "d");
  page = sync->since("f1", "", 6, 100, 3);
  ASSERT_TRUE(page);
  EXPECT_TRUE(page->empty());
}

TEST_F(SyncStoreTest, RemoteIndexesKeepTheirSequencesAndStaySeparate) {
  auto a = full_file("shared", 1);
  a.sequence = 1000;
  auto b = full_file("shared", 2);
  b.sequence = 7;
  ASSERT_TRUE(sync->put_remote("f1", "DEV-A", {a}));
  ASSERT_TRUE(sync->put_remote("f1", "DEV-B", {b}));
  ASSERT_TRUE(sync->put_local("f1", {full_file("shared", 3)}));

  auto got = sync->file("f1", "DEV-A", "shared");
  ASSERT_TRUE(got && *got);
  a.folder = "f1";
  a.device = "DEV-A";
  EXPECT_EQ(**got, hashed(a));
  auto max = sync->max_sequence("f1", "DEV-A");
  ASSERT_TRUE(max);
  EXPECT_EQ(*max, 1000);
  max = sync->max_sequence("f1", "DEV-B");
  ASSERT_TRUE(max);
  EXPECT_EQ(*max, 7);
  max = sync->max_sequence("f1", "");
  ASSERT_TRUE(max);
  EXPECT_EQ(*max, 1);
  max = sync->max_sequence("f1", "DEV-UNKNOWN");
  ASSERT_TRUE(max);
  EXPECT_EQ(*max, 0);

  // A remote's blocks are not local copies.
  auto loc = sync->find_block("f1", hash_of(2));
  ASSERT_TRUE(loc);
  EXPECT_FALSE(*loc);

  ASSERT_TRUE(sync->drop_remote("f1", "DEV-A"));
  auto files = sync->files("f1", "DEV-A", store::Blocks::with);
  ASSERT_TRUE(files);
  EXPECT_TRUE(files->empty());
  files = sync->files("f1", "DEV-B", store::Blocks::with);
  ASSERT_TRUE(files);
  EXPECT_EQ(files->size(), 1u);
}

TEST_F(SyncStoreTest, FindBlockFollowsChangesAndDeletes) {
  ASSERT_TRUE(sync->put_local("f1", {full_file("one", 10)}));
  auto loc = sync->find_block("f1", hash_of(11));
  ASSERT_TRUE(loc && *loc);
  EXPECT_EQ(**loc, (store::BlockLocation{"one", 131072, 131072}));
  auto other_folder = sync->find_block("f0", hash_of(11));
  ASSERT_TRUE(other_folder);
  EXPECT_FALSE(*other_folder);

  // The file changes: its old blocks are gone, its new ones found.
  ASSERT_TRUE(sync->put_local("f1", {full_file("one", 50)}));
  loc = sync->find_block("f1", hash_of(11));
  ASSERT_TRUE(loc);
  EXPECT_FALSE(*loc);
  loc = sync->find_block("f1", hash_of(52));
  ASSERT_TRUE(loc && *loc);
  EXPECT_EQ((*loc)->offset, 262144);
  EXPECT_EQ((*loc)->size, 37856);

  // Re-putting the same blocks (a touch) keeps them findable.
  auto touched = full_file("one", 50);
  touched.modified_s += 1;
  ASSERT_TRUE(sync->put_local("f1", {touched}));
  loc = sync->find_block("f1", hash_of(50));
  ASSERT_TRUE(loc && *loc);

  // Deleted: nothing to copy from.
  SyncFile gone = full_file("one", 50);
  gone.deleted = true;
  gone.blocks.clear();
  gone.size = 0;
  ASSERT_TRUE(sync->put_local("f1", {gone}));
  for (std::uint8_t s : {50, 51, 52}) {
    loc = sync->find_block("f1", hash_of(s));
    ASSERT_TRUE(loc);
    EXPECT_FALSE(*loc);
  }

  // Invalid (e.g. ignored) files are not copied from either, even with blocks.
  auto inv = full_file("inv", 70);
  inv.invalid = true;
  ASSERT_TRUE(sync->put_local("f1", {inv}));
  loc = sync->find_block("f1", hash_of(70));
  ASSERT_TRUE(loc);
  EXPECT_FALSE(*loc);

  // Two files with the same block: removing one leaves the other.
  ASSERT_TRUE(sync->put_local("f1", {full_file("p", 90), full_file("q", 90)}));
  auto p_gone = full_file("p", 90);
  p_gone.deleted = true;
  p_gone.blocks.clear();
  ASSERT_TRUE(sync->put_local("f1", {p_gone}));
  loc = sync->find_block("f1", hash_of(90));
  ASSERT_TRUE(loc && *loc);
  EXPECT_EQ((*loc)->name, "q");
}

TEST_F(SyncStoreTest, SetLocalInodesKeepsTheSequence) {
  ASSERT_TRUE(sync->put_local("f1", {full_file("a", 1)}));
  auto f = full_file("a", 1);
  f.inode = 99;
  ASSERT_TRUE(sync->set_local_inodes("f1", {f}));
  auto got = sync->file("f1", "", "a");
  ASSERT_TRUE(got && *got);
  EXPECT_EQ((*got)->inode, 99u);
  EXPECT_EQ((*got)->sequence, 1);
}

TEST_F(SyncStoreTest, RemoveFolderAndDeviceCascade) {
  ASSERT_TRUE(sync->put_folder({"f2", "", "/two", "sendreceive", false, 5, 1}));
  ASSERT_TRUE(sync->share("f2", "DEV-A"));
  ASSERT_TRUE(sync->put_local("f1", {full_file("a", 1)}));
  ASSERT_TRUE(sync->put_local("f2", {full_file("a", 1)}));
  ASSERT_TRUE(sync->put_remote("f1", "DEV-A", {full_file("r", 1)}));
  ASSERT_TRUE(sync->put_remote("f2", "DEV-A", {full_file("r", 1)}));
  ASSERT_TRUE(sync->put_remote("f1", "DEV-B", {full_file("r", 1)}));

  ASSERT_TRUE(sync->remove_device("DEV-A"));
  auto d = sync->device("DEV-A");
  ASSERT_TRUE(d);
  EXPECT_FALSE(*d);
  for (const char* folder : {"f1", "f2"}) {
    auto files = sync->files(folder, "DEV-A", store::Blocks::with);
    ASSERT_TRUE(files);
    EXPECT_TRUE(files->empty());
  }
  auto shares = sync->shares("f2");
  ASSERT_TRUE(shares);
  EXPECT_TRUE(shares->empty());
  auto b_files = sync->files("f1", "DEV-B", store::Blocks::with);
  ASSERT_TRUE(b_files);
  EXPECT_EQ(b_files->size(), 1u);

  ASSERT_TRUE(sync->remove_folder("f1"));
  auto f = sync->folder("f1");
  ASSERT_TRUE(f);
  EXPECT_FALSE(*f);
  auto rows = db->query("SELECT COUNT(*) FROM sync_files WHERE folder NOT IN (SELECT key FROM sync_folders)");
  ASSERT_TRUE(rows);
  EXPECT_EQ(store::as_int((*rows)[0][0]), 0);
  rows = db->query("SELECT COUNT(*) FROM sync_shares WHERE folder NOT IN (SELECT key FROM sync_folders)");
  ASSERT_TRUE(rows);
  EXPECT_EQ(store::as_int((*rows)[0][0]), 0);
  rows = db->query("SELECT COUNT(*) FROM sync_blocks WHERE file NOT IN (SELECT fid FROM sync_files)");
  ASSERT_TRUE(rows);
  EXPECT_EQ(store::as_int((*rows)[0][0]), 0);
  // f2's copy of the same blocks is still there.
  auto loc = sync->find_block("f2", hash_of(1));
  ASSERT_TRUE(loc && *loc);
  ASSERT_TRUE(sync->remove_folder("f1"));  // gone already: fine
}

TEST(SyncStore, SurvivesReopen) {
  auto file = std::filesystem::temp_directory_path() / ("kith_sync" + std::to_string(::getpid()) + ".sqlite");
  std::filesystem::remove(file);
  {
    auto db = store::Database::open(file, store::state_migrations());
    ASSERT_TRUE(db) << db.error().message;
    store::SyncStore sync(**db, test_hash);
    ASSERT_TRUE(sync.put_folder({"f1", "", "/x", "sendreceive", false, 1, 1}));
    ASSERT_TRUE(sync.put_device({"DEV-A", "a", {}, 1}));
    ASSERT_TRUE(sync.share("f1", "DEV-A"));
    ASSERT_TRUE(sync.set_remote_index("f1", "DEV-A", 3, 4));
    ASSERT_TRUE(sync.put_local("f1", {full_file("a", 1), full_file("b", 2)}));
  }
  auto db = store::Database::open(file, store::state_migrations());
  ASSERT_TRUE(db) << db.error().message;
  store::SyncStore sync(**db, test_hash);
  auto files = sync.files("f1", "", store::Blocks::with);
  ASSERT_TRUE(files);
  ASSERT_EQ(files->size(), 2u);
  auto expected = hashed(full_file("b", 2));
  expected.folder = "f1";
  expected.sequence = 2;
  EXPECT_EQ((*files)[1], expected);
  auto loc = sync.find_block("f1", hash_of(1));
  ASSERT_TRUE(loc && *loc);
  auto shares = sync.shares("f1");
  ASSERT_TRUE(shares);
  ASSERT_EQ(shares->size(), 1u);
  EXPECT_EQ((*shares)[0].remote_max_sequence, 4);
  auto stored = sync.put_local("f1", {full_file("c", 3)});
  ASSERT_TRUE(stored);
  EXPECT_EQ((*stored)[0].sequence, 3);
  db->reset();
  std::filesystem::remove(file);
  std::filesystem::remove(file.string() + "-wal");
  std::filesystem::remove(file.string() + "-shm");
}

TEST(SyncStore, TenThousandLocalFilesInOneTransaction) {
  auto db = open_memory();
  store::SyncStore sync(*db, test_hash);
  ASSERT_TRUE(sync.put_folder({"big", "", "/big", "sendreceive", false, 1, 1}));
  std::vector<SyncFile> files;
  for (int i = 0; i < 10'000; ++i) {
    auto f = full_file("dir" + std::to_string(i / 100) + "/file" + std::to_string(i),
                       static_cast<std::uint8_t>(i));
    f.blocks[0].hash[31] = static_cast<std::uint8_t>(i >> 8);
    files.push_back(std::move(f));
  }
  const auto start = std::chrono::steady_clock::now();
  auto stored = sync.put_local("big", std::move(files));
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(stored) << stored.error().message;
  EXPECT_EQ(stored->back().sequence, 10'000);
  // The budget is "well under a second"; shared CI machines get some slack.
  if (TIME_BUDGETS) {
    EXPECT_LT(std::chrono::duration_cast<std::chrono::milliseconds>(took).count(), 1000)
        << "put_local of 10,000 files took "
        << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms";
  }
  // And again, now that every file has blocks to replace.
  auto again = sync.files("big", "", store::Blocks::with);
  ASSERT_TRUE(again);
  for (auto& f : *again) f.blocks[1].hash[0] ^= 1;
  const auto start2 = std::chrono::steady_clock::now();
  auto restored = sync.put_local("big", std::move(*again));
  const auto took2 = std::chrono::steady_clock::now() - start2;
  ASSERT_TRUE(restored);
  if (TIME_BUDGETS) {
    EXPECT_LT(std::chrono::duration_cast<std::chrono::milliseconds>(took2).count(), 1500);
  }
}

TEST_F(SyncStoreTest, FolderVersioningRoundTrips) {
  store::SyncFolderRecord f{"fv", "", "/v", "sendreceive", false, 3, 4};
  EXPECT_EQ(f.versioning.type, "none");  // the default, as migration 12 gives existing folders
  ASSERT_TRUE(sync->put_folder(f));
  auto got = sync->folder("fv");
  ASSERT_TRUE(got && *got);
  EXPECT_EQ(**got, f);
  f.versioning = {"staggered", 7, 90, 3};
  ASSERT_TRUE(sync->put_folder(f));  // an update keeps the row (and its files)
  got = sync->folder("fv");
  ASSERT_TRUE(got && *got);
  EXPECT_EQ((*got)->versioning, f.versioning);
}

// A database from before the versioning migration (the last one) takes it: its folders keep nothing
// until told otherwise.
TEST(SyncStore, VersioningMigrationGivesOldFoldersNone) {
  auto all = store::state_migrations();
  ASSERT_GE(all.size(), 12u);
  const std::ptrdiff_t before = 11;  // migrations 1-11
  auto file =
      std::filesystem::temp_directory_path() / ("kith_sync_m11_" + std::to_string(::getpid()) + ".sqlite");
  std::filesystem::remove(file);
  {
    auto db = store::Database::open(file, std::vector<std::string>(all.begin(), all.begin() + before));
    ASSERT_TRUE(db) << db.error().message;
    ASSERT_TRUE(
        (*db)->exec("INSERT INTO sync_folders (id, label, path, type, paused, index_id, created_at) "
                    "VALUES ('old', '', '/old', 'sendreceive', 0, 1, 1)"));
  }
  auto db = store::Database::open(file, all);
  ASSERT_TRUE(db) << db.error().message;
  store::SyncStore sync(**db, test_hash);
  auto old = sync.folder("old");
  ASSERT_TRUE(old && *old);
  EXPECT_EQ((*old)->versioning, store::SyncVersioning{});
  db->reset();
  std::filesystem::remove(file);
  std::filesystem::remove(file.string() + "-wal");
  std::filesystem::remove(file.string() + "-shm");
}

// A database from before block lists had a table of their own (migration 13): the lists move, every
// field reads as before, and fill_blocks_hashes() computes what the old rows lack, once.
TEST(SyncStore, BlockListMigrationKeepsEntriesAndHashesAreFilledOnce) {
  auto all = store::state_migrations();
  ASSERT_GE(all.size(), 13u);
  const std::ptrdiff_t before = 12;  // migrations 1-12
  auto file =
      std::filesystem::temp_directory_path() / ("kith_sync_m12_" + std::to_string(::getpid()) + ".sqlite");
  std::filesystem::remove(file);
  const auto expected_file = full_file("a", 1);
  {
    auto db = store::Database::open(file, std::vector<std::string>(all.begin(), all.begin() + before));
    ASSERT_TRUE(db) << db.error().message;
    ASSERT_TRUE(
        (*db)->exec("INSERT INTO sync_folders (id, label, path, type, paused, index_id, created_at) "
                    "VALUES ('f1', '', '/old', 'sendreceive', 0, 1, 1)"));
    // The block list as migration 10 stores it: 48 bytes a block, big-endian.
    std::vector<std::uint8_t> blob;
    for (const auto& b : expected_file.blocks) {
      for (int i = 7; i >= 0; --i) blob.push_back(static_cast<std::uint8_t>(b.offset >> (8 * i)));
      for (int i = 3; i >= 0; --i) blob.push_back(static_cast<std::uint8_t>(b.size >> (8 * i)));
      for (int i = 3; i >= 0; --i) blob.push_back(static_cast<std::uint8_t>(b.weak_hash >> (8 * i)));
      blob.insert(blob.end(), b.hash.begin(), b.hash.end());
    }
    const char* insert =
        "INSERT INTO sync_files (folder, device, name, type, size, permissions, modified_s, modified_ns, "
        "modified_by, deleted, invalid, no_permissions, version, sequence, block_size, blocks, "
        "symlink_target, "
        "inode) VALUES (1, 0, ?1, ?2, ?3, 0, 0, 0, 0, 0, 0, 0, x'', ?4, 131072, ?5, x'', 0)";
    ASSERT_TRUE(
        (*db)->exec(insert, {std::string("a"), std::int64_t{0}, expected_file.size, std::int64_t{1}, blob}));
    ASSERT_TRUE((*db)->exec(insert, {std::string("d"), std::int64_t{1}, std::int64_t{0}, std::int64_t{2},
                                     std::vector<std::uint8_t>{}}));
  }
  auto db = store::Database::open(file, all);
  ASSERT_TRUE(db) << db.error().message;
  store::SyncStore sync(**db, test_hash);
  auto a = sync.file("f1", "", "a");
  ASSERT_TRUE(a && *a);
  EXPECT_EQ((*a)->blocks, expected_file.blocks);
  EXPECT_EQ((*a)->size, expected_file.size);
  EXPECT_TRUE((*a)->blocks_hash.empty());  // not computed yet
  auto filled = sync.fill_blocks_hashes();
  ASSERT_TRUE(filled) << filled.error().message;
  EXPECT_EQ(*filled, 1u);  // the directory has no blocks to hash
  a = sync.file("f1", "", "a", store::Blocks::without);
  ASSERT_TRUE(a && *a);
  EXPECT_EQ((*a)->blocks_hash, test_hash(expected_file.blocks));
  filled = sync.fill_blocks_hashes();
  ASSERT_TRUE(filled);
  EXPECT_EQ(*filled, 0u);
  // The local block map still finds the moved list's blocks, and a change replaces them.
  auto changed = full_file("a", 9);
  ASSERT_TRUE(sync.put_local("f1", {changed}));
  a = sync.file("f1", "", "a");
  ASSERT_TRUE(a && *a);
  EXPECT_EQ((*a)->blocks, changed.blocks);
  db->reset();
  std::filesystem::remove(file);
  std::filesystem::remove(file.string() + "-wal");
  std::filesystem::remove(file.string() + "-shm");
}
