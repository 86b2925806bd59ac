#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include "safety/errors.hpp"
#include "safety/inspector.hpp"
#include "safety/runnable.hpp"
#include "safety/scanner.hpp"

namespace fs = std::filesystem;
using namespace kith::safety;

namespace {

// Built from two halves so this source file is not itself a detection for scanners on the machine.
std::string eicar() {
  return std::string("X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-") + "STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
}

std::string hex(const std::string& s) {
  static const char* D = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out += D[c >> 4];
    out += D[c & 15];
  }
  return out;
}

struct TempDir {
  fs::path path;
  TempDir() {
    std::random_device rd;
    path = fs::temp_directory_path() / ("kith-safety-" + std::to_string(rd()));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

void write(const fs::path& p, const std::string& data) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << data;
}

// A database with one body signature (ClamAV .ndb: Name:TargetType:Offset:HexSignature) matching
// the EICAR test string anywhere in any file.
fs::path make_db(const fs::path& dir) {
  write(dir / "db" / "kith-test.ndb", "Kith.Test.Eicar:0:*:" + hex(eicar().substr(0, 40)) + "\n");
  return dir / "db";
}

}  // namespace

TEST(Runnable, ByExtensionAndMagic) {
  TempDir t;
  write(t.path / "setup.EXE", "anything");
  write(t.path / "tool", std::string("\x7f"
                                     "ELF\x02\x01",
                                     6));
  write(t.path / "run-me", "#!/bin/sh\necho hi\n");
  write(t.path / "report.docm", "x");
  write(t.path / "photo.jpg", "\xff\xd8\xff\xe0");
  write(t.path / "notes.txt", "MZ");  // a text file that starts like a PE: judged by its bytes
  EXPECT_EQ(runnable_kind(t.path / "setup.EXE"), "Windows executable");
  EXPECT_EQ(runnable_kind(t.path / "tool"), "ELF executable");
  EXPECT_EQ(runnable_kind(t.path / "run-me"), "script");
  EXPECT_TRUE(runnable_kind(t.path / "report.docm"));
  EXPECT_FALSE(runnable_kind(t.path / "photo.jpg"));
  EXPECT_TRUE(runnable_kind(t.path / "notes.txt"));
  EXPECT_FALSE(runnable_kind(t.path / "missing.bin"));
}

TEST(Alerts, Sorted) {
  EXPECT_TRUE(is_incomplete_alert("Heuristics.Encrypted.Zip"));
  EXPECT_TRUE(is_incomplete_alert("Heuristics.Limits.Exceeded.MaxFileSize"));
  EXPECT_FALSE(is_incomplete_alert("Win.Test.EICAR_HDB-1"));
  EXPECT_TRUE(is_macro_alert("Heuristics.OLE2.ContainsMacros.VBA"));
  EXPECT_FALSE(is_macro_alert("Heuristics.Encrypted.Zip"));
}

TEST(Scanner, NoDatabaseIsAnError) {
  TempDir t;
  fs::create_directories(t.path / "empty");
  auto s = Scanner::open({.databases = {t.path / "empty", t.path / "missing"}});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, make_error_code(errc::no_database));
}

TEST(Scanner, FindsBodySignatureAndPassesCleanFile) {
  TempDir t;
  auto s = Scanner::open({.databases = {make_db(t.path)}});
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ((*s)->signature_count(), 1u);
  write(t.path / "bad.com", eicar());
  write(t.path / "good.txt", "hello\n");
  auto bad = (*s)->scan(t.path / "bad.com");
  ASSERT_TRUE(bad.ok) << bad.error;
  ASSERT_EQ(bad.names.size(), 1u);
  EXPECT_NE(bad.names[0].find("Kith.Test.Eicar"), std::string::npos);
  auto good = (*s)->scan(t.path / "good.txt");
  EXPECT_TRUE(good.ok);
  EXPECT_TRUE(good.names.empty());
  auto missing = (*s)->scan(t.path / "missing");
  EXPECT_FALSE(missing.ok);
}

TEST(Inspector, Verdicts) {
  TempDir t;
  auto scanner = Scanner::open({.databases = {make_db(t.path)}, .max_file_size = 1024});
  ASSERT_TRUE(scanner) << scanner.error().message;
  std::shared_ptr<const Scanner> shared = std::move(*scanner);
  write(t.path / "dl" / "a" / "clean.txt", "fine\n");
  write(t.path / "dl" / "a" / "eicar.com", eicar());
  write(t.path / "dl" / "a" / "big.bin", std::string(4096, 'x'));
  write(t.path / "dl" / "a" / "tool.sh", "#!/bin/sh\n");

  Inspector inspector({.hold_runnable = false});
  inspector.set_scanner(shared, "");
  EXPECT_EQ(inspector.state()["scanner"], "ready");

  auto clean = inspector.inspect(t.path / "dl", {"a/clean.txt"});
  EXPECT_EQ(clean.outcome, Outcome::clean);
  EXPECT_TRUE(clean.release());

  auto infected = inspector.inspect(t.path / "dl", {"a/clean.txt", "a/eicar.com", "a/big.bin"});
  EXPECT_EQ(infected.outcome, Outcome::infected);
  EXPECT_NE(infected.signature.find("Kith.Test.Eicar"), std::string::npos);
  EXPECT_NE(infected.reason.find("a/eicar.com"), std::string::npos);

  auto big = inspector.inspect(t.path / "dl", {"a/big.bin"});
  EXPECT_EQ(big.outcome, Outcome::incomplete) << big.reason;
  EXPECT_FALSE(big.release());

  auto runnable = inspector.inspect(t.path / "dl", {"a/tool.sh"});
  EXPECT_EQ(runnable.outcome, Outcome::clean);
  ASSERT_EQ(runnable.runnable.size(), 1u);
  EXPECT_EQ(runnable.runnable[0], "a/tool.sh");

  Inspector holding({.hold_runnable = true});
  holding.set_scanner(shared, "");
  EXPECT_EQ(holding.inspect(t.path / "dl", {"a/tool.sh"}).outcome, Outcome::held_runnable);

  auto missing = inspector.inspect(t.path / "dl", {"a/gone.txt"});
  EXPECT_EQ(missing.outcome, Outcome::incomplete);
}

TEST(Inspector, NoDatabaseHoldsEverything) {
  TempDir t;
  write(t.path / "dl" / "clean.txt", "fine\n");
  Inspector inspector({});
  inspector.set_scanner(nullptr, "no ClamAV signature database found");
  EXPECT_EQ(inspector.state()["scanner"], "unavailable");
  auto d = inspector.inspect(t.path / "dl", {"clean.txt"});
  EXPECT_EQ(d.outcome, Outcome::no_database);
  EXPECT_FALSE(d.release());
  EXPECT_NE(d.reason.find("no ClamAV signature database"), std::string::npos);
}

#include "safety/report.hpp"

TEST(Report, RoundTripAndRejects) {
  Report r;
  r.id = "20261126T120000Z-0123abcd";
  r.created_at = "2026-11-26T12:00:00Z";
  r.reason = "found malware";
  r.transfer_id = std::string(40, 'a');
  r.info_hashes = {"v1:" + std::string(40, 'a'), "v2:" + std::string(64, 'b')};
  r.outcome = "infected";
  r.files = {{"x/eicar.com", 68, std::string(64, 'c')}};
  r.peers = {"127.0.0.1:1 (x)"};
  auto text = to_json(r).dump();
  auto back = parse_report(text);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->files.at(0).sha256, r.files[0].sha256);
  EXPECT_EQ(back->info_hashes, r.info_hashes);

  auto j = to_json(r);
  j["files"][0]["sha256"] = "zz";
  EXPECT_FALSE(parse_report(j.dump()));
  j = to_json(r);
  j["info_hashes"] = {"v3:00"};
  EXPECT_FALSE(parse_report(j.dump()));
  j = to_json(r);
  j.erase("reason");
  EXPECT_FALSE(parse_report(j.dump()));
  EXPECT_FALSE(parse_report("not json"));
}
