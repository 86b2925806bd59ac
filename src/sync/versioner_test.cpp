// File versioning: version tags and names, the cleanup policies with a fake clock, and archive and
// restore on real temporary folders (symlinks planted in .stversions are never followed).
#include "sync/versioner.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "sync/file_ops.hpp"
#include "sync/scanner.hpp"
#include "sync/version_fs.hpp"

using namespace kith;
namespace fs = std::filesystem;

namespace {

constexpr std::int64_t DAY = 86400;
constexpr std::int64_t NOW = 1700000000;  // 2023-11-14

void write(const fs::path& p, const std::string& data) {
  fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << data;
}
std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class Folder {
 public:
  explicit Folder(const std::string& tag)
      : root(fs::temp_directory_path() / ("kith_versions_" + tag + "_" + std::to_string(::getpid()))) {
    fs::remove_all(root);
    fs::remove_all(outside());
    EXPECT_TRUE(sync::make_folder_marker(root));
    fs::create_directories(outside());
  }
  ~Folder() {
    std::error_code ec;
    fs::remove_all(root, ec);
    fs::remove_all(outside(), ec);
  }
  fs::path outside() const { return root.string() + "_outside"; }
  fs::path root;
};

sync::Versioning policy(const std::string& type) {
  sync::Versioning v;
  v.type = type;
  return v;
}

sync::ScanOptions scan_options() {
  sync::ScanOptions o;
  o.short_id = 1;
  return o;
}

sync::KeptVersion at(const std::string& name, std::int64_t age) {
  const std::int64_t t = NOW - age;
  return {sync::tagged_name(name, sync::version_tag(t)), name, t, 1, true};
}

}  // namespace

TEST(Versioner, TagsAreLocalTimeAndRoundTrip) {
  const char* old = std::getenv("TZ");
  const std::string saved = old ? old : "";
  ::setenv("TZ", "UTC0", 1);
  ::tzset();
  EXPECT_EQ(sync::version_tag(0), "19700101-000000");
  ::setenv("TZ", "CET-1", 1);  // an hour east: Syncthing tags in local time
  ::tzset();
  EXPECT_EQ(sync::version_tag(0), "19700101-010000");
  EXPECT_EQ(sync::parse_version_tag("19700101-010000"), 0);
  old ? ::setenv("TZ", saved.c_str(), 1) : ::unsetenv("TZ");
  ::tzset();
  EXPECT_EQ(sync::parse_version_tag(sync::version_tag(NOW)), NOW);
  for (const char* bad : {"", "2023111-000000", "20231114_000000", "20231114-00000a", "20231314-000000"})
    EXPECT_FALSE(sync::parse_version_tag(bad)) << bad;
}

TEST(Versioner, NamesAsSyncthingTagsThem) {
  const std::string tag = "20231114-221320";
  EXPECT_EQ(sync::tagged_name("a/b.txt", tag), "a/b~20231114-221320.txt");
  EXPECT_EQ(sync::tagged_name("a.tar.gz", tag), "a.tar~20231114-221320.gz");
  EXPECT_EQ(sync::tagged_name(".bashrc", tag), "~20231114-221320.bashrc");
  EXPECT_EQ(sync::tagged_name("d.x/noext", tag), "d.x/noext~20231114-221320");
  for (const char* name : {"a/b.txt", "a.tar.gz", ".bashrc", "d.x/noext", "x~y.txt"}) {
    auto u = sync::untag_name(sync::tagged_name(name, tag));
    ASSERT_TRUE(u) << name;
    EXPECT_EQ(u->name, name);
    EXPECT_EQ(u->tag, tag);
  }
  for (const char* plain : {"a/b.txt", "a~x.txt", "a~20231114-221320.tar.gz", "a~2023/b.txt"})
    EXPECT_FALSE(sync::untag_name(plain)) << plain;
}

TEST(Versioner, PolicyChecks) {
  EXPECT_TRUE(sync::check_versioning(policy("none")));
  EXPECT_TRUE(sync::check_versioning(policy("staggered")));
  EXPECT_FALSE(sync::check_versioning(policy("external")));
  auto v = policy("simple");
  v.keep = 0;
  EXPECT_FALSE(sync::check_versioning(v));
  v.keep = 3;
  v.cleanout_days = -1;
  EXPECT_FALSE(sync::check_versioning(v));
}

TEST(Versioner, StaggeredThinsByAgeInterval) {
  auto v = policy("staggered");  // max age 365 days
  const std::vector<sync::KeptVersion> versions{
      at("f", 400 * DAY),           // over the max age: goes
      at("f", 100 * DAY),           // the oldest left: kept
      at("f", 99 * DAY + DAY / 2),  // half a day after it, in the weekly interval: goes
      at("f", 90 * DAY),            // ten days after: kept
      at("f", 10 * DAY),            // kept (daily interval, 80 days on)
      at("f", 10 * DAY - 600),      // ten minutes after it: goes
      at("f", 100),                 // kept
      at("f", 90),                  // ten seconds after it, in the first hour (30 s): goes
      at("f", 50),                  // fifty seconds after the one kept: kept
      at("g", 10),                  // another file's only version: kept
  };
  auto gone = sync::versions_to_remove(v, versions, NOW);
  std::sort(gone.begin(), gone.end());
  std::vector<std::string> expected{versions[0].path, versions[2].path, versions[5].path, versions[7].path};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(gone, expected);
  v.max_age_days = 0;  // forever: the 400-day-old one is the oldest kept, the 100-day one 300 days on
  gone = sync::versions_to_remove(v, versions, NOW);
  EXPECT_EQ(std::count(gone.begin(), gone.end(), versions[0].path), 0);
}

TEST(Versioner, SimpleKeepsTheNewest) {
  auto v = policy("simple");
  v.keep = 2;
  const std::vector<sync::KeptVersion> versions{at("f", 40), at("f", 30), at("f", 20), at("f", 10),
                                                at("g", 50)};
  auto gone = sync::versions_to_remove(v, versions, NOW);
  std::sort(gone.begin(), gone.end());
  EXPECT_EQ(gone, (std::vector<std::string>{versions[0].path, versions[1].path}));
  v.keep = 5;
  v.cleanout_days = 1;
  EXPECT_EQ(sync::versions_to_remove(v, {at("f", 2 * DAY), at("f", 10)}, NOW),
            (std::vector<std::string>{at("f", 2 * DAY).path}));
}

TEST(Versioner, TrashcanCleansOutByDays) {
  auto v = policy("trashcan");
  sync::KeptVersion old{"a/x.txt", "a/x.txt", NOW - 8 * DAY, 1, false};
  sync::KeptVersion recent{"y.txt", "y.txt", NOW - DAY, 1, false};
  EXPECT_TRUE(sync::versions_to_remove(v, {old, recent}, NOW).empty());  // 0: never
  v.cleanout_days = 7;
  EXPECT_EQ(sync::versions_to_remove(v, {old, recent}, NOW), (std::vector<std::string>{"a/x.txt"}));
  EXPECT_TRUE(sync::versions_to_remove(policy("none"), {old, recent}, NOW).empty());
}

TEST(Versioner, ArchiveThenRestore) {
  Folder f("restore");
  write(f.root / "a/f.txt", "one");
  ASSERT_TRUE(sync::archive_version(f.root, "a/f.txt", policy("simple"), NOW));
  EXPECT_FALSE(fs::exists(f.root / "a/f.txt"));
  const fs::path kept = f.root / ".stversions" / sync::tagged_name("a/f.txt", sync::version_tag(NOW));
  EXPECT_EQ(read(kept), "one");

  write(f.root / "a/f.txt", "two");
  auto restored = sync::restore_version(f.root, "a/f.txt", std::nullopt, policy("simple"), NOW);
  ASSERT_TRUE(restored) << restored.error().message;
  EXPECT_EQ(restored->time, NOW);
  EXPECT_EQ(read(f.root / "a/f.txt"), "one");
  // "two" was archived in turn, under the same second's tag: the version restored had left already.
  auto listed = sync::list_versions(f.root, std::string("a/f.txt"));
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(read(f.root / ".stversions" / (*listed)[0].path), "two");
  EXPECT_EQ((*listed)[0].size, 3);

  auto missing =
      sync::restore_version(f.root, "a/f.txt", std::string("20000101-000000"), policy("simple"), NOW);
  EXPECT_FALSE(missing);
  EXPECT_EQ(read(f.root / "a/f.txt"), "one");
}

TEST(Versioner, SimpleArchiveLetsGoBeyondKeep) {
  Folder f("keep");
  auto v = policy("simple");
  v.keep = 2;
  for (int i = 0; i < 4; ++i) {
    write(f.root / "f", std::to_string(i));
    ASSERT_TRUE(sync::archive_version(f.root, "f", v, NOW + i));
  }
  auto listed = sync::list_versions(f.root);
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ(read(f.root / ".stversions" / (*listed)[0].path), "2");
  EXPECT_EQ(read(f.root / ".stversions" / (*listed)[1].path), "3");
}

TEST(Versioner, TrashcanKeepsThePlainNameDatedNow) {
  Folder f("trash");
  write(f.root / "d/x.txt", "old");
  auto v = policy("trashcan");
  v.cleanout_days = 1;
  ASSERT_TRUE(sync::archive_version(f.root, "d/x.txt", v, NOW));
  auto listed = sync::list_versions(f.root);
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].path, "d/x.txt");
  EXPECT_EQ((*listed)[0].time, NOW);
  EXPECT_FALSE((*listed)[0].tagged);
  auto cleaned = sync::clean_versions(f.root, v, NOW + 2 * DAY);
  ASSERT_TRUE(cleaned);
  EXPECT_EQ(*cleaned, 1u);
  EXPECT_FALSE(fs::exists(f.root / ".stversions/d"));  // left empty: gone too
}

TEST(Versioner, SymlinkInVersionsIsNeverFollowed) {
  {
    Folder f("link_top");
    write(f.root / "f.txt", "mine");
    fs::create_directory_symlink(f.outside(), f.root / ".stversions");
    auto r = sync::archive_version(f.root, "f.txt", policy("simple"), NOW);
    EXPECT_FALSE(r);
    EXPECT_EQ(read(f.root / "f.txt"), "mine");  // not lost
    EXPECT_TRUE(fs::is_empty(f.outside()));
  }
  {
    Folder f("link_sub");
    write(f.root / "a/f.txt", "mine");
    fs::create_directories(f.root / ".stversions");
    fs::create_directory_symlink(f.outside(), f.root / ".stversions/a");
    EXPECT_FALSE(sync::archive_version(f.root, "a/f.txt", policy("trashcan"), NOW));
    EXPECT_EQ(read(f.root / "a/f.txt"), "mine");
    EXPECT_TRUE(fs::is_empty(f.outside()));
    // Nor listed, restored or cleaned through it.
    write(f.outside() / "f~20231114-221320.txt", "outside");
    auto listed = sync::list_versions(f.root);
    ASSERT_TRUE(listed);
    EXPECT_TRUE(listed->empty());
    EXPECT_FALSE(sync::restore_version(f.root, "a/f.txt", std::nullopt, policy("simple"), NOW));
    auto everything = policy("trashcan");
    everything.cleanout_days = 1;
    EXPECT_TRUE(sync::clean_versions(f.root, everything, NOW + 100 * DAY));
    EXPECT_TRUE(fs::exists(f.outside() / "f~20231114-221320.txt"));
  }
}

TEST(Versioner, PulledDeletionKeepsTheFile) {
  Folder f("pull_delete");
  write(f.root / "gone.txt", "keep me");
  auto scanned = sync::scan_folder(f.root, {}, scan_options());
  ASSERT_TRUE(scanned) << scanned.error().message;
  ASSERT_EQ(scanned->changed.size(), 1u);
  sync::Need need;
  need.local = scanned->changed[0];
  need.global = scanned->changed[0];
  need.global.deleted = true;
  need.global.blocks.clear();
  auto applied = sync::apply_without_data(f.root, need, 1, policy("staggered"));
  ASSERT_TRUE(applied) << applied.error().message;
  EXPECT_FALSE(fs::exists(f.root / "gone.txt"));
  auto listed = sync::list_versions(f.root, std::string("gone.txt"));
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(read(f.root / ".stversions" / (*listed)[0].path), "keep me");

  // A .stversions that is a symlink: the deletion fails and the file stays.
  write(f.root / "second.txt", "also mine");
  scanned = sync::scan_folder(f.root, {}, scan_options());
  ASSERT_TRUE(scanned);
  fs::remove_all(f.root / ".stversions");
  fs::create_directory_symlink(f.outside(), f.root / ".stversions");
  for (const auto& c : scanned->changed)
    if (c.name == "second.txt") need.local = c, need.global = c;
  need.global.deleted = true;
  EXPECT_FALSE(sync::apply_without_data(f.root, need, 1, policy("simple")));
  EXPECT_EQ(read(f.root / "second.txt"), "also mine");
  EXPECT_TRUE(fs::is_empty(f.outside()));
}
