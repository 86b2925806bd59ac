// compute_global(): which entry is global for each name and what this node needs of it.
#include "sync/global.hpp"

#include <gtest/gtest.h>

using kith::store::SyncBlock;
using kith::store::SyncCounter;
using kith::store::SyncFile;
using namespace kith::sync;

namespace {
constexpr std::uint64_t ME = 1, ALICE = 2, BOB = 3;

// An entry as pull planning reads it (store::Blocks::without): no block list, its content told by
// blocks_hash.
SyncFile entry(const std::string& device, const std::string& name, std::vector<SyncCounter> version,
               std::int64_t mtime = 100, std::uint8_t content = 1) {
  SyncFile f;
  f.folder = "f";
  f.device = device;
  f.name = name;
  f.version = std::move(version);
  f.modified_s = mtime;
  f.size = 10;
  f.block_size = 128 << 10;
  f.blocks_hash = "content-" + std::to_string(content);
  return f;
}

GlobalState run(const std::vector<SyncFile>& local,
                const std::map<std::string, std::vector<SyncFile>>& remote, bool receive_only = false,
                const std::map<std::string, std::vector<SyncCounter>>* held = nullptr) {
  return compute_global(NeedInput{&local, &remote, receive_only, held});
}
}  // namespace

TEST(Global, ANewerRemoteVersionIsNeededFromTheDevicesThatHaveIt) {
  std::vector<SyncFile> local = {entry("", "a", {{ME, 1}})};
  std::map<std::string, std::vector<SyncFile>> remote = {
      {"alice", {entry("alice", "a", {{ME, 1}, {ALICE, 1}}, 200, 2)}},
      {"bob", {entry("bob", "a", {{ME, 1}})}}};
  auto g = run(local, remote);
  ASSERT_EQ(g.needs.size(), 1u);
  EXPECT_EQ(g.needs[0].global.device, "alice");
  EXPECT_EQ(g.needs[0].sources, std::vector<std::string>{"alice"});
  EXPECT_FALSE(g.needs[0].conflict);
  EXPECT_EQ(g.global_files, 1);
  EXPECT_EQ(g.device_need["bob"].first, 1);  // bob lacks it too
  EXPECT_EQ(g.device_need.count("alice"), 0u);
}

TEST(Global, OursBeingNewestNeedsNothing) {
  std::vector<SyncFile> local = {entry("", "a", {{ME, 2}})};
  std::map<std::string, std::vector<SyncFile>> remote = {{"alice", {entry("alice", "a", {{ME, 1}})}}};
  EXPECT_TRUE(run(local, remote).needs.empty());
}

TEST(Global, ConcurrentEditsPickTheNewerAsWinnerOnEveryDevice) {
  std::vector<SyncFile> local = {entry("", "a", {{ME, 2}}, 100, 1)};
  std::map<std::string, std::vector<SyncFile>> remote = {
      {"alice", {entry("alice", "a", {{ALICE, 1}}, 300, 2)}}};
  auto g = run(local, remote);
  ASSERT_EQ(g.needs.size(), 1u);
  EXPECT_TRUE(g.needs[0].conflict);  // ours is kept as a conflict copy
  // The other way round, ours wins and nothing is needed here.
  local[0].modified_s = 400;
  EXPECT_TRUE(run(local, remote).needs.empty());
}

TEST(Global, DeletionsComeLastDeepestFirstAndDirectoriesFirst) {
  std::vector<SyncFile> local = {entry("", "d", {{ME, 1}}), entry("", "d/x", {{ME, 1}})};
  local[0].type = 1;
  auto dir_gone = local[0];
  dir_gone.device = "alice";
  dir_gone.deleted = true;
  dir_gone.version = {{ME, 1}, {ALICE, 1}};
  auto file_gone = local[1];
  file_gone.device = "alice";
  file_gone.deleted = true;
  file_gone.version = {{ME, 1}, {ALICE, 1}};
  auto new_dir = entry("alice", "n", {{ALICE, 1}});
  new_dir.type = 1;
  auto new_file = entry("alice", "n/f", {{ALICE, 1}});
  std::map<std::string, std::vector<SyncFile>> remote = {{"alice", {dir_gone, file_gone, new_dir, new_file}}};
  auto g = run(local, remote);
  ASSERT_EQ(g.needs.size(), 4u);
  EXPECT_EQ(g.needs[0].global.name, "n");
  EXPECT_EQ(g.needs[1].global.name, "n/f");
  EXPECT_EQ(g.needs[2].global.name, "d/x");
  EXPECT_EQ(g.needs[3].global.name, "d");
}

TEST(Global, SameContentOnlyAdoptsTheVersion) {
  std::vector<SyncFile> local = {entry("", "a", {{ME, 1}}, 100, 7)};
  std::map<std::string, std::vector<SyncFile>> remote = {
      {"alice", {entry("alice", "a", {{ALICE, 1}}, 300, 7)}}};
  auto g = run(local, remote);
  ASSERT_EQ(g.needs.size(), 1u);
  EXPECT_TRUE(g.needs[0].metadata_only);
  EXPECT_FALSE(g.needs[0].conflict);
  EXPECT_TRUE(g.needs[0].global.blocks.empty());  // planning carries no block lists
}

// Content is compared by blocks hash alone: block lists in the input are not looked at, and an unknown
// hash (an entry from before the store kept them) is never taken for the same content.
TEST(Global, SameContentGoesByTheBlocksHash) {
  SyncBlock block;
  block.size = 10;
  auto mine = entry("", "a", {{ME, 1}}, 100, 7);
  auto theirs = entry("alice", "a", {{ME, 1}, {ALICE, 1}}, 300, 8);  // newer, other content
  mine.blocks = theirs.blocks = {block};                             // same (ignored) block lists
  auto g = run({mine}, {{"alice", {theirs}}});
  ASSERT_EQ(g.needs.size(), 1u);
  EXPECT_FALSE(g.needs[0].metadata_only);

  mine.blocks_hash = theirs.blocks_hash = "";
  g = run({mine}, {{"alice", {theirs}}});
  ASSERT_EQ(g.needs.size(), 1u);
  EXPECT_FALSE(g.needs[0].metadata_only);

  mine.blocks_hash = theirs.blocks_hash = "same";
  mine.blocks.clear();
  g = run({mine}, {{"alice", {theirs}}});
  ASSERT_EQ(g.needs.size(), 1u);
  EXPECT_TRUE(g.needs[0].metadata_only);

  theirs.size = 11;  // a hash is only trusted with the size
  g = run({mine}, {{"alice", {theirs}}});
  ASSERT_EQ(g.needs.size(), 1u);
  EXPECT_FALSE(g.needs[0].metadata_only);
}

TEST(Global, HeldVersionsAndReceiveOnlyChangesAreLeftAlone) {
  std::vector<SyncFile> local;
  std::map<std::string, std::vector<SyncFile>> remote = {{"alice", {entry("alice", "evil", {{ALICE, 1}})}}};
  std::map<std::string, std::vector<SyncCounter>> held = {{"evil", {{ALICE, 1}}}};
  EXPECT_TRUE(run(local, remote, false, &held).needs.empty());
  remote["alice"][0].version = {{ALICE, 2}};  // a new version is fetched again
  EXPECT_EQ(run(local, remote, false, &held).needs.size(), 1u);

  std::vector<SyncFile> changed_here = {entry("", "a", {{ME, 5}})};
  changed_here[0].invalid = true;
  std::map<std::string, std::vector<SyncFile>> newer = {{"alice", {entry("alice", "a", {{ALICE, 1}})}}};
  EXPECT_TRUE(run(changed_here, newer, true).needs.empty());
  EXPECT_EQ(run(changed_here, newer, false).needs.size(), 1u);
}

TEST(Global, NobodysDeletionOfANeverSeenFileIsNotNeeded) {
  auto gone = entry("alice", "old", {{ALICE, 2}});
  gone.deleted = true;
  std::map<std::string, std::vector<SyncFile>> remote = {{"alice", {gone}}};
  auto g = run({}, remote);
  EXPECT_TRUE(g.needs.empty());
  EXPECT_EQ(g.global_files, 0);
}

TEST(Global, ANameIgnoredHereIsNeitherPulledNorDeleted) {
  std::vector<SyncFile> local = {entry("", "old.log", {{ME, 1}})};
  auto gone = entry("alice", "old.log", {{ME, 1}, {ALICE, 1}});
  gone.deleted = true;
  std::map<std::string, std::vector<SyncFile>> remote = {
      {"alice", {entry("alice", "new.log", {{ALICE, 1}}), entry("alice", "a.txt", {{ALICE, 1}}), gone}}};
  NeedInput in{&local, &remote, false, nullptr, {}};
  in.ignored = [](const std::string& name) {
    return name.size() > 4 && name.substr(name.size() - 4) == ".log";
  };
  const auto g = compute_global(in);
  ASSERT_EQ(g.needs.size(), 1u);
  EXPECT_EQ(g.needs[0].global.name, "a.txt");
}
