// Scan-while-downloading figures (bench/README.md): a loopback download between two libtorrent sessions
// (swarm::SessionHost, kith's settings), alone and with every file scanned while it downloads
// (SessionHost::open_reader + safety::Scanner::scan_source), and the scan of the finished data alone
// (Scanner::scan, and clamscan with the same database, limits and options). Not a test: prints figures.
//
//   stream_scan_bench [--size-mib N] [--files N] [--runs N] [--workers N] [--readahead-mib N]
//                     [--sequential] [--format v1|v2|hybrid] [--db DIR] [--dir /tmp/...] [--no-clamscan]
//
// --files 1 (default): one file of --size-mib random bytes; --files N: a folder of N files sharing
// --size-mib. Data goes to --dir (default a new folder under /tmp) and is deleted at the end.
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "safety/scanner.hpp"
#include "swarm/session_host.hpp"
#include "swarm/torrent_maker.hpp"

using namespace kith;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

struct Args {
  std::uint64_t size_mib = 1024;
  int files = 1;
  int runs = 3;
  int workers = 2;
  std::uint64_t readahead_mib = 8;
  bool sequential = false;
  bool clamscan = true;
  swarm::TorrentFormat format = swarm::TorrentFormat::v1;
  fs::path db;
  fs::path dir;
};

double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

void write_noise(const fs::path& p, std::uint64_t n, unsigned seed) {
  fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary);
  std::mt19937_64 rng(seed);
  std::string block(1 << 20, '\0');
  while (n > 0) {
    for (std::size_t i = 0; i < block.size(); i += 8) {
      auto v = rng();
      std::memcpy(block.data() + i, &v, 8);
    }
    auto k = std::min<std::uint64_t>(n, block.size());
    out.write(block.data(), static_cast<std::streamsize>(k));
    n -= k;
  }
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

struct RunResult {
  double download = 0;      // add -> finished
  double last_verdict = 0;  // add -> last scan_source verdict (stream mode)
  double waited = 0;        // scans' time in ByteSource::read, summed
  int aborted = 0;
};

// One download from `seed_root` into a fresh folder; with `scanner`, every file is stream-scanned on
// `workers` threads from the moment the transfer is added.
RunResult download(const Args& a, const swarm::Source& source, const fs::path& seed_root, const fs::path& out,
                   const safety::Scanner* scanner) {
  RunResult r;
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
    if (!seeder.add(source, {.save_path = seed_root.string(), .seed_mode = true}))
      throw std::runtime_error("seed");
    const auto start = Clock::now();
    auto got = leecher.add(source, {.save_path = out.string(),
                                    .sequential = a.sequential,
                                    .peers = {"127.0.0.1:" + std::to_string(seeder.listen_port())}});
    if (!got) throw std::runtime_error(got.error().message);
    std::vector<std::thread> pool;
    std::vector<std::unique_ptr<swarm::FileReader>> readers;
    std::vector<safety::FileScan> scans;
    std::vector<Clock::time_point> done;
    std::atomic<std::size_t> next{0};
    if (scanner) {
      const auto files = leecher.files(got->id()).value();
      for (const auto& f : files) {
        auto rd = leecher.open_reader(got->id(), f.index, {.readahead_bytes = a.readahead_mib << 20});
        if (!rd) throw std::runtime_error(rd.error().message);
        readers.push_back(std::move(*rd));
      }
      scans.resize(readers.size());
      done.resize(readers.size());
      for (int w = 0; w < a.workers; ++w) {
        pool.emplace_back([&] {
          for (std::size_t i; (i = next++) < readers.size();) {
            auto* reader = readers[i].get();
            safety::ByteSource src{reader->size(), reader->path(),
                                   [reader](void* buf, std::size_t n, std::uint64_t off, auto deadline) {
                                     return reader->read(buf, n, off, deadline);
                                   }};
            scans[i] = scanner->scan_source(src);
            done[i] = Clock::now();
          }
        });
      }
    }
    {
      std::unique_lock lock(m);
      if (!cv.wait_for(lock, std::chrono::minutes(10), [&] { return finished.has_value(); }))
        throw std::runtime_error("the download did not finish");
    }
    r.download = std::chrono::duration<double>(*finished - start).count();
    for (auto& t : pool) t.join();
    for (std::size_t i = 0; i < scans.size(); ++i) {
      r.last_verdict = std::max(r.last_verdict, std::chrono::duration<double>(done[i] - start).count());
      r.waited += std::chrono::duration<double>(scans[i].waited).count();
      r.aborted += scans[i].aborted ? 1 : 0;
    }
    readers.clear();
    leecher.shutdown();
    seeder.shutdown();
  }
  work.reset();
  io.stop();
  io_thread.join();
  return r;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    auto val = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(k + " needs a value");
      return argv[++i];
    };
    if (k == "--size-mib")
      a.size_mib = std::stoull(val());
    else if (k == "--files")
      a.files = std::stoi(val());
    else if (k == "--runs")
      a.runs = std::stoi(val());
    else if (k == "--workers")
      a.workers = std::stoi(val());
    else if (k == "--readahead-mib")
      a.readahead_mib = std::stoull(val());
    else if (k == "--sequential")
      a.sequential = true;
    else if (k == "--no-clamscan")
      a.clamscan = false;
    else if (k == "--db")
      a.db = val();
    else if (k == "--dir")
      a.dir = val();
    else if (k == "--format") {
      bool ok = false;
      a.format = swarm::parse_format(val(), &ok);
      if (!ok) throw std::runtime_error("bad --format");
    } else {
      std::cerr << "unknown option " << k << " (see the comment at the top of bench/stream_scan.cpp)\n";
      return 2;
    }
  }
  if (a.dir.empty()) a.dir = fs::temp_directory_path() / ("stream-scan-bench-" + std::to_string(::getpid()));
  fs::create_directories(a.dir);
  if (a.db.empty()) {
    a.db = a.dir / "db";
    auto cmd = std::string("'") + KITH_TEST_DB_SCRIPT + "' '" + a.db.string() + "' >/dev/null";
    if (std::system(cmd.c_str()) != 0) {
      std::cerr << "cannot build the tests' database\n";
      return 1;
    }
  }
  auto opened = safety::Scanner::open({.databases = {a.db}});
  if (!opened) {
    std::cerr << opened.error().message << "\n";
    return 1;
  }
  const auto& scanner = **opened;

  // The data: one file, or a folder of a.files files.
  const fs::path seed = a.dir / "seed";
  const std::string name = a.files == 1 ? "data.bin" : "data";
  const std::uint64_t total = a.size_mib << 20;
  if (a.files == 1) {
    write_noise(seed / name, total, 1);
  } else {
    for (int i = 0; i < a.files; ++i)
      write_noise(seed / name / ("f" + std::to_string(i) + ".bin"), total / a.files, 100 + i);
  }
  auto made = swarm::make_torrent(seed / name, {.format = a.format});
  if (!made) {
    std::cerr << made.error().message << "\n";
    return 1;
  }
  const char* formats[] = {"v1", "v2", "hybrid"};
  std::cout << "data: " << a.files << " file(s), " << a.size_mib << " MiB, "
            << formats[static_cast<int>(a.format)] << ", " << scanner.signature_count()
            << " signatures; readahead " << a.readahead_mib << " MiB" << (a.sequential ? ", sequential" : "")
            << ", " << a.workers << " scan thread(s)" << std::endl;

  // Warm the page cache for the seeder, as bench/run.py does.
  for (const auto& p : fs::is_directory(seed / name)
                           ? std::vector<fs::path>(fs::recursive_directory_iterator(seed / name), {})
                           : std::vector<fs::path>{seed / name}) {
    std::ifstream in(p, std::ios::binary);
    std::string buf(1 << 20, '\0');
    while (in.read(buf.data(), static_cast<std::streamsize>(buf.size())) || in.gcount() > 0) {
    }
  }

  std::vector<double> dl, stream_total, stream_dl, tail, scan_whole, clam;
  for (int run = 0; run < a.runs; ++run) {
    const auto out = a.dir / "get";
    fs::remove_all(out);
    dl.push_back(download(a, made->source, seed, out, nullptr).download);

    // Scan alone, on the downloaded copy (page cache warm).
    const auto t0 = Clock::now();
    for (const auto& e : fs::recursive_directory_iterator(out)) {
      if (e.is_regular_file()) (void)scanner.scan(e.path());
    }
    scan_whole.push_back(since(t0));
    if (a.clamscan) {
      const auto t1 = Clock::now();
      auto cmd =
          "clamscan --no-summary --infected --database='" + a.db.string() +
          "' --recursive --max-filesize=2047M --max-scansize=2047M --disable-cache --alert-exceeds-max=yes"
          " --alert-encrypted=yes --alert-macros=yes --heuristic-alerts=yes --allmatch=yes '" +
          (out / name).string() + "' >/dev/null 2>&1";
      (void)std::system(cmd.c_str());
      clam.push_back(since(t1));
    }
    fs::remove_all(out);

    auto s = download(a, made->source, seed, out, &scanner);
    stream_dl.push_back(s.download);
    stream_total.push_back(s.last_verdict);
    tail.push_back(std::max(0.0, s.last_verdict - s.download));
    std::cout << "run " << run + 1 << ": download alone " << dl.back() << " s; scan() alone "
              << scan_whole.back() << " s"
              << (a.clamscan ? "; clamscan " + std::to_string(clam.back()) + " s" : "")
              << "; download+stream scan: finished " << s.download << " s, last verdict " << s.last_verdict
              << " s, tail " << tail.back() << " s (" << 100 * tail.back() / std::max(1e-9, s.last_verdict)
              << " %), scans waited " << s.waited << " s"
              << (s.aborted ? ", ABORTED " + std::to_string(s.aborted) : "") << std::endl;
    fs::remove_all(out);
  }
  std::cout << "medians over " << a.runs << " run(s): download alone " << median(dl) << " s; scan() alone "
            << median(scan_whole) << " s; clamscan " << median(clam) << " s; download+stream scan "
            << median(stream_total) << " s (download part " << median(stream_dl) << " s, tail "
            << median(tail) << " s); sequential download+scan would be " << median(dl) + median(scan_whole)
            << " s" << std::endl;
  fs::remove_all(a.dir);
  return 0;
}
