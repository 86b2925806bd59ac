#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>

#include "base/hex.hpp"
#include "crypto/hash.hpp"
#include "store/database.hpp"
#include "store/migrations.hpp"
#include "store/sync_store.hpp"
#include "sync/blocks.hpp"
#include "sync/errors.hpp"
#include "sync/file_ops.hpp"
#include "sync/folder_fs.hpp"
#include "sync/names.hpp"
#include "sync/recent_changes.hpp"
#include "sync/scanner.hpp"
#include "sync/version.hpp"

using namespace kith;
using sync::Ordering;
namespace fs = std::filesystem;

namespace {

constexpr std::uint64_t ME = 0x1122334455667788ULL;

std::string hex(const std::array<std::uint8_t, 32>& h) {
  return base::to_hex(std::string_view(reinterpret_cast<const char*>(h.data()), h.size()));
}

void write(const fs::path& p, const std::string& data) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << data;
}

void set_mtime(const fs::path& p, std::int64_t s, long ns) {
  timespec times[2] = {{static_cast<time_t>(s), ns}, {static_cast<time_t>(s), ns}};
  ASSERT_EQ(::utimensat(AT_FDCWD, p.c_str(), times, AT_SYMLINK_NOFOLLOW), 0);
}

// A fresh folder (with its marker) under the temp directory, removed at the end.
class Folder {
 public:
  explicit Folder(const std::string& tag)
      : root(fs::temp_directory_path() / ("kith_sync_" + tag + "_" + std::to_string(::getpid()))) {
    fs::remove_all(root);
    EXPECT_TRUE(sync::make_folder_marker(root));
  }
  ~Folder() {
    std::error_code ec;
    fs::permissions(root, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(root, ec);
  }
  fs::path root;
};

sync::ScanOptions options() {
  sync::ScanOptions o;
  o.short_id = ME;
  return o;
}

const store::SyncFile* find(const std::vector<store::SyncFile>& files, const std::string& name) {
  for (const auto& f : files)
    if (f.name == name) return &f;
  return nullptr;
}

// Stands in for SyncStore::put_local: the scanner's output becomes the next scan's `previous`.
void absorb(std::vector<store::SyncFile>& index, const std::vector<store::SyncFile>& changed) {
  for (const auto& c : changed) {
    auto it = std::find_if(index.begin(), index.end(), [&](const auto& f) { return f.name == c.name; });
    if (it == index.end())
      index.push_back(c);
    else
      *it = c;
  }
}

}  // namespace

// ---- blocks ----

TEST(Blocks, BlockSizeRule) {
  EXPECT_EQ(sync::block_size_for(0), 128 << 10);
  EXPECT_EQ(sync::block_size_for(2000LL * (128 << 10) - 1), 128 << 10);
  EXPECT_EQ(sync::block_size_for(2000LL * (128 << 10)), 256 << 10);
  EXPECT_EQ(sync::block_size_for(1LL << 30), 1 << 20);  // 1 GiB: 1 MiB blocks (1024 of them)
  EXPECT_EQ(sync::block_size_for(2000LL * (16 << 20)), 16 << 20);
  EXPECT_EQ(sync::block_size_for(1LL << 50), 16 << 20);
  // A previous block size stays while within a factor of two.
  EXPECT_EQ(sync::block_size_for(2000LL * (128 << 10), 128 << 10), 128 << 10);
  EXPECT_EQ(sync::block_size_for(2000LL * (512 << 10), 128 << 10), 1 << 20);
  EXPECT_EQ(sync::block_size_for(100, 256 << 10), 256 << 10);
  EXPECT_EQ(sync::block_size_for(100, 512 << 10), 128 << 10);
  EXPECT_EQ(sync::block_size_for(100, 0), 128 << 10);
}

TEST(Blocks, HashesKnownContentAsSyncthingDoes) {
  // Syncthing 1.19's own test vectors (lib/scanner/blocks_test.go): "contents" in 3-byte blocks.
  Folder folder("hash");
  const auto file = folder.root / "contents";
  write(file, "contents");
  auto blocks = sync::hash_file(file, 3);
  ASSERT_TRUE(blocks) << blocks.error().message;
  ASSERT_EQ(blocks->size(), 3u);
  EXPECT_EQ(hex((*blocks)[0].hash), "1143da2bc54c495c4be31d3868785d39ffdfd56df5668f0645d8f14d47647952");
  EXPECT_EQ(hex((*blocks)[1].hash), "e4432baa90819aaef51d2a7f8e148bf7e679610f3173752fabb4dcb2d0f418d3");
  EXPECT_EQ(hex((*blocks)[2].hash), "44ad63f60af0f6db6fdde6d5186ef78176367df261fa06be3079b6c80c8adba4");
  EXPECT_EQ((*blocks)[0].weak_hash, 0x02780141u);
  EXPECT_EQ((*blocks)[1].weak_hash, 0x02970148u);
  EXPECT_EQ((*blocks)[2].weak_hash, 0x015d00e8u);
  EXPECT_EQ((*blocks)[2].offset, 6);
  EXPECT_EQ((*blocks)[2].size, 2);

  blocks = sync::hash_file(file, sync::MIN_BLOCK_SIZE);
  ASSERT_TRUE(blocks);
  ASSERT_EQ(blocks->size(), 1u);
  EXPECT_EQ(hex((*blocks)[0].hash), "d1b2a59fbea7e20077af9f91b27e95e865061b270be03ff539ab3b73587882e8");
  EXPECT_EQ((*blocks)[0].weak_hash, 0x0f3a036fu);

  // Big enough for two real blocks, with progress per block.
  std::string data(sync::MIN_BLOCK_SIZE + 1000, '\0');
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7);
  write(file, data);
  std::uint64_t reported = 0;
  blocks = sync::hash_file(file, sync::MIN_BLOCK_SIZE, nullptr, [&](std::uint64_t n) { reported += n; });
  ASSERT_TRUE(blocks);
  ASSERT_EQ(blocks->size(), 2u);
  EXPECT_EQ(reported, data.size());
  EXPECT_EQ((*blocks)[1].offset, sync::MIN_BLOCK_SIZE);
  EXPECT_EQ((*blocks)[1].size, 1000);
  EXPECT_EQ((*blocks)[1].hash, crypto::sha256(std::string_view(data).substr(sync::MIN_BLOCK_SIZE)));
  EXPECT_EQ((*blocks)[1].weak_hash, sync::adler32(std::string_view(data).substr(sync::MIN_BLOCK_SIZE)));
}

TEST(Blocks, EmptyFileHasOneEmptyBlock) {
  Folder folder("empty");
  write(folder.root / "e", "");
  auto blocks = sync::hash_file(folder.root / "e", sync::MIN_BLOCK_SIZE);
  ASSERT_TRUE(blocks);
  ASSERT_EQ(blocks->size(), 1u);
  EXPECT_EQ((*blocks)[0].offset, 0);
  EXPECT_EQ((*blocks)[0].size, 0);
  EXPECT_EQ(hex((*blocks)[0].hash), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ((*blocks)[0].weak_hash, 0u);
}

TEST(Blocks, CancelSymlinkAndMissingFile) {
  Folder folder("cancel");
  write(folder.root / "f", "data");
  std::atomic<bool> cancel{true};
  auto blocks = sync::hash_file(folder.root / "f", 3, &cancel);
  ASSERT_FALSE(blocks);
  EXPECT_EQ(blocks.error().code, sync::make_error_code(sync::errc::cancelled));
  fs::create_symlink("f", folder.root / "link");
  EXPECT_FALSE(sync::hash_file(folder.root / "link", 3));  // not followed
  auto missing = sync::hash_file(folder.root / "nope", 3);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, std::errc::no_such_file_or_directory);
}

TEST(Blocks, BlocksHashAndAdler32) {
  EXPECT_EQ(sync::adler32("Wikipedia"), 0x11E60398u);
  EXPECT_EQ(sync::adler32(""), 1u);
  std::string big(100'000, '\xff');  // past zlib's NMAX: the deferred modulo must still be right
  std::uint32_t a = 1, b = 0;
  for (unsigned char c : big) {
    a = (a + c) % 65521;
    b = (b + a) % 65521;
  }
  EXPECT_EQ(sync::adler32(big), (b << 16) | a);

  // Syncthing 1.19's BlocksHash: SHA-256 over (hash, weak hash big-endian) of each block.
  store::SyncBlock one{0, 3, crypto::sha256("abc"), 0x01020304};
  store::SyncBlock two{3, 1, crypto::sha256("d"), 0};
  std::string input(reinterpret_cast<const char*>(one.hash.data()), 32);
  input += std::string("\x01\x02\x03\x04", 4);
  input.append(reinterpret_cast<const char*>(two.hash.data()), 32);
  input += std::string(4, '\0');
  const auto expected = crypto::sha256(input);
  EXPECT_EQ(sync::blocks_hash({one, two}), std::string(reinterpret_cast<const char*>(expected.data()), 32));
  EXPECT_EQ(sync::blocks_hash({}).size(), 32u);
}

// ---- version vectors ----

TEST(Version, CompareCases) {
  using V = sync::Vector;
  EXPECT_EQ(sync::compare(V{}, V{}), Ordering::equal);
  EXPECT_EQ(sync::compare(V{{1, 1}}, V{{1, 1}}), Ordering::equal);
  EXPECT_EQ(sync::compare(V{{1, 0}}, V{}), Ordering::equal);  // a zero counter is no counter
  EXPECT_EQ(sync::compare(V{{1, 1}}, V{}), Ordering::greater);
  EXPECT_EQ(sync::compare(V{}, V{{1, 1}}), Ordering::lesser);
  EXPECT_EQ(sync::compare(V{{1, 2}}, V{{1, 1}}), Ordering::greater);
  EXPECT_EQ(sync::compare(V{{1, 1}, {2, 1}}, V{{1, 1}}), Ordering::greater);
  EXPECT_EQ(sync::compare(V{{1, 1}}, V{{1, 1}, {2, 1}}), Ordering::lesser);
  EXPECT_EQ(sync::compare(V{{1, 1}, {3, 1}}, V{{1, 1}, {2, 1}, {3, 1}}), Ordering::lesser);
  // Each side ahead somewhere: concurrent; the half says who was ahead first (in id order).
  EXPECT_EQ(sync::compare(V{{1, 2}}, V{{1, 1}, {2, 1}}), Ordering::concurrent_greater);
  EXPECT_EQ(sync::compare(V{{1, 1}, {2, 1}}, V{{1, 2}}), Ordering::concurrent_lesser);
  EXPECT_EQ(sync::compare(V{{1, 1}}, V{{2, 1}}), Ordering::concurrent_greater);
  EXPECT_EQ(sync::compare(V{{2, 1}}, V{{1, 1}}), Ordering::concurrent_lesser);
  EXPECT_TRUE(sync::concurrent(sync::compare(V{{1, 1}}, V{{2, 1}})));
  EXPECT_TRUE(sync::greater_equal(V{{1, 1}}, V{{1, 1}}));
  EXPECT_TRUE(sync::lesser_equal(V{}, V{{1, 1}}));
  EXPECT_FALSE(sync::greater_equal(V{{1, 1}}, V{{2, 1}}));
}

TEST(Version, UpdateMergeCounter) {
  sync::Vector v;
  sync::update(v, 42, 5);
  EXPECT_EQ(v, (sync::Vector{{42, 5}}));
  sync::update(v, 36, 6);  // inserted in order
  sync::update(v, 37, 7);
  EXPECT_EQ(v, (sync::Vector{{36, 6}, {37, 7}, {42, 5}}));
  sync::update(v, 37, 1);  // the clock is behind: one more
  EXPECT_EQ(sync::counter(v, 37), 8u);
  sync::update(v, 37, 100);  // the clock is ahead: the clock
  EXPECT_EQ(sync::counter(v, 37), 100u);
  sync::update(v, 99, 0);  // a new counter is at least 1
  EXPECT_EQ(sync::counter(v, 99), 1u);
  EXPECT_EQ(sync::counter(v, 1234), 0u);
  EXPECT_TRUE(sync::well_formed(v));
  EXPECT_FALSE(sync::well_formed(sync::Vector{{2, 1}, {1, 1}}));
  EXPECT_FALSE(sync::well_formed(sync::Vector{{1, 1}, {1, 2}}));

  // Update with the real clock: at least now.
  sync::Vector w{{ME, 3}};
  const auto before = static_cast<std::uint64_t>(std::time(nullptr));
  sync::update(w, ME);
  EXPECT_GE(sync::counter(w, ME), before);
  EXPECT_EQ(sync::compare(w, sync::Vector{{ME, 3}}), Ordering::greater);

  sync::Vector a{{10, 1}, {20, 2}, {30, 1}};
  sync::merge(a, {{5, 1}, {10, 2}, {15, 1}, {20, 1}, {25, 1}, {35, 1}});
  EXPECT_EQ(a, (sync::Vector{{5, 1}, {10, 2}, {15, 1}, {20, 2}, {25, 1}, {30, 1}, {35, 1}}));
  sync::Vector empty;
  sync::merge(empty, {});
  EXPECT_TRUE(empty.empty());

  sync::Vector d{{1, 1}, {2, 5}, {3, 1}};
  sync::drop_others(d, 2);
  EXPECT_EQ(d, (sync::Vector{{2, 5}}));
  sync::drop_others(d, 9);
  EXPECT_TRUE(d.empty());
}

// ---- names ----

TEST(Names, CheckName) {
  for (const char* good : {"a", "a/b", "a b/c.txt", ".hidden", "dir/.stfolder", "a\\b", "x/.stignore",
                           "ü/日本", "..a", "a..", "...", "a/.stversionsX", "sync-conflict"})
    EXPECT_TRUE(sync::check_name(good)) << good;
  for (const char* bad : {"", "/abs", "../x", "a/../b", "..", ".", "./a", "a/.", "a//b", "a/", "/",
                          ".stfolder", ".stignore", ".stversions", ".stversions/old.txt", ".stfolder/x",
                          ".syncthing.a.tmp", "d/.syncthing.a.tmp", "~syncthing~a.tmp"}) {
    auto r = sync::check_name(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, sync::make_error_code(sync::errc::bad_name)) << bad;
  }
  EXPECT_FALSE(sync::check_name(std::string("a\0b", 3)));
  EXPECT_FALSE(sync::check_name("bad\xff"));       // not UTF-8
  EXPECT_FALSE(sync::check_name("\xc0\xaf"));      // overlong '/'
  EXPECT_FALSE(sync::check_name("\xed\xa0\x80"));  // a surrogate
  // The reason is shown, and the name safely.
  auto r = sync::check_name("x/\x1b[2J/../y");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message.find('\x1b'), std::string::npos);
  EXPECT_NE(r.error().message.find("\"..\""), std::string::npos);
}

TEST(Names, InternalTempAndConflictNames) {
  EXPECT_TRUE(sync::is_internal(".stfolder"));
  EXPECT_TRUE(sync::is_internal(".stversions/a/b"));
  EXPECT_FALSE(sync::is_internal("a/.stfolder"));
  EXPECT_FALSE(sync::is_internal(".stfolderx"));

  EXPECT_EQ(sync::temp_name("a.txt"), ".syncthing.a.txt.tmp");
  EXPECT_EQ(sync::temp_name("dir/sub/a.txt"), "dir/sub/.syncthing.a.txt.tmp");
  const std::string long_base(146, 'x');
  EXPECT_EQ(sync::temp_name("d/" + long_base), "d/.syncthing." + crypto::sha256_hex(long_base) + ".tmp");
  const std::string fits(145, 'x');
  EXPECT_EQ(sync::temp_name(fits), ".syncthing." + fits + ".tmp");
  EXPECT_TRUE(sync::is_temp_name(".syncthing.a.tmp"));
  EXPECT_TRUE(sync::is_temp_name("d/~syncthing~a.tmp"));
  EXPECT_TRUE(sync::is_temp_name(sync::temp_name("dir/x")));
  EXPECT_FALSE(sync::is_temp_name(".syncthing.d/a"));  // only the last component counts
  EXPECT_FALSE(sync::is_temp_name("syncthing.a.tmp"));

  ::setenv("TZ", "UTC", 1);
  ::tzset();
  const std::int64_t t = 1'700'000'000;  // 2023-11-14 22:13:20 UTC
  const std::string id = "ABCDEFG-HIJKLMN-OPQRSTU-VWXYZ23-4567ABC-DEFGHIJ-KLMNOPQ-RSTUVWX";
  EXPECT_EQ(sync::conflict_name("dir/report.pdf", t, id),
            "dir/report.sync-conflict-20231114-221320-ABCDEFG.pdf");
  EXPECT_EQ(sync::conflict_name("a.tar.gz", t, id), "a.tar.sync-conflict-20231114-221320-ABCDEFG.gz");
  EXPECT_EQ(sync::conflict_name("Makefile", t, id), "Makefile.sync-conflict-20231114-221320-ABCDEFG");
  EXPECT_EQ(sync::conflict_name("v1.2/README", t, id), "v1.2/README.sync-conflict-20231114-221320-ABCDEFG");
  EXPECT_EQ(sync::conflict_name(".bashrc", t, id), ".sync-conflict-20231114-221320-ABCDEFG.bashrc");
  // And back (kith sync conflicts): every form conflict_name makes gives its original again.
  for (const char* name : {"dir/report.pdf", "a.tar.gz", "Makefile", "v1.2/README", ".bashrc"}) {
    auto parsed = sync::parse_conflict_name(sync::conflict_name(name, t, id));
    ASSERT_TRUE(parsed) << name;
    EXPECT_EQ(parsed->original, name);
    EXPECT_EQ(parsed->stamp, "20231114-221320");
    EXPECT_EQ(parsed->device, "ABCDEFG");
  }
  EXPECT_FALSE(sync::parse_conflict_name("notes.sync-conflict-by-hand.txt"));
  EXPECT_FALSE(sync::parse_conflict_name("a.sync-conflict-2023111-221320-ABCDEFG"));
  EXPECT_FALSE(sync::parse_conflict_name("x.sync-conflict-20231114-221320-abcdefg"));
  EXPECT_FALSE(sync::parse_conflict_name("d.sync-conflict-20231114-221320-ABCDEFG/file"));  // a directory's
  EXPECT_TRUE(sync::is_conflict_name("dir/report.sync-conflict-20231114-221320-ABCDEFG.pdf"));
  EXPECT_FALSE(sync::is_conflict_name("x.sync-conflict-1/report.pdf"));
}

// ---- scanner ----

TEST(Scanner, FirstScanFindsEverythingSecondScanHashesNothing) {
  Folder folder("first");
  const auto& root = folder.root;
  write(root / "a.txt", "hello");
  fs::create_directory(root / "d");
  std::string big(300'000, 'x');
  write(root / "d" / "b.bin", big);
  write(root / "empty", "");
  fs::create_symlink("a.txt", root / "link");
  fs::create_symlink("/etc", root / "outside");  // recorded, never followed
  fs::create_directory(root / "empty_dir");
  ::chmod((root / "a.txt").c_str(), 0640);
  set_mtime(root / "a.txt", 1'600'000'000, 123'456'789);
  // Never entries: internal names and temporary files.
  write(root / ".stignore", "x");
  fs::create_directories(root / ".stversions" / "old");
  write(root / ".syncthing.a.txt.tmp", "partial");
  write(root / "d" / "~syncthing~b.tmp", "partial");

  std::vector<std::uint64_t> progress;
  auto opts = options();
  opts.progress = [&](std::uint64_t done, std::uint64_t total) {
    EXPECT_EQ(total, 300'005u);
    progress.push_back(done);
  };
  auto scan = sync::scan_folder(root, {}, opts);
  ASSERT_TRUE(scan) << scan.error().message;
  const auto& changed = scan->changed;
  std::vector<std::string> names;
  for (const auto& f : changed) names.push_back(f.name);
  EXPECT_EQ(names,
            (std::vector<std::string>{"a.txt", "d", "d/b.bin", "empty", "empty_dir", "link", "outside"}));
  EXPECT_TRUE(scan->errors.empty());
  EXPECT_EQ(scan->hashed_bytes, 300'005u);
  EXPECT_EQ(scan->unchanged, 0u);
  ASSERT_FALSE(progress.empty());
  EXPECT_EQ(progress.back(), 300'005u);

  const auto* a = find(changed, "a.txt");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->type, 0);
  EXPECT_EQ(a->size, 5);
  EXPECT_EQ(a->permissions, 0640u);
  EXPECT_EQ(a->modified_s, 1'600'000'000);
  EXPECT_EQ(a->modified_ns, 123'456'789);
  EXPECT_EQ(a->modified_by, ME);
  EXPECT_FALSE(a->no_permissions);
  EXPECT_EQ(a->block_size, sync::MIN_BLOCK_SIZE);
  ASSERT_EQ(a->blocks.size(), 1u);
  EXPECT_EQ(a->blocks[0].hash, crypto::sha256("hello"));
  EXPECT_EQ(a->sequence, 0);
  ASSERT_EQ(a->version.size(), 1u);
  EXPECT_EQ(a->version[0].id, ME);
  EXPECT_NE(a->inode, 0u);

  const auto* b = find(changed, "d/b.bin");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->blocks.size(), 3u);
  const auto* d = find(changed, "d");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->type, 1);
  EXPECT_TRUE(d->blocks.empty());
  const auto* e = find(changed, "empty");
  ASSERT_TRUE(e);
  ASSERT_EQ(e->blocks.size(), 1u);  // as Syncthing: one empty block
  const auto* link = find(changed, "link");
  ASSERT_TRUE(link);
  EXPECT_EQ(link->type, 4);
  EXPECT_EQ(link->symlink_target, "a.txt");
  EXPECT_TRUE(link->no_permissions);
  EXPECT_TRUE(link->blocks.empty());
  const auto* outside = find(changed, "outside");
  ASSERT_TRUE(outside);
  EXPECT_EQ(outside->symlink_target, "/etc");

  // Through the store, as the service will do it; the second scan finds nothing to do.
  auto db = store::Database::open(store::Database::IN_MEMORY, store::state_migrations());
  ASSERT_TRUE(db);
  store::SyncStore index(**db, sync::blocks_hash);
  ASSERT_TRUE(index.put_folder({"f", "", root.string(), "sendreceive", false, 1, 1}));
  ASSERT_TRUE(index.put_local("f", changed));
  auto previous = index.files("f", "", store::Blocks::without);  // as the engine reads it
  ASSERT_TRUE(previous);
  auto again = sync::scan_folder(root, *previous, options());
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_TRUE(again->changed.empty()) << again->changed.front().name;
  EXPECT_EQ(again->hashed_bytes, 0u);
  EXPECT_EQ(again->unchanged, 7u);
  // A directory whose mtime moved (something inside changed) is not a change of its own.
  write(root / "d" / "new", "n");
  auto third = sync::scan_folder(root, *previous, options());
  ASSERT_TRUE(third);
  ASSERT_EQ(third->changed.size(), 1u);
  EXPECT_EQ(third->changed[0].name, "d/new");
  EXPECT_EQ(third->hashed_bytes, 1u);
}

TEST(Scanner, ModifyBumpsVersionDeleteMarksDeleted) {
  Folder folder("modify");
  const auto& root = folder.root;
  write(root / "keep", "same");
  write(root / "edit", "before");
  write(root / "gone", "bye");
  fs::create_directory(root / "dir");
  write(root / "dir" / "inner", "x");
  std::vector<store::SyncFile> index;
  auto first = sync::scan_folder(root, {}, options());
  ASSERT_TRUE(first);
  absorb(index, first->changed);
  const auto old_edit = *find(index, "edit");

  write(root / "edit", "after, and longer");
  set_mtime(root / "edit", 1'700'000'000, 5);
  fs::remove(root / "gone");
  fs::remove_all(root / "dir");
  ::chmod((root / "keep").c_str(), 0600);  // a permission change is a change

  auto scan = sync::scan_folder(root, index, options());
  ASSERT_TRUE(scan) << scan.error().message;
  std::vector<std::string> names;
  for (const auto& f : scan->changed) names.push_back(f.name);
  EXPECT_EQ(names, (std::vector<std::string>{"dir", "dir/inner", "edit", "gone", "keep"}));
  EXPECT_EQ(scan->hashed_bytes, 17u + 4u);  // "keep" is rehashed too: Syncthing does the same

  const auto* edit = find(scan->changed, "edit");
  EXPECT_EQ(sync::compare(edit->version, old_edit.version), Ordering::greater);
  EXPECT_NE(edit->blocks, old_edit.blocks);
  EXPECT_EQ(edit->blocks[0].hash, crypto::sha256("after, and longer"));
  EXPECT_EQ(edit->size, 17);
  EXPECT_EQ(edit->modified_s, 1'700'000'000);

  const auto* gone = find(scan->changed, "gone");
  EXPECT_TRUE(gone->deleted);
  EXPECT_TRUE(gone->blocks.empty());
  EXPECT_EQ(gone->size, 0);
  EXPECT_EQ(gone->modified_by, ME);
  EXPECT_GE(gone->modified_s, static_cast<std::int64_t>(std::time(nullptr)) - 5);
  EXPECT_EQ(sync::compare(gone->version, find(index, "gone")->version), Ordering::greater);
  EXPECT_TRUE(find(scan->changed, "dir")->deleted);
  EXPECT_TRUE(find(scan->changed, "dir/inner")->deleted);
  EXPECT_EQ(find(scan->changed, "keep")->permissions, 0600u);

  // Deleted entries stay deleted without news; a file coming back is a new version of the deleted one.
  absorb(index, scan->changed);
  auto quiet = sync::scan_folder(root, index, options());
  ASSERT_TRUE(quiet);
  EXPECT_TRUE(quiet->changed.empty());
  write(root / "gone", "back");
  auto back = sync::scan_folder(root, index, options());
  ASSERT_TRUE(back);
  ASSERT_EQ(back->changed.size(), 1u);
  EXPECT_FALSE(back->changed[0].deleted);
  EXPECT_EQ(sync::compare(back->changed[0].version, find(index, "gone")->version), Ordering::greater);
}

TEST(Scanner, MissingMarkerOrRootIsAnErrorAndNothingIsDeleted) {
  Folder folder("marker");
  write(folder.root / "a", "a");
  auto first = sync::scan_folder(folder.root, {}, options());
  ASSERT_TRUE(first);
  fs::remove(folder.root / ".stfolder");
  fs::remove(folder.root / "a");
  auto scan = sync::scan_folder(folder.root, first->changed, options());
  ASSERT_FALSE(scan);
  EXPECT_EQ(scan.error().code, sync::make_error_code(sync::errc::marker_missing));
  EXPECT_NE(scan.error().message.find(".stfolder is missing: is the disk mounted?"), std::string::npos);

  auto missing = sync::scan_folder(folder.root / "nope", first->changed, options());
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, sync::make_error_code(sync::errc::folder_missing));

  // A marker that is a file (or anything) will do; make_folder_marker makes a directory.
  write(folder.root / ".stfolder", "");
  EXPECT_TRUE(sync::scan_folder(folder.root, {}, options()));
  const auto fresh = folder.root / "new" / "sub";
  ASSERT_TRUE(sync::make_folder_marker(fresh));
  EXPECT_TRUE(fs::is_directory(fresh / ".stfolder"));
  ASSERT_TRUE(sync::make_folder_marker(fresh));  // again: fine

  auto zero = options();
  zero.short_id = 0;
  EXPECT_FALSE(sync::scan_folder(folder.root, {}, zero));
}

TEST(Scanner, IgnoredNamesAreSkippedAndIndexedOnesBecomeInvalid) {
  Folder folder("ignored");
  fs::create_directory(folder.root / "build");
  write(folder.root / "build" / "out.o", "obj");
  write(folder.root / "src.c", "int x;");
  auto first = sync::scan_folder(folder.root, {}, options());
  ASSERT_TRUE(first);
  std::vector<store::SyncFile> index;
  absorb(index, first->changed);
  auto opts = options();
  opts.ignored = [](const std::string& name) { return name == "build"; };
  auto scan = sync::scan_folder(folder.root, index, opts);
  ASSERT_TRUE(scan) << scan.error().message;
  ASSERT_EQ(scan->changed.size(), 2u);
  for (const auto& f : scan->changed) {
    EXPECT_TRUE(f.invalid) << f.name;
    EXPECT_FALSE(f.deleted) << f.name;
    EXPECT_TRUE(f.blocks.empty());
    EXPECT_EQ(f.version, find(index, f.name)->version);  // not a new version
  }
  absorb(index, scan->changed);
  auto again = sync::scan_folder(folder.root, index, opts);
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->changed.empty());
  EXPECT_EQ(again->unchanged, 1u);  // src.c
}

TEST(Scanner, StaleTemporaryFilesAreRemovedFreshOnesKept) {
  Folder folder("temps");
  fs::create_directory(folder.root / "d");
  write(folder.root / "d" / ".syncthing.old.wav.tmp", "a pull that failed two days ago");
  write(folder.root / ".syncthing.new.wav.tmp", "a pull that failed a minute ago");
  write(folder.root / "old-looking.txt", "not a temporary file");
  const auto two_days_ago = static_cast<std::int64_t>(std::time(nullptr)) - 2 * 24 * 3600;
  set_mtime(folder.root / "d" / ".syncthing.old.wav.tmp", two_days_ago, 0);
  set_mtime(folder.root / "old-looking.txt", two_days_ago, 0);
  fs::create_symlink("old-looking.txt", folder.root / ".syncthing.link.tmp");
  auto opts = options();
  opts.remove_temps_older_than_s = 24 * 3600;
  auto scan = sync::scan_folder(folder.root, {}, opts);
  ASSERT_TRUE(scan) << scan.error().message;
  EXPECT_FALSE(fs::exists(folder.root / "d" / ".syncthing.old.wav.tmp"));
  EXPECT_TRUE(fs::exists(folder.root / ".syncthing.new.wav.tmp"));
  EXPECT_TRUE(fs::exists(folder.root / "old-looking.txt"));
  EXPECT_TRUE(fs::is_symlink(folder.root / ".syncthing.link.tmp"));  // not a regular file: left
  for (const auto& f : scan->changed) EXPECT_FALSE(sync::is_temp_name(f.name)) << f.name;
  // Off by default: nothing is removed.
  set_mtime(folder.root / ".syncthing.new.wav.tmp", two_days_ago, 0);
  ASSERT_TRUE(sync::scan_folder(folder.root, {}, options()));
  EXPECT_TRUE(fs::exists(folder.root / ".syncthing.new.wav.tmp"));
}

TEST(Scanner, FileWrittenWhileHashedIsSkippedThisRound) {
  Folder folder("busy");
  const auto file = folder.root / "growing";
  write(file, std::string(3 * sync::MIN_BLOCK_SIZE, 'g'));
  auto opts = options();
  bool appended = false;
  opts.progress = [&](std::uint64_t done, std::uint64_t) {
    if (done > 0 && !appended) {
      appended = true;
      std::ofstream(file, std::ios::app) << "more";
    }
  };
  auto scan = sync::scan_folder(folder.root, {}, opts);
  ASSERT_TRUE(scan) << scan.error().message;
  EXPECT_TRUE(appended);
  EXPECT_EQ(find(scan->changed, "growing"), nullptr);
  ASSERT_EQ(scan->errors.size(), 1u);
  EXPECT_EQ(scan->errors[0].name, "growing");
  EXPECT_EQ(scan->errors[0].error.code, sync::make_error_code(sync::errc::changed_while_hashing));
  auto next = sync::scan_folder(folder.root, {}, options());
  ASSERT_TRUE(next);
  ASSERT_NE(find(next->changed, "growing"), nullptr);
  EXPECT_EQ(find(next->changed, "growing")->size, 3 * sync::MIN_BLOCK_SIZE + 4);
}

TEST(Scanner, IdenticalCopyWithNewInodeIsRefreshedNotChanged) {
  Folder folder("inode");
  write(folder.root / "f", "content");
  set_mtime(folder.root / "f", 1'650'000'000, 0);
  auto first = sync::scan_folder(folder.root, {}, options());
  ASSERT_TRUE(first);
  const auto old = first->changed[0];
  // Keep the first inode allocated, or the file system may hand the same number to a copy.
  const fs::path keep = folder.root.string() + "_keep";
  fs::remove(keep);
  fs::create_hard_link(folder.root / "f", keep);
  // Replaced by a copy with the same bytes and times: a new inode.
  write(folder.root / "f.copy", "content");
  set_mtime(folder.root / "f.copy", 1'650'000'000, 0);
  fs::rename(folder.root / "f.copy", folder.root / "f");
  auto scan = sync::scan_folder(folder.root, first->changed, options());
  ASSERT_TRUE(scan) << scan.error().message;
  EXPECT_TRUE(scan->changed.empty());
  ASSERT_EQ(scan->refreshed.size(), 1u);
  EXPECT_NE(scan->refreshed[0].inode, old.inode);
  EXPECT_EQ(scan->refreshed[0].version, old.version);
  // With different bytes it is a change.
  write(folder.root / "f.copy", "CONTENT");
  set_mtime(folder.root / "f.copy", 1'650'000'000, 0);
  fs::rename(folder.root / "f.copy", folder.root / "f");
  scan = sync::scan_folder(folder.root, first->changed, options());
  ASSERT_TRUE(scan);
  fs::remove(keep);
  ASSERT_EQ(scan->changed.size(), 1u);
  EXPECT_EQ(sync::compare(scan->changed[0].version, old.version), Ordering::greater);
}

TEST(Scanner, DirectoryReplacedBySymlinkDeletesWhatWasInIt) {
  Folder folder("swap");
  fs::create_directory(folder.root / "d");
  write(folder.root / "d" / "secret", "s");
  auto first = sync::scan_folder(folder.root, {}, options());
  ASSERT_TRUE(first);
  // "d" becomes a link to a directory outside holding a file of the same name.
  const auto outside = folder.root.string() + "_outside";
  fs::create_directories(outside);
  write(fs::path(outside) / "secret", "not ours");
  fs::remove_all(folder.root / "d");
  fs::create_directory_symlink(outside, folder.root / "d");
  auto scan = sync::scan_folder(folder.root, first->changed, options());
  fs::remove_all(outside);
  ASSERT_TRUE(scan) << scan.error().message;
  ASSERT_EQ(scan->changed.size(), 2u);
  EXPECT_EQ(scan->changed[0].name, "d");
  EXPECT_EQ(scan->changed[0].type, 4);
  EXPECT_EQ(scan->changed[1].name, "d/secret");
  EXPECT_TRUE(scan->changed[1].deleted);
  EXPECT_EQ(scan->hashed_bytes, 0u);
}

TEST(Scanner, UnreadableDirectoryIsReportedNotDeleted) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads every directory";
  Folder folder("unreadable");
  fs::create_directory(folder.root / "locked");
  write(folder.root / "locked" / "f", "x");
  auto first = sync::scan_folder(folder.root, {}, options());
  ASSERT_TRUE(first);
  ::chmod((folder.root / "locked").c_str(), 0);
  auto scan = sync::scan_folder(folder.root, first->changed, options());
  ::chmod((folder.root / "locked").c_str(), 0755);
  ASSERT_TRUE(scan) << scan.error().message;
  EXPECT_EQ(find(scan->changed, "locked/f"), nullptr);
  ASSERT_FALSE(scan->errors.empty());
  EXPECT_EQ(scan->errors[0].name, "locked");
}

TEST(Scanner, CancelStopsTheScan) {
  Folder folder("stop");
  write(folder.root / "a", "a");
  std::atomic<bool> cancel{true};
  auto opts = options();
  opts.cancel = &cancel;
  auto scan = sync::scan_folder(folder.root, {}, opts);
  ASSERT_FALSE(scan);
  EXPECT_EQ(scan.error().code, sync::make_error_code(sync::errc::cancelled));
}

TEST(FolderFs, OpenBeneathNeverFollowsSymlinks) {
  Folder folder("beneath");
  fs::create_directory(folder.root / "d");
  write(folder.root / "d" / "f", "x");
  fs::create_directory_symlink("/etc", folder.root / "etc");
  fs::create_symlink("d/f", folder.root / "flink");
  auto root = sync::open_root(folder.root);
  ASSERT_TRUE(root);
  EXPECT_TRUE(sync::open_beneath(root->get(), "d/f", O_RDONLY));
  EXPECT_FALSE(sync::open_beneath(root->get(), "etc/hostname", O_RDONLY));
  EXPECT_FALSE(sync::open_beneath(root->get(), "flink", O_RDONLY));
  EXPECT_FALSE(sync::open_beneath(root->get(), "../x", O_RDONLY));
  EXPECT_FALSE(sync::open_beneath(root->get(), "/etc/hostname", O_RDONLY));
  EXPECT_EQ(sync::presence_beneath(root->get(), "d/f"), sync::Presence::present);
  EXPECT_EQ(sync::presence_beneath(root->get(), "d/nope"), sync::Presence::gone);
  EXPECT_EQ(sync::presence_beneath(root->get(), "etc/hostname"), sync::Presence::gone);
  EXPECT_EQ(sync::presence_beneath(root->get(), "d/f/under_a_file"), sync::Presence::gone);
}

// ---- a held file released by the user (file_ops.hpp temp_from_held) ----

TEST(FileOps, HeldCopyIsCheckedBlockByBlockOnItsWayIn) {
  Folder folder("held");
  Folder quarantine("held_q");
  const fs::path held = quarantine.root / "x.bin";
  std::string data(300 * 1024, '\0');
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7 % 251);
  write(held, data);
  store::SyncFile global;
  global.name = "sub/x.bin";
  global.size = static_cast<std::int64_t>(data.size());
  auto blocks = sync::hash_file(held, sync::MIN_BLOCK_SIZE);
  ASSERT_TRUE(blocks);
  ASSERT_EQ(blocks->size(), 3u);
  global.blocks = *blocks;

  auto temp = sync::temp_from_held(folder.root, global, held);
  ASSERT_TRUE(temp) << temp.error().message;
  EXPECT_EQ(*temp, folder.root / "sub" / ".syncthing.x.bin.tmp");
  std::ifstream in(*temp, std::ios::binary);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), data);
  fs::remove(*temp);

  // One byte changed in the second block: refused, saying where, and no temporary file is left.
  data[sync::MIN_BLOCK_SIZE + 5] ^= 1;
  write(held, data);
  temp = sync::temp_from_held(folder.root, global, held);
  ASSERT_FALSE(temp);
  EXPECT_EQ(temp.error().code, base::make_error_code(base::errc::bad_input));
  EXPECT_NE(temp.error().message.find("block at byte 131072"), std::string::npos) << temp.error().message;
  EXPECT_FALSE(fs::exists(folder.root / "sub" / ".syncthing.x.bin.tmp"));

  // Another size, or a symlink where the copy was: refused too.
  write(held, data.substr(1));
  temp = sync::temp_from_held(folder.root, global, held);
  ASSERT_FALSE(temp);
  EXPECT_EQ(temp.error().code, base::make_error_code(base::errc::bad_input));
  fs::remove(held);
  fs::create_symlink(folder.root / "elsewhere", held);
  EXPECT_FALSE(sync::temp_from_held(folder.root, global, held));
  EXPECT_FALSE(fs::exists(folder.root / "sub" / ".syncthing.x.bin.tmp"));
}

TEST(RecentChanges, NewestFirstAndBounded) {
  sync::RecentChanges ring;
  EXPECT_TRUE(ring.list().empty());
  for (std::size_t i = 0; i < sync::RecentChanges::MAX + 5; ++i) {
    sync::ChangeView c;
    c.time = static_cast<std::int64_t>(1000 + i);
    c.name = "f" + std::to_string(i);
    c.action = "updated";
    ring.add(std::move(c));
  }
  EXPECT_EQ(ring.size(), sync::RecentChanges::MAX);
  const auto list = ring.list();
  ASSERT_EQ(list.size(), sync::RecentChanges::MAX);
  EXPECT_EQ(list.front().name, "f" + std::to_string(sync::RecentChanges::MAX + 4));  // the newest
  EXPECT_EQ(list.back().name, "f5");                                                 // the five oldest went
  for (std::size_t i = 1; i < list.size(); ++i) EXPECT_GT(list[i - 1].time, list[i].time);
}
