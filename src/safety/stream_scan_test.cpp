// Scanner::scan_source and the per-file Inspector calls, with real libclamav and the tests' database
// (tests/clamav/make_test_db.sh: EICAR by MD5, SHA-256 and a body signature).
//
// A GatedBytes plays a download: another thread releases the file's 64 KiB chunks in a shuffled order,
// and reads wait for the chunks they touch, as FileReader waits for verified pieces.
#include <gtest/gtest.h>

#include <algorithm>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <random>
#include <thread>

#include "safety/errors.hpp"
#include "safety/inspector.hpp"
#include "safety/runnable.hpp"
#include "safety/scanner.hpp"

namespace fs = std::filesystem;
using namespace kith;
using namespace kith::safety;
using Clock = std::chrono::steady_clock;

namespace {

std::string eicar() {  // in two halves, so this file is no detection itself
  return std::string("X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-") + "STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
}

std::string noise(std::size_t n, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::string out(n, '\0');
  for (auto& c : out) c = static_cast<char>(rng());
  return out;
}

void write(const fs::path& p, const std::string& data) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << data;
}

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

struct Dir {
  fs::path path;
  Dir() {
    std::random_device rd;
    path = fs::temp_directory_path() / ("kith-stream-" + std::to_string(rd()));
    fs::create_directories(path);
  }
  ~Dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

// The tests' database, built once per run by the script the integration tests use.
const fs::path& test_db() {
  static Dir dir;
  static const fs::path db = [] {
    auto out = dir.path / "db";
    auto cmd = std::string("'") + KITH_TEST_DB_SCRIPT + "' '" + out.string() + "' >/dev/null";
    if (std::system(cmd.c_str()) != 0) return fs::path();
    return out;
  }();
  return db;
}

std::shared_ptr<const Scanner> open_scanner(ScannerOptions o = {}) {
  o.databases = {test_db()};
  auto s = Scanner::open(o);
  if (!s) return nullptr;
  return std::shared_ptr<const Scanner>(std::move(*s));
}

// A file whose bytes arrive in 64 KiB chunks in a shuffled order, from another thread.
class GatedBytes {
 public:
  static constexpr std::size_t CHUNK = 64 * 1024;

  explicit GatedBytes(std::string data, unsigned seed = 1,
                      std::chrono::microseconds pace = std::chrono::microseconds(1500))
      : m_data(std::move(data)), m_released((m_data.size() + CHUNK - 1) / CHUNK, false) {
    std::vector<std::size_t> order(m_released.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::shuffle(order.begin(), order.end(), std::mt19937(seed));
    m_feeder = std::thread([this, order, pace] {
      for (auto chunk : order) {
        std::this_thread::sleep_for(pace);
        std::lock_guard lock(m_mutex);
        if (m_stop) return;
        if (chunk * CHUNK >= m_hold_from) continue;  // held back for good
        m_released[chunk] = true;
        m_cv.notify_all();
      }
    });
  }
  ~GatedBytes() {
    {
      std::lock_guard lock(m_mutex);
      m_stop = true;
    }
    m_feeder.join();
  }

  // Reads touching bytes at or past `offset` fail (the source gives up there).
  void fail_from(std::uint64_t offset) {
    std::lock_guard lock(m_mutex);
    m_fail_from = offset;
  }
  // Chunks at or past `offset` are never released (a download that stalls).
  void hold_from(std::uint64_t offset) {
    std::lock_guard lock(m_mutex);
    m_hold_from = offset;
  }
  int waits() const {
    std::lock_guard lock(m_mutex);
    return m_waits;
  }

  ByteSource source(const std::string& name) {
    ByteSource s;
    s.size = m_data.size();
    s.name = name;
    s.read = [this](void* buf, std::size_t count, std::uint64_t offset, ByteSource::Deadline deadline) {
      return read(buf, count, offset, deadline);
    };
    return s;
  }

 private:
  Result<std::size_t> read(void* buf, std::size_t count, std::uint64_t offset,
                           ByteSource::Deadline deadline) {
    const auto n = std::min<std::uint64_t>(count, m_data.size() - offset);
    std::unique_lock lock(m_mutex);
    if (offset + n > m_fail_from)
      return fail(make_error_code(base::errc::unavailable), "the download was removed");
    auto ready = [&] {
      for (auto c = offset / CHUNK; c <= (offset + n - 1) / CHUNK; ++c) {
        if (!m_released[c]) return false;
      }
      return true;
    };
    if (!ready()) {
      ++m_waits;
      if (!m_cv.wait_until(lock, deadline, ready))
        return fail(make_error_code(base::errc::unavailable), "the bytes did not arrive in time");
    }
    std::memcpy(buf, m_data.data() + offset, n);
    return static_cast<std::size_t>(n);
  }

  std::string m_data;
  mutable std::mutex m_mutex;
  std::condition_variable m_cv;
  std::vector<bool> m_released;
  std::uint64_t m_fail_from = UINT64_MAX;
  std::uint64_t m_hold_from = UINT64_MAX;
  int m_waits = 0;
  bool m_stop = false;
  std::thread m_feeder;
};

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

bool has_name(const std::vector<std::string>& names, const std::string& part) {
  return std::any_of(names.begin(), names.end(),
                     [&](const auto& n) { return n.find(part) != std::string::npos; });
}

// The files every streaming test runs over: clean, EICAR at the start, in the middle of a large file, at
// the end, alone (hash signatures), and in zips (libclamav reads a zip's central directory at the end
// first), stored and deflated.
struct Corpus {
  Dir dir;
  std::vector<std::string> names;
  Corpus() {
    const auto e = eicar();
    add("clean.bin", noise(3 << 20, 1));
    add("start.bin", e + noise(3 << 20, 2));
    add("middle.bin", noise(6 << 20, 3) + e + noise(6 << 20, 4));
    add("end.bin", noise(3 << 20, 5) + e);
    add("eicar.com", e);
    write(dir.path / "zip" / "filler1.bin", noise(2 << 20, 6));
    write(dir.path / "zip" / "eicar.com", e);
    write(dir.path / "zip" / "filler2.bin", noise(1 << 20, 7));
    for (auto [name, flags] : {std::pair{"stored.zip", "-0"}, std::pair{"deflated.zip", "-6"}}) {
      auto cmd = "cd '" + (dir.path / "zip").string() + "' && zip -q " + flags + " '" +
                 (dir.path / name).string() + "' filler1.bin eicar.com filler2.bin";
      if (std::system(cmd.c_str()) == 0) names.push_back(name);
    }
  }
  void add(const std::string& name, const std::string& data) {
    write(dir.path / name, data);
    names.push_back(name);
  }
  fs::path path(const std::string& name) const { return dir.path / name; }
};

const Corpus& corpus() {
  static Corpus c;
  return c;
}

}  // namespace

TEST(StreamScan, SameVerdictAsScanningTheWholeFile) {
  auto scanner = open_scanner();
  ASSERT_TRUE(scanner) << "cannot build or load the tests' database";
  ASSERT_EQ(corpus().names.size(), 7u) << "zip is needed (scripts/install-deps.sh)";
  unsigned seed = 10;
  for (const auto& name : corpus().names) {
    SCOPED_TRACE(name);
    const auto whole = scanner->scan(corpus().path(name));
    ASSERT_TRUE(whole.ok) << whole.error;
    GatedBytes gated(read(corpus().path(name)), ++seed);
    const auto streamed = scanner->scan_source(gated.source(name));
    EXPECT_FALSE(streamed.aborted) << streamed.error;
    EXPECT_TRUE(streamed.verdict());
    EXPECT_TRUE(streamed.ok) << streamed.error;
    EXPECT_EQ(sorted(streamed.names), sorted(whole.names));
    EXPECT_EQ(streamed.bytes, whole.bytes);
    if (name != "eicar.com") {
      EXPECT_GT(gated.waits(), 0) << "the scan never had to wait: not a test of streaming";
      EXPECT_FALSE(whole.names.empty() && name != "clean.bin") << "the database should find EICAR";
    }
    std::cout << name << ": " << streamed.names.size() << " detections, waited " << streamed.waited.count()
              << " ms of " << streamed.elapsed.count() << " ms\n";
  }
}

TEST(StreamScan, HashSignaturesMatchThroughTheStream) {
  auto scanner = open_scanner();
  ASSERT_TRUE(scanner);
  GatedBytes gated(eicar());
  const auto s = scanner->scan_source(gated.source("eicar.com"));
  ASSERT_TRUE(s.ok) << s.error;
  EXPECT_TRUE(has_name(s.names, "Kith.Test.Eicar.MD5")) << ::testing::PrintToString(s.names);
  EXPECT_TRUE(has_name(s.names, "Kith.Test.Eicar.SHA256")) << ::testing::PrintToString(s.names);
  EXPECT_TRUE(has_name(s.names, "Kith.Test.Eicar.Body")) << ::testing::PrintToString(s.names);
}

TEST(StreamScan, AnAbortingSourceIsNeverAVerdict) {
  auto scanner = open_scanner();
  ASSERT_TRUE(scanner);
  for (const auto& name : {"clean.bin", "start.bin", "end.bin", "stored.zip", "eicar.com"}) {
    const auto data = read(corpus().path(name));
    for (std::uint64_t from :
         {std::uint64_t{0}, std::uint64_t{data.size() / 2}, std::uint64_t{data.size() - 1}}) {
      SCOPED_TRACE(std::string(name) + " failing from byte " + std::to_string(from));
      GatedBytes gated(data);
      gated.fail_from(from);
      const auto s = scanner->scan_source(gated.source(name));
      EXPECT_TRUE(s.aborted);
      EXPECT_FALSE(s.verdict());
      EXPECT_FALSE(s.ok);
      EXPECT_TRUE(s.names.empty()) << "an aborted scan reports nothing: "
                                   << ::testing::PrintToString(s.names);
      EXPECT_NE(s.error.find("removed"), std::string::npos) << s.error;
    }
  }
  // A source with no reader at all.
  ByteSource none;
  none.size = 100;
  EXPECT_TRUE(scanner->scan_source(none).aborted);
}

TEST(StreamScan, AStalledDownloadGivesUpBeforeTheTimeLimit) {
  // 2 s per file, of which scan_source waits for bytes at most 75 %: the download stalls halfway.
  auto scanner = open_scanner({.max_scan_ms = 2000});
  ASSERT_TRUE(scanner);
  for (const auto& name : {"clean.bin", "start.bin"}) {
    SCOPED_TRACE(name);
    const auto data = read(corpus().path(name));
    GatedBytes gated(data);
    gated.hold_from(data.size() / 2);
    const auto s = scanner->scan_source(gated.source(name));
    EXPECT_TRUE(s.aborted);
    EXPECT_TRUE(s.names.empty()) << ::testing::PrintToString(s.names);
    EXPECT_NE(s.error.find("in time"), std::string::npos) << s.error;
  }
}

TEST(StreamScan, LibclamavsTimeLimitWhileWaitingIsNotAVerdict) {
  // A source that is slow on every read but never fails (it ignores the deadline), and a wait budget as
  // long as the time limit: libclamav's own clock runs out first. Its "Heuristics.Limits.Exceeded
  // .MaxScanTime" alert must not come back as a "not fully scanned" verdict.
  auto scanner = open_scanner({.max_scan_ms = 300, .stream_wait_percent = 100});
  ASSERT_TRUE(scanner);
  const auto data = read(corpus().path("clean.bin"));
  ByteSource slow;
  slow.size = data.size();
  slow.name = "clean.bin";
  slow.read = [&](void* buf, std::size_t count, std::uint64_t offset,
                  ByteSource::Deadline) -> Result<std::size_t> {
    std::this_thread::sleep_for(std::chrono::milliseconds(40));
    const auto n = std::min<std::uint64_t>(count, data.size() - offset);
    std::memcpy(buf, data.data() + offset, n);
    return static_cast<std::size_t>(n);
  };
  const auto s = scanner->scan_source(slow);
  EXPECT_TRUE(s.aborted) << "ok=" << s.ok << " names=" << ::testing::PrintToString(s.names);
  EXPECT_TRUE(s.names.empty());
  // The same file, whole, scans completely within the same limit: the limit was the waiting's doing.
  const auto whole = scanner->scan(corpus().path("clean.bin"));
  EXPECT_TRUE(whole.ok);
  EXPECT_TRUE(whole.names.empty()) << ::testing::PrintToString(whole.names);
}

TEST(Runnable, ByNameAndFirstBytes) {
  EXPECT_EQ(runnable_kind(fs::path("a/setup.EXE"), ""), "Windows executable");
  EXPECT_EQ(runnable_kind(fs::path("tool"), std::string("\x7f"
                                                        "ELF",
                                                        4)),
            "ELF executable");
  EXPECT_EQ(runnable_kind(fs::path("notes.txt"), "MZ"), "Windows executable");
  EXPECT_EQ(runnable_kind(fs::path("run-me"), "#!/bin/sh"), "script");
  EXPECT_FALSE(runnable_kind(fs::path("photo.jpg"), "\xff\xd8\xff\xe0"));
  EXPECT_FALSE(runnable_kind(fs::path("x"), "M"));
}

TEST(Inspector, PerFileVerdictsDecideLikeInspect) {
  Dir t;
  auto scanner = open_scanner({.max_file_size = 1024});
  ASSERT_TRUE(scanner);
  write(t.path / "dl" / "a" / "clean.txt", "fine\n");
  write(t.path / "dl" / "a" / "eicar.com", eicar());
  write(t.path / "dl" / "a" / "big.bin", std::string(4096, 'x'));
  write(t.path / "dl" / "a" / "tool.sh", "#!/bin/sh\n");
  write(t.path / "dl" / "a" / "mz.txt", "MZ");
  const std::vector<std::vector<fs::path>> sets = {
      {"a/clean.txt"},
      {"a/clean.txt", "a/eicar.com", "a/big.bin"},
      {"a/big.bin", "a/clean.txt"},
      {"a/tool.sh", "a/mz.txt"},
      {"a/gone.txt"},
  };
  for (bool hold : {false, true}) {
    Inspector inspector({.hold_runnable = hold});
    inspector.set_scanner(scanner, "");
    for (const auto& files : sets) {
      SCOPED_TRACE(::testing::PrintToString(files));
      const auto whole = inspector.inspect(t.path / "dl", files);
      std::vector<FileVerdict> from_files, from_streams;
      for (const auto& rel : files) {
        from_files.push_back(inspector.inspect_file(t.path / "dl", rel));
        if (!fs::exists(t.path / "dl" / rel)) continue;  // a missing file has no stream
        GatedBytes gated(read(t.path / "dl" / rel));
        auto v = inspector.inspect_stream(rel, gated.source(rel.string()));
        ASSERT_TRUE(v) << v.error().message;
        from_streams.push_back(*v);
      }
      EXPECT_EQ(to_json(inspector.decide(files, from_files)), to_json(whole));
      // Streams: the same except for a file that could not be opened (it has no stream, so no verdict:
      // "not scanned" rather than libclamav's error, and still held back).
      const auto streamed = inspector.decide(files, from_streams);
      EXPECT_EQ(streamed.outcome, whole.outcome);
      EXPECT_EQ(streamed.signature, whole.signature);
      EXPECT_EQ(streamed.runnable, whole.runnable);
    }
  }
}

TEST(Inspector, AWantedFileWithoutAVerdictHoldsTheDownload) {
  Dir t;
  auto scanner = open_scanner();
  ASSERT_TRUE(scanner);
  write(t.path / "dl" / "one.txt", "fine\n");
  write(t.path / "dl" / "two.txt", "fine too\n");
  Inspector inspector({});
  inspector.set_scanner(scanner, "");
  const auto one = inspector.inspect_file(t.path / "dl", "one.txt");
  EXPECT_TRUE(inspector.decide({"one.txt"}, {one}).release());
  const auto d = inspector.decide({"one.txt", "two.txt"}, {one});
  EXPECT_EQ(d.outcome, Outcome::incomplete);
  EXPECT_FALSE(d.release());
  EXPECT_NE(d.reason.find("two.txt"), std::string::npos) << d.reason;
  EXPECT_EQ(inspector.decide({"two.txt"}, {}).outcome, Outcome::incomplete);
  // A verdict for a file that is not wanted does not stand in for one that is.
  EXPECT_EQ(inspector.decide({"two.txt"}, {one}).outcome, Outcome::incomplete);
}

TEST(Inspector, StreamVerdictsAbortedAndWithoutDatabase) {
  auto scanner = open_scanner();
  ASSERT_TRUE(scanner);
  Inspector inspector({});
  inspector.set_scanner(scanner, "");
  GatedBytes infected(noise(1 << 20, 9) + eicar());
  auto v = inspector.inspect_stream("x/eicar.bin", infected.source("eicar.bin"));
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_TRUE(v->infected());
  EXPECT_EQ(inspector.decide({"x/eicar.bin"}, {*v}).outcome, Outcome::infected);

  GatedBytes gone(noise(1 << 20, 9) + eicar());
  gone.fail_from(0);
  auto aborted = inspector.inspect_stream("x/eicar.bin", gone.source("eicar.bin"));
  ASSERT_FALSE(aborted);
  EXPECT_EQ(aborted.error().code, make_error_code(errc::scan_aborted));

  GatedBytes exe("MZ");
  auto small = inspector.inspect_stream("tool.txt", exe.source("tool.txt"));
  ASSERT_TRUE(small) << small.error().message;
  EXPECT_EQ(small->finding.runnable, "Windows executable");
  EXPECT_FALSE(small->infected());

  Inspector no_db({});
  no_db.set_scanner(nullptr, "no ClamAV signature database found");
  GatedBytes clean("hello");
  auto nv = no_db.inspect_stream("hello.txt", clean.source("hello.txt"));
  ASSERT_TRUE(nv);
  const auto d = no_db.decide({"hello.txt"}, {*nv});
  EXPECT_EQ(d.outcome, Outcome::no_database);
  EXPECT_NE(d.reason.find("no ClamAV signature database"), std::string::npos);
}
