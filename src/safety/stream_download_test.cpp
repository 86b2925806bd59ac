// End to end without app: a real loopback download (two libtorrent sessions) scanned by
// Scanner::scan_source through swarm::FileReader while it downloads. The verdict must be there when the
// download finishes or shortly after, and equal a scan of the complete file. Timings go to the test
// log for the lead (not asserted: no test asserts a duration).
//
// A test binary of its own because it joins two modules that do not know each other (safety does not
// link swarm; the release pipeline in app does the same joining).
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <optional>
#include <random>
#include <thread>

#include "safety/scanner.hpp"
#include "swarm/session_host.hpp"
#include "swarm/torrent_maker.hpp"

using namespace kith;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

std::string eicar() {  // in two halves, so this file is no detection itself
  return std::string("X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-") + "STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
}

void write_noise(std::ofstream& out, std::size_t n, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::string block(1 << 16, '\0');
  while (n > 0) {
    for (std::size_t i = 0; i < block.size(); i += 8) {
      auto v = rng();
      std::memcpy(block.data() + i, &v, 8);
    }
    auto k = std::min(n, block.size());
    out.write(block.data(), static_cast<std::streamsize>(k));
    n -= k;
  }
}

fs::path temp_dir(const std::string& name) {
  auto d = fs::temp_directory_path() / ("kith_streamdl_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

std::shared_ptr<const safety::Scanner> open_scanner(const fs::path& dir) {
  auto db = dir / "db";
  auto cmd = std::string("'") + KITH_TEST_DB_SCRIPT + "' '" + db.string() + "' >/dev/null";
  if (std::system(cmd.c_str()) != 0) return nullptr;
  auto s = safety::Scanner::open({.databases = {db}});
  if (!s) return nullptr;
  return std::shared_ptr<const safety::Scanner>(std::move(*s));
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

// The pipeline's glue, in small: a safety::ByteSource over a swarm::FileReader.
safety::ByteSource source_of(swarm::FileReader& reader, const std::string& name) {
  safety::ByteSource s;
  s.size = reader.size();
  s.name = name;
  s.read = [&reader](void* buf, std::size_t count, std::uint64_t offset,
                     safety::ByteSource::Deadline deadline) {
    return reader.read(buf, count, offset, deadline);
  };
  return s;
}

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

struct Timed {
  safety::FileScan scan;
  Clock::time_point done;
};

// Seeds `root/name` (a file or folder) from one session, downloads it into another and stream-scans
// every file on `workers` threads while it downloads; then checks each verdict against scan() of the
// downloaded file, and prints the timings.
void download_and_scan(const fs::path& root, const std::string& name, int workers) {
  auto scanner = open_scanner(root);
  ASSERT_TRUE(scanner) << "cannot build or load the tests' database";
  auto made = swarm::make_torrent(root / "seed" / name, {.format = swarm::TorrentFormat::v1});
  ASSERT_TRUE(made) << made.error().message;

  boost::asio::io_context io;
  auto work = boost::asio::make_work_guard(io);
  std::thread io_thread([&] { io.run(); });
  std::mutex m;
  std::condition_variable cv;
  std::optional<Clock::time_point> finished;
  {
    swarm::SessionHost seeder(io, loopback(), [](const swarm::SwarmEvent&) {});
    swarm::SessionHost leecher(io, loopback(), [&](const swarm::SwarmEvent& e) {
      if (e.kind != swarm::SwarmEvent::Kind::finished) return;
      std::lock_guard lock(m);
      if (!finished) finished = Clock::now();
      cv.notify_all();
    });
    ASSERT_TRUE(seeder.add(made->source, {.save_path = (root / "seed").string(), .seed_mode = true}));
    const auto start = Clock::now();
    auto got = leecher.add(made->source, {.save_path = (root / "get").string(),
                                          .peers = {"127.0.0.1:" + std::to_string(seeder.listen_port())}});
    ASSERT_TRUE(got) << got.error().message;
    auto files = leecher.files(got->id());
    ASSERT_TRUE(files);

    // A pool of `workers` threads, each taking the next file and scanning it through a reader.
    std::vector<std::unique_ptr<swarm::FileReader>> readers;
    for (const auto& f : *files) {
      auto r = leecher.open_reader(got->id(), f.index);
      ASSERT_TRUE(r) << r.error().message;
      readers.push_back(std::move(*r));
    }
    std::vector<Timed> results(files->size());
    std::atomic<std::size_t> next{0};
    std::vector<std::thread> pool;
    for (int w = 0; w < workers; ++w) {
      pool.emplace_back([&] {
        for (std::size_t i; (i = next++) < readers.size();) {
          results[i].scan = scanner->scan_source(source_of(*readers[i], (*files)[i].path));
          results[i].done = Clock::now();
        }
      });
    }
    {
      std::unique_lock lock(m);
      ASSERT_TRUE(cv.wait_for(lock, 300s, [&] { return finished.has_value(); }))
          << "the download did not finish";
    }
    // The verdicts: there already, or shortly after (a generous bound, only so a hang fails the test).
    auto all_done = std::async(std::launch::async, [&] {
      for (auto& t : pool) t.join();
    });
    ASSERT_EQ(all_done.wait_for(300s), std::future_status::ready) << "no verdict after the download finished";

    Clock::time_point last_verdict = start;
    std::uint64_t bytes = 0;
    double waited = 0;
    for (std::size_t i = 0; i < files->size(); ++i) {
      const auto& f = (*files)[i];
      SCOPED_TRACE(f.path);
      const auto& streamed = results[i].scan;
      EXPECT_FALSE(streamed.aborted) << streamed.error;
      const auto whole = scanner->scan(root / "get" / f.path);
      EXPECT_EQ(streamed.ok, whole.ok);
      auto a = streamed.names, b = whole.names;
      std::sort(a.begin(), a.end());
      std::sort(b.begin(), b.end());
      EXPECT_EQ(a, b);
      last_verdict = std::max(last_verdict, results[i].done);
      bytes += streamed.bytes;
      waited += std::chrono::duration<double>(streamed.waited).count();
    }
    const double download = seconds(*finished - start), total = seconds(last_verdict - start);
    std::cout << name << ": " << files->size() << " file(s), " << (bytes >> 20) << " MiB, " << workers
              << " scan thread(s): downloaded in " << download << " s, last verdict at " << total
              << " s, tail after the last piece " << std::max(0.0, total - download) << " s ("
              << (total > 0 ? 100 * std::max(0.0, total - download) / total : 0)
              << " % of the total); scans waited " << waited << " s for bytes in all\n";
    readers.clear();
    leecher.shutdown();
    seeder.shutdown();
  }
  work.reset();
  io.stop();
  io_thread.join();
}

}  // namespace

TEST(StreamDownload, OneFileScannedWhileItDownloads) {
  auto root = temp_dir("one");
  fs::create_directories(root / "seed");
  {
    std::ofstream out(root / "seed" / "big.bin", std::ios::binary);
    write_noise(out, 24 << 20, 1);
    out << eicar();  // in the middle
    write_noise(out, 24 << 20, 2);
  }
  download_and_scan(root, "big.bin", 1);
  fs::remove_all(root);
}

TEST(StreamDownload, AFolderScannedFileByFileOnTwoThreads) {
  auto root = temp_dir("folder");
  fs::create_directories(root / "seed" / "pack");
  for (int i = 0; i < 24; ++i) {
    std::ofstream out(root / "seed" / "pack" / ("f" + std::to_string(i) + ".bin"), std::ios::binary);
    write_noise(out, (1 << 20) + static_cast<std::size_t>(i) * 4099, 100 + static_cast<unsigned>(i));
    if (i == 17) out << eicar();
  }
  download_and_scan(root, "pack", 2);
  fs::remove_all(root);
}
