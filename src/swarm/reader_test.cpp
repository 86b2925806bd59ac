// PieceGate on its own, and FileReader / file_completed / sources() over real libtorrent sessions on
// loopback (part of swarm_test).
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <libtorrent/alert.hpp>
#include <libtorrent/settings_pack.hpp>
#include <set>
#include <thread>

#include "base/fs.hpp"
#include "base/hex.hpp"
#include "swarm/detail/settings.hpp"
#include "swarm/piece_gate.hpp"
#include "swarm/session_host.hpp"
#include "swarm/torrent_maker.hpp"

using namespace kith;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

fs::path temp_dir(const std::string& name) {
  auto d = fs::temp_directory_path() / ("kith_reader_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

void write(const fs::path& p, std::size_t size, char seed) {
  fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary);
  for (std::size_t i = 0; i < size; ++i) out.put(static_cast<char>(seed + static_cast<char>(i * 131 % 251)));
}

std::string slice(const fs::path& p, std::uint64_t offset, std::size_t n) {
  std::ifstream in(p, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(offset));
  std::string out(n, '\0');
  in.read(out.data(), static_cast<std::streamsize>(n));
  out.resize(static_cast<std::size_t>(in.gcount()));
  return out;
}

swarm::SessionOptions loopback() {
  swarm::SessionOptions o;
  o.listen = "127.0.0.1:0";
  o.dht = false;
  o.lsd = false;
  o.upnp = false;
  o.natpmp = false;
  return o;
}

// An io thread, a seeder (optionally rate-limited, loopback included) and the events of the leecher.
struct Net {
  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{io.get_executor()};
  std::thread thread{[this] { io.run(); }};
  std::mutex m;
  std::condition_variable cv;
  std::vector<swarm::SwarmEvent> events;

  swarm::SessionHost::EventHandler recorder() {
    return [this](const swarm::SwarmEvent& e) {
      std::lock_guard lock(m);
      events.push_back(e);
      cv.notify_all();
    };
  }
  bool wait_for(swarm::SwarmEvent::Kind kind, std::chrono::seconds timeout) {
    std::unique_lock lock(m);
    return cv.wait_for(lock, timeout, [&] {
      return std::any_of(events.begin(), events.end(), [&](const auto& e) { return e.kind == kind; });
    });
  }
  ~Net() {
    work.reset();
    io.stop();
    thread.join();
  }
};

swarm::SessionOptions limited(int bytes_per_second) {
  auto o = loopback();
  o.upload_limit = bytes_per_second;
  o.limit_lan = true;
  return o;
}

std::string peer_of(const swarm::SessionHost& host) {
  return "127.0.0.1:" + std::to_string(host.listen_port());
}

}  // namespace

// ---- PieceGate, no libtorrent ----

TEST(PieceGate, PicturesAlertsAndWaits) {
  swarm::PieceGate gate;
  EXPECT_FALSE(gate.known());
  gate.add(3);  // an alert before the first picture is kept
  gate.apply(gate.epoch(), 8, {0, 1});
  EXPECT_TRUE(gate.known());
  EXPECT_EQ(gate.num_pieces(), 8);
  EXPECT_TRUE(gate.has(0) && gate.has(1) && gate.has(3));
  EXPECT_EQ(gate.missing(0, 4), (std::vector<int>{2, 4}));
  EXPECT_TRUE(gate.wait(0, 1, Clock::now()));
  auto r = gate.wait(0, 2, Clock::now() + 50ms);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, swarm::make_error_code(swarm::errc::timed_out));
  EXPECT_EQ(gate.wait(7, 8, Clock::now()).error().code, base::make_error_code(base::errc::invalid_argument));

  auto waiter = std::async(std::launch::async, [&] { return gate.wait(2, 2, Clock::now() + 30s); });
  std::this_thread::sleep_for(20ms);
  gate.add(2);
  ASSERT_EQ(waiter.wait_for(10s), std::future_status::ready);
  EXPECT_TRUE(waiter.get());
}

TEST(PieceGate, ACheckForgetsEverythingAndStalePicturesAreDropped) {
  swarm::PieceGate gate;
  gate.apply(gate.epoch(), 4, {0, 1, 2});
  const auto before = gate.epoch();
  gate.start_check();
  EXPECT_FALSE(gate.has(0));
  EXPECT_FALSE(gate.known());
  gate.add(1);  // an alert still queued from before the check
  EXPECT_FALSE(gate.has(1));
  gate.apply(before, 4, {0, 1, 2});  // a picture taken before the check started
  EXPECT_FALSE(gate.has(0));
  gate.apply(gate.epoch(), 4, {2});  // the check's result
  EXPECT_TRUE(gate.has(2));
  EXPECT_FALSE(gate.has(0));
  gate.add(0);
  EXPECT_TRUE(gate.has(0));
}

TEST(PieceGate, WrittenIsMoreThanVerified) {
  swarm::PieceGate gate;
  gate.apply(gate.epoch(), 4, {0});  // a picture counts only pieces in the file
  EXPECT_TRUE(gate.written(0));
  gate.add(1);  // piece_finished: verified, maybe not all written yet
  EXPECT_TRUE(gate.has(1));
  EXPECT_FALSE(gate.written(1));
  gate.apply(gate.epoch(), 4, {1});  // a later picture finds it written
  EXPECT_TRUE(gate.written(1));
  EXPECT_TRUE(gate.written(0));  // and keeps what the earlier one found
  const auto before = gate.epoch();
  gate.start_check();
  EXPECT_FALSE(gate.written(0));
  gate.apply(before, 4, {0, 1});  // a picture from before the check
  EXPECT_FALSE(gate.written(1));
}

TEST(PieceGate, SuspendCloseAndCancel) {
  swarm::PieceGate gate;
  gate.apply(gate.epoch(), 4, {0});
  auto waiter = std::async(std::launch::async, [&] { return gate.wait(1, 1, Clock::now() + 30s); });
  std::this_thread::sleep_for(20ms);
  gate.suspend("the transfer is paused");
  ASSERT_EQ(waiter.wait_for(10s), std::future_status::ready);
  auto r = waiter.get();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, swarm::make_error_code(swarm::errc::cancelled));
  EXPECT_TRUE(gate.wait(0, 0, Clock::now()));         // verified bytes stay readable while paused
  EXPECT_FALSE(gate.wait(1, 1, Clock::now() + 10s));  // fails at once, not after 10 s
  gate.unsuspend();

  std::atomic<bool> cancel{false};
  auto cancelled =
      std::async(std::launch::async, [&] { return gate.wait(1, 1, Clock::now() + 30s, &cancel); });
  std::this_thread::sleep_for(20ms);
  cancel = true;
  gate.wake();
  ASSERT_EQ(cancelled.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(cancelled.get().error().code, swarm::make_error_code(swarm::errc::cancelled));

  auto closed = std::async(std::launch::async, [&] { return gate.wait(2, 2, Clock::time_point::max()); });
  std::this_thread::sleep_for(20ms);
  gate.close("the transfer was removed");
  ASSERT_EQ(closed.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(closed.get().error().code, swarm::make_error_code(swarm::errc::cancelled));
  EXPECT_FALSE(gate.wait(0, 0, Clock::now()));  // closed: nothing, not even what was verified
  gate.add(3);
  EXPECT_FALSE(gate.has(3));
}

// ---- over libtorrent ----

TEST(Settings, PieceAndFileAlertsButNoBlockAlerts) {
  const auto mask = lt::alert_category_t(static_cast<std::uint32_t>(
      swarm::detail::make_settings(loopback()).get_int(lt::settings_pack::alert_mask)));
  EXPECT_FALSE(mask & lt::alert_category::block_progress) << "they crowd the alert queue";
  EXPECT_TRUE(mask & lt::alert_category::piece_progress);
  EXPECT_TRUE(mask & lt::alert_category::file_progress);
}

// A rate-limited seeder (loopback counts: limit_lan) and a reader that first wants the file's last bytes:
// they come long before the rest, because the reader gave their piece a deadline.
TEST(FileReader, TheBytesAReaderWaitsForComeFirst) {
  auto dir = temp_dir("first");
  const std::uint64_t size = 24 << 20;
  write(dir / "seed" / "big.bin", size, 5);
  auto made =
      swarm::make_torrent(dir / "seed" / "big.bin", {.format = swarm::TorrentFormat::v1, .max_pieces = 96});
  ASSERT_TRUE(made) << made.error().message;
  {
    Net net;
    swarm::SessionHost seeder(net.io, limited(2 << 20), [](const swarm::SwarmEvent&) {});
    swarm::SessionHost leecher(net.io, loopback(), net.recorder());
    ASSERT_TRUE(seeder.add(made->source, {.save_path = (dir / "seed").string(), .seed_mode = true}));
    auto got = leecher.add(made->source, {.save_path = (dir / "get").string(), .peers = {peer_of(seeder)}});
    ASSERT_TRUE(got) << got.error().message;
    auto reader = leecher.open_reader(got->id(), 0);
    ASSERT_TRUE(reader) << reader.error().message;
    EXPECT_EQ((*reader)->size(), size);
    EXPECT_EQ(fs::path((*reader)->path()), dir / "get" / "big.bin");

    std::string tail(4096, '\0');
    const auto t0 = Clock::now();
    auto n = (*reader)->read(tail.data(), tail.size(), size - tail.size(), Clock::now() + 60s);
    ASSERT_TRUE(n) << n.error().message;
    EXPECT_EQ(*n, tail.size());
    auto st = leecher.status(got->id());
    ASSERT_TRUE(st);
    std::cout << "last 4 KiB after "
              << std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count()
              << " ms, with " << st->total_done << " of " << st->total_wanted << " bytes verified\n";
    EXPECT_LT(st->total_done, st->total_wanted / 2) << "the last piece did not come first";
    EXPECT_EQ(tail, slice(dir / "seed" / "big.bin", size - tail.size(), tail.size()));
    EXPECT_GT((*reader)->deadlines_set(), 0);

    // A range over a piece boundary in the middle, then past the end.
    std::string mid(300000, '\0');
    n = (*reader)->read(mid.data(), mid.size(), size / 2 - 1000, Clock::now() + 60s);
    ASSERT_TRUE(n) << n.error().message;
    EXPECT_EQ(mid, slice(dir / "seed" / "big.bin", size / 2 - 1000, mid.size()));
    EXPECT_EQ((*reader)->read(mid.data(), 10, size, Clock::now()).value(), 0u);
    n = (*reader)->read(mid.data(), mid.size(), size - 10, Clock::now() + 60s);
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, 10u);  // only what the file has
    reader->reset();     // clears its remaining deadlines
    leecher.shutdown();
    seeder.shutdown();
  }
  fs::remove_all(dir);
}

TEST(FileReader, WaitsEndWhenTheTransferIsPausedOrRemoved) {
  auto dir = temp_dir("cancel");
  write(dir / "src" / "x.bin", 1 << 20, 3);
  auto made = swarm::make_torrent(dir / "src" / "x.bin", {});
  ASSERT_TRUE(made);
  Net net;
  swarm::SessionHost leecher(net.io, loopback(), net.recorder());
  auto got = leecher.add(made->source, {.save_path = (dir / "get").string()});  // nobody has it
  ASSERT_TRUE(got);
  auto reader = leecher.open_reader(got->id(), 0);
  ASSERT_TRUE(reader) << reader.error().message;
  char buf[100];
  auto read_async = [&] {
    return std::async(std::launch::async,
                      [&] { return (*reader)->read(buf, sizeof buf, 0, Clock::now() + 60s); });
  };
  auto expect_cancelled = [](std::future<Result<std::size_t>>& f, const char* what) {
    ASSERT_EQ(f.wait_for(20s), std::future_status::ready) << what << " did not end the wait";
    auto r = f.get();
    ASSERT_FALSE(r) << what;
    EXPECT_EQ(r.error().code, swarm::make_error_code(swarm::errc::cancelled))
        << what << ": " << r.error().message;
  };

  auto waiting = read_async();
  EXPECT_EQ(waiting.wait_for(300ms), std::future_status::timeout);
  ASSERT_TRUE(leecher.pause(got->id()));
  expect_cancelled(waiting, "pause");

  // Resumed, a wait lasts again (until the deadline) ...
  ASSERT_TRUE(leecher.resume(got->id()));
  const auto until = Clock::now() + 20s;
  Result<std::size_t> r = fail(swarm::make_error_code(swarm::errc::cancelled), "");
  while (Clock::now() < until) {
    r = (*reader)->read(buf, sizeof buf, 0, Clock::now() + 50ms);
    if (!r && r.error().code == swarm::make_error_code(swarm::errc::timed_out)) break;
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, swarm::make_error_code(swarm::errc::timed_out));

  // ... until the reader is cancelled,
  waiting = read_async();
  EXPECT_EQ(waiting.wait_for(300ms), std::future_status::timeout);
  (*reader)->cancel();
  expect_cancelled(waiting, "cancel()");

  // ... or the transfer is removed.
  auto other = leecher.open_reader(got->id(), 0);
  ASSERT_TRUE(other);
  auto removed =
      std::async(std::launch::async, [&] { return (*other)->read(buf, sizeof buf, 0, Clock::now() + 60s); });
  EXPECT_EQ(removed.wait_for(300ms), std::future_status::timeout);
  ASSERT_TRUE(leecher.remove(got->id(), true));
  expect_cancelled(removed, "remove");
  EXPECT_FALSE((*other)->read(buf, sizeof buf, 0, Clock::now() + 60s));  // and at once from now on
  EXPECT_FALSE(leecher.open_reader(got->id(), 0));
  leecher.shutdown();
  fs::remove_all(dir);
}

// Half a download, saved, restored by a new session with no peer: the gate knows exactly the pieces on
// disk, and a reader reads those at once and nothing else.
TEST(FileReader, TheGateIsRightForARestoredTransfer) {
  auto dir = temp_dir("restore");
  const std::uint64_t size = 8 << 20;
  write(dir / "seed" / "f.bin", size, 9);
  auto made =
      swarm::make_torrent(dir / "seed" / "f.bin", {.format = swarm::TorrentFormat::v1, .max_pieces = 32});
  ASSERT_TRUE(made);
  std::vector<std::uint8_t> resume;
  std::string id;
  {
    Net net;
    swarm::SessionHost seeder(net.io, limited(2 << 20), [](const swarm::SwarmEvent&) {});
    ASSERT_TRUE(seeder.add(made->source, {.save_path = (dir / "seed").string(), .seed_mode = true}));
    std::mutex m;
    swarm::SessionHost first(net.io, loopback(), [&](const swarm::SwarmEvent& e) {
      std::lock_guard lock(m);
      if (e.kind == swarm::SwarmEvent::Kind::resume_data) resume = e.resume;
    });
    auto got = first.add(made->source, {.save_path = (dir / "get").string(), .peers = {peer_of(seeder)}});
    ASSERT_TRUE(got);
    id = got->id();
    const auto until = Clock::now() + 60s;
    while (first.status(id)->total_done < static_cast<std::int64_t>(size) * 3 / 10 && Clock::now() < until)
      std::this_thread::sleep_for(50ms);
    ASSERT_TRUE(first.pause(id));
    first.shutdown();  // resume data of the paused transfer, delivered on this thread
    seeder.shutdown();
  }
  ASSERT_FALSE(resume.empty());

  Net net;
  swarm::SessionHost second(net.io, loopback(), net.recorder());
  auto restored = second.restore({.save_path = (dir / "get").string(), .resume = resume});
  ASSERT_TRUE(restored) << restored.error().message;
  auto reader = second.open_reader(id, 0);
  ASSERT_TRUE(reader) << reader.error().message;
  const std::uint64_t piece = size / 32;
  std::uint64_t readable = 0;
  std::int64_t done = -1, partial = -1;
  // The restored transfer is checked first; from then on the gate is complete.
  const auto until = Clock::now() + 30s;
  while (Clock::now() < until) {
    auto files = second.files(id);  // counts whole pieces only, like the gate
    ASSERT_TRUE(files && files->size() == 1);
    done = files->front().done;
    partial = second.status(id)->total_done;  // also counts blocks of unfinished pieces
    readable = 0;
    std::string buf(piece, '\0');
    for (std::uint64_t at = 0; at < size; at += piece) {
      auto r = (*reader)->read(buf.data(), buf.size(), at, Clock::now());  // no waiting
      if (!r) {
        ASSERT_EQ(r.error().code, swarm::make_error_code(swarm::errc::timed_out)) << r.error().message;
        continue;
      }
      ASSERT_EQ(buf, slice(dir / "seed" / "f.bin", at, piece)) << "at " << at;
      readable += *r;
    }
    if (done > 0 && static_cast<std::int64_t>(readable) == done) break;
    std::this_thread::sleep_for(100ms);
  }
  std::cout << "restored with " << done << " of " << size << " bytes in whole pieces (" << partial
            << " with unfinished ones); the reader reads " << readable << "\n";
  EXPECT_GT(done, 0);
  EXPECT_LT(done, static_cast<std::int64_t>(size));
  EXPECT_EQ(static_cast<std::int64_t>(readable), done);
  reader->reset();
  second.shutdown();
  fs::remove_all(dir);
}

// A v1 folder whose files share pieces, one of them not wanted: file_completed for each wanted file,
// readers reading the wanted ones while they download get exactly their bytes, the unwanted one cannot
// be opened, and sources() names the seeder (no block alerts any more).
TEST(FileReader, FilesOfAFolderWithAnUnwantedNeighbour) {
  auto dir = temp_dir("folder");
  write(dir / "seed" / "pack" / "a.bin", 700 * 1024 + 17, 1);
  write(dir / "seed" / "pack" / "b.bin", 300 * 1024 + 5, 2);
  write(dir / "seed" / "pack" / "c.bin", 1536 * 1024 + 3, 3);
  auto made =
      swarm::make_torrent(dir / "seed" / "pack", {.format = swarm::TorrentFormat::v1, .max_pieces = 16});
  ASSERT_TRUE(made);
  Net net;
  swarm::SessionHost seeder(net.io, limited(1 << 20), [](const swarm::SwarmEvent&) {});
  swarm::SessionHost leecher(net.io, loopback(), net.recorder());
  ASSERT_TRUE(seeder.add(made->source, {.save_path = (dir / "seed").string(), .seed_mode = true}));
  auto got = leecher.add(made->source,
                         {.save_path = (dir / "get").string(), .paused = true, .peers = {peer_of(seeder)}});
  ASSERT_TRUE(got);
  auto files = leecher.files(got->id());
  ASSERT_TRUE(files);
  std::map<std::string, int> index;
  for (const auto& f : *files) index[fs::path(f.path).filename().string()] = f.index;
  ASSERT_EQ(index.size(), 3u);
  ASSERT_TRUE(leecher.set_wanted_files(got->id(), {index["a.bin"], index["c.bin"]}));

  auto unwanted = leecher.open_reader(got->id(), index["b.bin"]);
  ASSERT_FALSE(unwanted);
  EXPECT_EQ(unwanted.error().code, base::make_error_code(base::errc::bad_input));
  EXPECT_FALSE(leecher.open_reader(got->id(), 99));

  // Readers start before the download does, and read front to back as a scanner would.
  auto read_whole = [&](int file) {
    return std::async(std::launch::async, [&, file]() -> Result<std::string> {
      auto reader = leecher.open_reader(got->id(), file);
      if (!reader) return tl::unexpected(reader.error());
      std::string out((*reader)->size(), '\0');
      for (std::uint64_t at = 0; at < out.size();) {
        auto n = (*reader)->read(out.data() + at, 64 * 1024, at, Clock::now() + 60s);
        if (!n) return tl::unexpected(n.error());
        at += *n;
      }
      return out;
    });
  };
  auto a = read_whole(index["a.bin"]);
  auto c = read_whole(index["c.bin"]);
  ASSERT_TRUE(leecher.resume(got->id()));
  ASSERT_EQ(a.wait_for(60s), std::future_status::ready);
  ASSERT_EQ(c.wait_for(60s), std::future_status::ready);
  auto a_bytes = a.get(), c_bytes = c.get();
  ASSERT_TRUE(a_bytes) << a_bytes.error().message;
  ASSERT_TRUE(c_bytes) << c_bytes.error().message;
  EXPECT_EQ(*a_bytes, base::read_file(dir / "seed" / "pack" / "a.bin").value());
  EXPECT_EQ(*c_bytes, base::read_file(dir / "seed" / "pack" / "c.bin").value());

  ASSERT_TRUE(net.wait_for(swarm::SwarmEvent::Kind::finished, 60s));
  std::set<int> completed;
  {
    std::lock_guard lock(net.m);
    for (const auto& e : net.events) {
      if (e.kind == swarm::SwarmEvent::Kind::file_completed && e.id == got->id()) completed.insert(e.file);
    }
  }
  EXPECT_EQ(completed, (std::set<int>{index["a.bin"], index["c.bin"]}));

  auto sources = leecher.sources(got->id());
  ASSERT_FALSE(sources.empty()) << "sources() must name the peer that sent the data";
  bool seeder_named = false;
  for (const auto& p : sources) {
    EXPECT_EQ(p.peer_id.rfind(base::to_hex(std::string_view("-KI0100-")), 0), 0u) << p.peer_id;
    seeder_named |= p.endpoint == peer_of(seeder);
  }
  EXPECT_TRUE(seeder_named) << sources.front().endpoint;
  ASSERT_TRUE(leecher.remove(got->id(), false));
  EXPECT_TRUE(leecher.sources(got->id()).empty());
  leecher.shutdown();
  seeder.shutdown();
  fs::remove_all(dir);
}
