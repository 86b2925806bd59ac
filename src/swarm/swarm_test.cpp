#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "base/fs.hpp"
#include "crypto/transfer_certs.hpp"
#include "swarm/detail/peer_id_filter.hpp"
#include "swarm/peer_hints.hpp"
#include "swarm/session_host.hpp"
#include "swarm/source.hpp"
#include "swarm/torrent_maker.hpp"

using namespace kith;
namespace fs = std::filesystem;

namespace {

fs::path temp_dir(const std::string& name) {
  auto d = fs::temp_directory_path() / ("kith_swarm_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

void write(const fs::path& p, std::size_t size, char seed) {
  fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary);
  for (std::size_t i = 0; i < size; ++i) out.put(static_cast<char>(seed + static_cast<char>(i * 31 % 251)));
}

// Loopback only, nothing that talks to the outside world.
swarm::SessionOptions test_options() {
  swarm::SessionOptions o;
  o.listen = "127.0.0.1:0";
  o.dht = false;
  o.lsd = false;
  o.upnp = false;
  o.natpmp = false;
  return o;
}

const std::string HASH = "0123456789abcdef0123456789abcdef01234567";

}  // namespace

TEST(Magnet, ParsesHashNameAndPeerHints) {
  auto s = swarm::parse_magnet("magnet:?xt=urn:btih:" + HASH + "&dn=hello&x.pe=127.0.0.1:6881");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->hashes.v1, HASH);
  EXPECT_EQ(s->hashes.id(), HASH);
  EXPECT_EQ(s->name, "hello");
  EXPECT_FALSE(s->has_metadata);
}

TEST(Magnet, RejectsMalformedLinks) {
  for (const char* bad :
       {"magnet:?", "magnet:?xt=urn:btih:zzzz", "magnet:?dn=x", "magnet:?xt=urn:btih:0123"}) {
    auto s = swarm::parse_magnet(bad);
    ASSERT_FALSE(s) << bad;
    EXPECT_EQ(s.error().code, swarm::make_error_code(swarm::errc::bad_link));
  }
}

TEST(Torrent, RejectsGarbageAndMissingFiles) {
  auto s = swarm::parse_torrent("d4:infod4:name3:abcee");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, swarm::make_error_code(swarm::errc::bad_torrent));
  auto f = swarm::parse_link_or_file("/nonexistent/file.torrent");
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().code, swarm::make_error_code(swarm::errc::bad_link));
}

TEST(Torrent, PathsThatEscapeAreSanitised) {
  // A v1 multi-file torrent whose file path is ["..", "..", "evil"], and one with an absolute path.
  std::string pieces(20, 'x');
  std::string info =
      "d5:filesld6:lengthi5e4:pathl2:..2:..4:evileed6:lengthi5e4:pathl5:/etc/6:passwdeee"
      "4:name3:top12:piece lengthi16384e6:pieces20:" +
      pieces + "e";
  auto s = swarm::parse_torrent("d4:info" + info + "e");
  ASSERT_TRUE(s) << s.error().message;
  auto dir = temp_dir("sanitise");
  boost::asio::io_context io;
  swarm::SessionHost host(io, test_options(), [](const swarm::SwarmEvent&) {});
  auto added = host.add(*s, {.save_path = dir.string()});
  ASSERT_TRUE(added) << added.error().message;
  auto files = host.files(added->id());
  ASSERT_TRUE(files);
  ASSERT_EQ(files->size(), 2u);
  for (const auto& f : *files) {
    auto full = (dir / f.path).lexically_normal();
    EXPECT_EQ(full.string().rfind(dir.string(), 0), 0u) << f.path << " escapes the save path";
    EXPECT_EQ(f.path.find(".."), std::string::npos) << f.path;
  }
  fs::remove_all(dir);
}

TEST(TorrentMaker, AllFormatsRoundTrip) {
  auto dir = temp_dir("make");
  write(dir / "share" / "a.bin", 100000, 1);
  write(dir / "share" / "sub" / "b.txt", 1000, 2);
  for (auto [format, v1, v2] :
       {std::tuple{swarm::TorrentFormat::v1, true, false}, std::tuple{swarm::TorrentFormat::v2, false, true},
        std::tuple{swarm::TorrentFormat::hybrid, true, true}}) {
    auto made = swarm::make_torrent(dir / "share", {.format = format, .trackers = {}, .comment = "c"});
    ASSERT_TRUE(made) << made.error().message;
    EXPECT_EQ(!made->source.hashes.v1.empty(), v1);
    EXPECT_EQ(!made->source.hashes.v2.empty(), v2);
    EXPECT_EQ(made->source.name, "share");
    auto again = swarm::parse_torrent(made->bytes);
    ASSERT_TRUE(again);
    EXPECT_EQ(again->hashes.id(), made->source.hashes.id());
  }
  EXPECT_FALSE(swarm::make_torrent(dir / "missing", {}));
  // A symlink inside a shared folder is skipped, never followed to what it points at.
  write(dir / "outside" / "secret.txt", 100, 9);
  fs::create_symlink(dir / "outside" / "secret.txt", dir / "share" / "link.txt");
  auto with_link = swarm::make_torrent(dir / "share", {});
  ASSERT_TRUE(with_link);
  auto parsed = swarm::parse_torrent(with_link->bytes);
  ASSERT_TRUE(parsed);
  boost::asio::io_context io;
  swarm::SessionHost host(io, test_options(), [](const swarm::SwarmEvent&) {});
  auto added = host.add(*parsed, {.save_path = dir.string(), .seed_mode = true});
  ASSERT_TRUE(added);
  auto files = host.files(added->id());
  ASSERT_TRUE(files);
  for (const auto& f : *files) EXPECT_EQ(f.path.find("link.txt"), std::string::npos) << f.path;
  EXPECT_EQ(files->size(), 2u);
  fs::create_directories(dir / "empty");
  EXPECT_FALSE(swarm::make_torrent(dir / "empty", {}));
  fs::remove_all(dir);
}

TEST(PeerHints, SpecificAddressIsKeptAndWildcardExpands) {
  EXPECT_EQ(swarm::peer_hints("127.0.0.1:0", 4321), std::vector<std::string>{"127.0.0.1:4321"});
  EXPECT_EQ(swarm::peer_hints("[::1]:1", 5), std::vector<std::string>{"[::1]:5"});
  auto any = swarm::peer_hints("0.0.0.0:6881", 6881);
  EXPECT_FALSE(any.empty());
  for (const auto& h : any) EXPECT_EQ(h.find("127."), std::string::npos) << "loopback only as a last resort";
}

// Two real libtorrent sessions on loopback: one seeds a folder, the other fetches it by magnet link with
// an x.pe hint and nothing else (no DHT, no tracker, no LSD).
TEST(PeerIdFilter, WholeIdsAndPrefixes) {
  lt::peer_id id;
  std::memcpy(id.data(), "-KI0100-abcdefghijkl", 20);
  using Rules = swarm::detail::PeerIdFilter::Rules;
  EXPECT_TRUE(swarm::detail::PeerIdFilter::matches(Rules{{"-KI0100-", true}}, id));
  EXPECT_TRUE(swarm::detail::PeerIdFilter::matches(Rules{{"-XL0012-", true}, {"-KI", true}}, id));
  EXPECT_FALSE(swarm::detail::PeerIdFilter::matches(Rules{{"-XL0012-", true}}, id));
  EXPECT_TRUE(swarm::detail::PeerIdFilter::matches(Rules{{"-KI0100-abcdefghijkl", false}}, id));
  EXPECT_FALSE(swarm::detail::PeerIdFilter::matches(Rules{{"-KI0100-", false}}, id));  // whole ID only
  EXPECT_FALSE(swarm::detail::PeerIdFilter::matches(Rules{}, id));
}

TEST(SessionHost, IpFilterRefusesBadRanges) {
  boost::asio::io_context io;
  swarm::SessionHost host(io, test_options(), [](const swarm::SwarmEvent&) {});
  EXPECT_TRUE(host.set_ip_filter({{"127.0.0.0", "127.0.0.255"}, {"2001:db8::", "2001:db8::ff"}}));
  EXPECT_FALSE(host.set_ip_filter({{"127.0.0.9", "127.0.0.1"}}));
  EXPECT_FALSE(host.set_ip_filter({{"1.2.3.4", "::1"}}));
  EXPECT_FALSE(host.set_ip_filter({{"not an address", "1.2.3.4"}}));
  EXPECT_TRUE(host.set_ip_filter({}));
  host.shutdown();
}

TEST(SessionHost, TransfersAFolderByMagnetOverLoopback) {
  auto dir = temp_dir("transfer");
  write(dir / "seed" / "data" / "one.bin", 3 << 20, 3);
  write(dir / "seed" / "data" / "two.txt", 12345, 4);
  auto made = swarm::make_torrent(dir / "seed" / "data", {});
  ASSERT_TRUE(made) << made.error().message;

  boost::asio::io_context io;
  auto work = boost::asio::make_work_guard(io);
  std::thread io_thread([&] { io.run(); });
  std::mutex m;
  std::condition_variable cv;
  bool finished = false;
  swarm::SessionHost seeder(io, test_options(), [](const swarm::SwarmEvent&) {});
  swarm::SessionHost leecher(io, test_options(), [&](const swarm::SwarmEvent& e) {
    if (e.kind == swarm::SwarmEvent::Kind::finished) {
      std::lock_guard lock(m);
      finished = true;
      cv.notify_all();
    }
  });
  auto seeded = seeder.add(made->source, {.save_path = (dir / "seed").string(), .seed_mode = true});
  ASSERT_TRUE(seeded) << seeded.error().message;
  auto link = seeder.magnet(seeded->id(), swarm::peer_hints("127.0.0.1:0", seeder.listen_port()));
  ASSERT_TRUE(link);
  EXPECT_NE(link->find("x.pe=127.0.0.1:"), std::string::npos);
  EXPECT_NE(link->find("urn:btmh:"), std::string::npos) << "hybrid links carry the v2 hash too";
  auto src = swarm::parse_magnet(*link);
  ASSERT_TRUE(src);
  auto got = leecher.add(*src, {.save_path = (dir / "get").string()});
  ASSERT_TRUE(got) << got.error().message;
  {
    std::unique_lock lock(m);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(60), [&] { return finished; }))
        << "transfer did not finish";
  }
  auto st = leecher.status(got->id());
  ASSERT_TRUE(st);
  EXPECT_DOUBLE_EQ(st->progress, 1.0);
  EXPECT_EQ(base::read_file(dir / "get" / "data" / "one.bin").value(),
            base::read_file(dir / "seed" / "data" / "one.bin").value());
  auto torrent = leecher.torrent_file(got->id());
  ASSERT_TRUE(torrent);
  EXPECT_EQ(swarm::parse_torrent(*torrent)->hashes.id(), seeded->id());
  leecher.shutdown();
  seeder.shutdown();
  work.reset();
  io.stop();
  io_thread.join();
  fs::remove_all(dir);
}

#include "crypto/sign.hpp"
#include "swarm/private_dht.hpp"

TEST(Dht, MutableItemsOnAPrivateLoopbackDht) {
  swarm::testing::PrivateDht dht(8);
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(dht.wait_formed(3, std::chrono::seconds(90))) << "the private DHT did not form";
  auto formed_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  std::cout << "private DHT of 8 formed (3+ nodes each) in " << formed_ms << " ms\n";
  auto key = crypto::SigningKey::generate();
  ASSERT_TRUE(key);
  auto sign = [&](std::string_view canonical) { return key->sign(canonical); };
  const std::string salt = "presence";

  auto missing = dht.get(5, key->public_key(), salt);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, swarm::make_error_code(swarm::errc::dht_not_found));

  auto put1 = dht.put(1, key->public_key(), salt, "one", 1, sign);
  ASSERT_TRUE(put1) << put1.error().message;  // success means remote nodes accepted the signature
  auto got1 = dht.get(6, key->public_key(), salt);
  ASSERT_TRUE(got1) << got1.error().message;
  EXPECT_EQ(got1->value, "one");
  EXPECT_EQ(got1->seq, 1);

  // The same seq again is raised past the stored one, so the update replaces it.
  auto put2 = dht.put(2, key->public_key(), salt, std::string("tw\0o", 4), 1, sign);
  ASSERT_TRUE(put2) << put2.error().message;
  auto got2 = dht.get(7, key->public_key(), salt);
  ASSERT_TRUE(got2) << got2.error().message;
  EXPECT_EQ(got2->value, std::string("tw\0o", 4));
  EXPECT_EQ(got2->seq, 2);
  // Another salt is another item.
  EXPECT_FALSE(dht.get(3, key->public_key(), "other"));

  // A wrong signature is refused by every node.
  auto stranger = crypto::SigningKey::generate();
  auto bad = dht.put(4, key->public_key(), salt, "forged", 10,
                     [&](std::string_view canonical) { return stranger->sign(canonical); });
  EXPECT_FALSE(bad);
  auto got3 = dht.get(0, key->public_key(), salt);
  ASSERT_TRUE(got3);
  EXPECT_EQ(got3->seq, 2);

  // Limits are checked before anything is sent.
  auto big = dht.put(1, key->public_key(), salt, std::string(997, 'x'), 3, sign);
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().code, base::make_error_code(base::errc::invalid_argument));
  EXPECT_TRUE(dht.put(1, key->public_key(), salt, std::string(996, 'x'), 3, sign));  // "996:" + 996 = 1000
}

TEST(Dht, CallsFailWhenTheDhtIsOff) {
  boost::asio::io_context io;
  swarm::SessionHost host(io, test_options(), [](const swarm::SwarmEvent&) {});
  swarm::DhtPublicKey key{};
  bool called = false;
  host.dht_get_mutable(key, "", [&](Result<swarm::MutableItem> r) {
    called = true;
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, swarm::make_error_code(swarm::errc::dht_failed));
  });
  EXPECT_TRUE(called);
  host.map_port(4000);  // UPnP and NAT-PMP are off: nothing happens
  host.shutdown();
}

TEST(Dht, ANodeAloneStoresNothing) {
  swarm::testing::PrivateDht alone(1);  // DHT running, no other node
  auto key = crypto::SigningKey::generate();
  ASSERT_TRUE(key);
  auto put = alone.put(0, key->public_key(), "", "v", 1, [&](std::string_view c) { return key->sign(c); });
  ASSERT_FALSE(put);
  EXPECT_EQ(put.error().code, swarm::make_error_code(swarm::errc::dht_failed));
  auto got = alone.get(0, key->public_key(), "");
  ASSERT_FALSE(got);
}

TEST(SessionHost, SslTorrentOnlyForCertificateHolders) {
  auto dir = temp_dir("ssl");
  write(dir / "seed" / "secret.bin", 1 << 20, 7);
  auto certs = crypto::make_transfer_certs();
  auto other = crypto::make_transfer_certs();
  ASSERT_TRUE(certs && other);
  auto made = swarm::make_torrent(dir / "seed" / "secret.bin", {.root_cert = certs->root_cert});
  ASSERT_TRUE(made) << made.error().message;

  boost::asio::io_context io;
  auto work = boost::asio::make_work_guard(io);
  std::thread io_thread([&] { io.run(); });
  std::mutex m;
  std::condition_variable cv;
  bool finished = false, intruder_finished = false;
  auto options = test_options();
  options.ssl_listen = "127.0.0.1:0";
  swarm::SessionHost seeder(io, options, [](const swarm::SwarmEvent&) {});
  swarm::SessionHost leecher(io, test_options(), [&](const swarm::SwarmEvent& e) {
    std::lock_guard lock(m);
    finished |= e.kind == swarm::SwarmEvent::Kind::finished;
    cv.notify_all();
  });
  swarm::SessionHost intruder(io, test_options(), [&](const swarm::SwarmEvent& e) {
    std::lock_guard lock(m);
    intruder_finished |= e.kind == swarm::SwarmEvent::Kind::finished;
  });
  ASSERT_NE(seeder.ssl_listen_port(), 0);
  auto seeded = seeder.add(made->source, {.save_path = (dir / "seed").string(),
                                          .seed_mode = true,
                                          .ssl_cert = certs->sender_cert,
                                          .ssl_key = certs->sender_key});
  ASSERT_TRUE(seeded) << seeded.error().message;
  const auto peer = "127.0.0.1:" + std::to_string(seeder.ssl_listen_port());
  // The intruder has the torrent and the address, and a certificate of another transfer.
  auto bad = intruder.add(made->source, {.save_path = (dir / "bad").string(),
                                         .peers = {peer, "127.0.0.1:" + std::to_string(seeder.listen_port())},
                                         .ssl_cert = other->recipient_cert,
                                         .ssl_key = other->recipient_key});
  ASSERT_TRUE(bad) << bad.error().message;
  auto got = leecher.add(made->source, {.save_path = (dir / "get").string(),
                                        .peers = {peer},
                                        .ssl_cert = certs->recipient_cert,
                                        .ssl_key = certs->recipient_key});
  ASSERT_TRUE(got) << got.error().message;
  {
    std::unique_lock lock(m);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(60), [&] { return finished; }))
        << "transfer did not finish";
  }
  EXPECT_EQ(base::read_file(dir / "get" / "secret.bin").value(),
            base::read_file(dir / "seed" / "secret.bin").value());
  std::this_thread::sleep_for(std::chrono::seconds(3));  // the intruder had time to try, and keeps trying
  {
    std::lock_guard lock(m);
    EXPECT_FALSE(intruder_finished);
  }
  EXPECT_EQ(intruder.status(bad->id())->total_done, 0);
  intruder.shutdown();
  leecher.shutdown();
  seeder.shutdown();
  work.reset();
  io.stop();
  io_thread.join();
  fs::remove_all(dir);
}

#include <libtorrent/torrent_info.hpp>

// What a user sees of a transfer: sizes without BEP 47 pad files (a hybrid torrent has them between
// files), rates of 0 where nothing can move, and the wanted bytes following the file choice even once
// the download is complete (libtorrent then counts every byte as wanted).
TEST(SessionHost, SizesRatesAndFileChoiceAsTheUserSeesThem) {
  auto dir = temp_dir("sizes");
  write(dir / "seed" / "data" / "a.bin", 1000001, 1);  // odd sizes: pad files follow a and b
  write(dir / "seed" / "data" / "b.bin", 2000003, 2);
  write(dir / "seed" / "data" / "c.txt", 5000, 3);
  const std::int64_t a_size = 1000001, all = 1000001 + 2000003 + 5000;
  auto made = swarm::make_torrent(dir / "seed" / "data", {.format = swarm::TorrentFormat::hybrid});
  ASSERT_TRUE(made) << made.error().message;
  {
    lt::error_code ec;
    lt::torrent_info ti(lt::span<const char>(made->bytes.data(), static_cast<long>(made->bytes.size())), ec,
                        lt::from_span);
    ASSERT_FALSE(ec);
    int pads = 0;
    for (auto i : ti.files().file_range()) pads += ti.files().pad_file_at(i) ? 1 : 0;
    ASSERT_GT(pads, 0) << "the test needs a torrent with pad files";
    ASSERT_GT(ti.total_size(), all);
  }

  boost::asio::io_context io;
  auto work = boost::asio::make_work_guard(io);
  std::thread io_thread([&] { io.run(); });
  std::mutex m;
  std::condition_variable cv;
  bool finished = false;
  auto slow = test_options();
  slow.download_limit = 1 << 20;  // ~3 s of transfer, so libtorrent's rate average is well above 0
  slow.limit_lan = true;
  swarm::SessionHost seeder(io, test_options(), [](const swarm::SwarmEvent&) {});
  swarm::SessionHost leecher(io, slow, [&](const swarm::SwarmEvent& e) {
    std::lock_guard lock(m);
    finished |= e.kind == swarm::SwarmEvent::Kind::finished;
    cv.notify_all();
  });
  auto seeded = seeder.add(made->source, {.save_path = (dir / "seed").string(), .seed_mode = true});
  ASSERT_TRUE(seeded) << seeded.error().message;
  auto shared = seeder.status(seeded->id());
  ASSERT_TRUE(shared);
  EXPECT_EQ(shared->total_size, all);
  EXPECT_EQ(shared->total_wanted, all);
  auto got = leecher.add(made->source, {.save_path = (dir / "get").string(),
                                        .peers = {"127.0.0.1:" + std::to_string(seeder.listen_port())}});
  ASSERT_TRUE(got) << got.error().message;
  const auto id = got->id();
  {
    std::unique_lock lock(m);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(120), [&] { return finished; })) << "no finish";
  }
  auto st = leecher.status(id);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->total_size, all);
  EXPECT_EQ(st->total_wanted, all);
  EXPECT_EQ(st->total_done, all);
  EXPECT_DOUBLE_EQ(st->progress, 1.0);
  EXPECT_EQ(st->download_rate, 0) << "nothing is downloaded once every wanted piece is here";
  auto files = leecher.files(id);
  ASSERT_TRUE(files);
  ASSERT_EQ(files->size(), 3u);
  std::int64_t listed = 0;
  for (const auto& f : *files) listed += f.size;
  EXPECT_EQ(listed, all);

  // Choosing one file of the complete download: the wanted bytes follow once libtorrent applied it.
  ASSERT_TRUE(leecher.set_wanted_files(id, {(*files)[0].index}));
  std::optional<swarm::TransferStatus> chosen;
  for (int i = 0; i < 100; ++i) {
    chosen = leecher.status(id).value();
    if (chosen->total_wanted != all) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(chosen->total_wanted, a_size);
  EXPECT_EQ(chosen->total_done, a_size);
  EXPECT_EQ(chosen->total_size, all);
  EXPECT_DOUBLE_EQ(chosen->progress, 1.0);

  // No peer left: nothing can move.
  leecher.shutdown();
  std::optional<swarm::TransferStatus> alone;
  for (int i = 0; i < 100; ++i) {
    alone = seeder.status(seeded->id()).value();
    if (alone->peers == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(alone->peers, 0);
  EXPECT_EQ(alone->upload_rate, 0);
  // Paused: neither direction can move.
  ASSERT_TRUE(seeder.pause(seeded->id()));
  auto paused = seeder.status(seeded->id());
  ASSERT_TRUE(paused);
  EXPECT_EQ(paused->state, "paused");
  EXPECT_EQ(paused->upload_rate, 0);
  EXPECT_EQ(paused->download_rate, 0);
  seeder.shutdown();
  work.reset();
  io.stop();
  io_thread.join();
  fs::remove_all(dir);
}
