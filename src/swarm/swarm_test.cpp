#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
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

// ---- Hostile input at intake (issue 10) ----

#include <libtorrent/bencode.hpp>
#include <libtorrent/create_torrent.hpp>
#include <libtorrent/torrent_info.hpp>
#include <libtorrent/write_resume_data.hpp>

#include "swarm/detail/source_data.hpp"
#include "swarm/limits.hpp"
#include "swarm/selection.hpp"

namespace {

// A .torrent (hybrid, two files) with `extra` top-level keys added around its info dict.
std::string torrent_with(const fs::path& dir, const std::function<void(lt::entry&)>& extra,
                         swarm::TorrentFormat format = swarm::TorrentFormat::hybrid) {
  write(dir / "data" / "a.bin", 100000, 5);
  write(dir / "data" / "b.txt", 2000, 6);
  auto made = swarm::make_torrent(dir / "data", {.format = format});
  EXPECT_TRUE(made) << made.error().message;
  lt::entry e = lt::bdecode(made->bytes);
  extra(e);
  std::string out;
  lt::bencode(std::back_inserter(out), e);
  return out;
}

std::size_t count_priorities(const swarm::Source& s) { return s.data->params.file_priorities.size(); }

// An io_context running on its own thread, stopped and joined however the test ends.
struct IoThread {
  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{io.get_executor()};
  std::thread thread{[this] { io.run(); }};
  ~IoThread() {
    work.reset();
    io.stop();
    thread.join();
  }
};

}  // namespace

TEST(Intake, MagnetListsAreDedupedAndCapped) {
  std::string link = "magnet:?xt=urn:btih:" + HASH;
  for (int i = 0; i < 10000; ++i) link += "&tr=http%3A%2F%2F127.0.0.1%3A1%2F" + std::to_string(i);
  link += "&tr=http%3A%2F%2F127.0.0.1%3A1%2F0";  // a repeat
  for (int i = 0; i < 100; ++i) link += "&ws=http%3A%2F%2F127.0.0.1%2Fws" + std::to_string(i);
  for (int i = 0; i < 100; ++i) link += "&x.pe=127.0.0.1:" + std::to_string(1000 + i);
  for (int i = 0; i < 100; ++i) link += "&dht=127.0.0.1:" + std::to_string(2000 + i);
  auto s = swarm::parse_magnet(link);
  ASSERT_TRUE(s) << s.error().message;
  const auto& p = s->data->params;
  ASSERT_EQ(p.trackers.size(), swarm::MAX_TRACKERS);
  ASSERT_EQ(p.tracker_tiers.size(), p.trackers.size());
  EXPECT_EQ(p.trackers.front(), "http://127.0.0.1:1/0");  // the first ones stay, in order
  EXPECT_EQ(p.trackers.back(), "http://127.0.0.1:1/" + std::to_string(swarm::MAX_TRACKERS - 1));
  EXPECT_EQ(p.url_seeds.size(), swarm::MAX_WEB_SEEDS);
  EXPECT_EQ(p.peers.size(), swarm::MAX_PEER_HINTS);
  EXPECT_EQ(p.dht_nodes.size(), swarm::MAX_DHT_NODES);

  auto dupes = swarm::parse_magnet("magnet:?xt=urn:btih:" + HASH +
                                   "&tr=udp%3A%2F%2Fa%3A1&tr=udp%3A%2F%2Fb%3A1&tr=udp%3A%2F%2Fa%3A1"
                                   "&x.pe=127.0.0.1:5&x.pe=127.0.0.1:5&ws=http%3A%2F%2Fw&ws=http%3A%2F%2Fw");
  ASSERT_TRUE(dupes);
  EXPECT_EQ(dupes->data->params.trackers, (std::vector<std::string>{"udp://a:1", "udp://b:1"}));
  EXPECT_EQ(dupes->data->params.tracker_tiers, (std::vector<int>{0, 1}));
  EXPECT_EQ(dupes->data->params.peers.size(), 1u);
  EXPECT_EQ(dupes->data->params.url_seeds.size(), 1u);
}

TEST(Intake, MagnetSelectionIsBoundedByLibtorrent) {
  // so= indices past 10000 are ignored by libtorrent's parser: a huge index costs no memory.
  auto s = swarm::parse_magnet("magnet:?xt=urn:btih:" + HASH + "&so=0-3,99999999,2147483647,5000-2000000");
  ASSERT_TRUE(s);
  EXPECT_LE(count_priorities(*s), swarm::MAX_SELECTED_INDEX + 1);
}

TEST(Intake, TorrentListsAreCappedAndTheInfoHashKept) {
  auto dir = temp_dir("intake_lists");
  auto plain = swarm::parse_torrent(torrent_with(dir, [](lt::entry&) {}));
  ASSERT_TRUE(plain);
  auto bytes = torrent_with(dir, [](lt::entry& e) {
    lt::entry::list_type tiers;
    for (int t = 0; t < 100; ++t) {
      lt::entry::list_type tier;
      for (int i = 0; i < 100; ++i) tier.emplace_back("http://127.0.0.1:1/" + std::to_string(t * 100 + i));
      tier.emplace_back("http://127.0.0.1:1/0");  // the same URL in every tier
      tiers.emplace_back(std::move(tier));
    }
    e["announce-list"] = std::move(tiers);
    lt::entry::list_type seeds, http_seeds, nodes;
    for (int i = 0; i < 100; ++i) {
      seeds.emplace_back("http://127.0.0.1/u" + std::to_string(i));
      http_seeds.emplace_back("http://127.0.0.1/h" + std::to_string(i));
      nodes.emplace_back(lt::entry::list_type{lt::entry("127.0.0.1"), lt::entry(3000 + i)});
    }
    e["url-list"] = std::move(seeds);
    e["httpseeds"] = std::move(http_seeds);
    e["nodes"] = std::move(nodes);
  });
  auto s = swarm::parse_torrent(bytes);
  ASSERT_TRUE(s) << s.error().message;
  const auto& ti = *s->data->params.ti;
  EXPECT_EQ(ti.trackers().size(), swarm::MAX_TRACKERS);
  EXPECT_EQ(ti.web_seeds().size(), swarm::MAX_WEB_SEEDS);
  EXPECT_EQ(ti.nodes().size(), swarm::MAX_DHT_NODES);
  EXPECT_EQ(s->hashes.v1, plain->hashes.v1) << "the info dict must stay byte for byte";
  EXPECT_EQ(s->hashes.v2, plain->hashes.v2);
  EXPECT_EQ(s->total_size, plain->total_size);
  // A torrent within the limits is handed on as it is.
  auto modest = swarm::parse_torrent(torrent_with(dir, [](lt::entry& e) {
    e["announce-list"] =
        lt::entry::list_type{lt::entry(lt::entry::list_type{lt::entry("http://127.0.0.1:1/a")})};
  }));
  ASSERT_TRUE(modest);
  EXPECT_EQ(modest->data->params.ti->trackers().size(), 1u);
  fs::remove_all(dir);
}

TEST(Intake, InvalidV2PieceLayersAreBadTorrents) {
  auto dir = temp_dir("intake_layers");
  for (auto format : {swarm::TorrentFormat::v2, swarm::TorrentFormat::hybrid}) {
    auto bytes = torrent_with(
        dir,
        [](lt::entry& e) {
          // Keep the layer's size (libtorrent's parser checks that) and change one hash byte.
          for (auto& [root, layer] : e["piece layers"].dict()) layer.string()[0] ^= 0x01;
        },
        format);
    auto s = swarm::parse_torrent(bytes);
    ASSERT_FALSE(s) << "a torrent whose piece layer does not hash to its root was accepted";
    EXPECT_EQ(s.error().code, swarm::make_error_code(swarm::errc::bad_torrent));
    EXPECT_NE(s.error().message.find("piece layer"), std::string::npos) << s.error().message;
  }
  // Unchanged layers still parse (and the v1-only torrent has none).
  EXPECT_TRUE(swarm::parse_torrent(torrent_with(
      dir, [](lt::entry&) {}, swarm::TorrentFormat::v2)));
  EXPECT_TRUE(swarm::parse_torrent(torrent_with(
      dir, [](lt::entry&) {}, swarm::TorrentFormat::v1)));
  fs::remove_all(dir);
}

TEST(Intake, GarbageSslCertIsABadTorrent) {
  auto dir = temp_dir("intake_ssl");
  write(dir / "secret.bin", 1000, 8);
  auto with_cert = [&](const std::string& pem) {
    lt::file_storage fs;
    lt::add_files(fs, (dir / "secret.bin").string());
    lt::create_torrent ct(fs);
    ct.set_root_cert(pem);
    lt::set_piece_hashes(ct, dir.string());
    std::string out;
    lt::bencode(std::back_inserter(out), ct.generate());
    return out;
  };
  auto s =
      swarm::parse_torrent(with_cert("-----BEGIN CERTIFICATE-----\ngarbage\n-----END CERTIFICATE-----\n"));
  ASSERT_FALSE(s) << "a torrent with an unreadable ssl-cert was accepted";
  EXPECT_EQ(s.error().code, swarm::make_error_code(swarm::errc::bad_torrent));
  EXPECT_NE(s.error().message.find("ssl-cert"), std::string::npos) << s.error().message;
  auto certs = crypto::make_transfer_certs();
  ASSERT_TRUE(certs);
  auto good = swarm::parse_torrent(with_cert(certs->root_cert));
  ASSERT_TRUE(good) << good.error().message;
  EXPECT_EQ(good->ssl_root, certs->root_cert);
  fs::remove_all(dir);
}

TEST(Intake, OneSizeLimitForFilesAndBytes) {
  auto dir = temp_dir("intake_size");
  const std::string big(swarm::MAX_TORRENT_BYTES + 1, 'd');
  auto from_bytes = swarm::parse_torrent(big);
  ASSERT_FALSE(from_bytes);
  EXPECT_EQ(from_bytes.error().code, swarm::make_error_code(swarm::errc::bad_torrent));
  EXPECT_NE(from_bytes.error().message.find("too large"), std::string::npos) << from_bytes.error().message;
  ASSERT_TRUE(base::atomic_write_file(dir / "big.torrent", big));
  auto from_file = swarm::parse_link_or_file((dir / "big.torrent").string());
  ASSERT_FALSE(from_file);
  EXPECT_EQ(from_file.error().code, from_bytes.error().code);
  EXPECT_EQ(from_file.error().message, (dir / "big.torrent").string() + ": " + from_bytes.error().message);
  fs::remove_all(dir);
}

// Resume data written before intake was capped can hold a link's every tracker.
TEST(Intake, RestoredResumeDataIsCappedToo) {
  auto dir = temp_dir("intake_restore");
  auto s = swarm::parse_torrent(torrent_with(dir, [](lt::entry&) {}));
  ASSERT_TRUE(s);
  lt::add_torrent_params p = s->data->params;
  p.save_path = (dir / "get").string();
  for (int i = 0; i < 1000; ++i) p.trackers.push_back("http://127.0.0.1:1/" + std::to_string(i));
  auto buf = lt::write_resume_data_buf(p);
  boost::asio::io_context io;
  swarm::SessionHost host(io, test_options(), [](const swarm::SwarmEvent&) {});
  auto restored = host.restore({.resume = std::vector<std::uint8_t>(buf.begin(), buf.end())});
  ASSERT_TRUE(restored) << restored.error().message;
  auto link = host.magnet(restored->id(), {});
  ASSERT_TRUE(link);
  std::size_t trackers = 0;
  for (auto at = link->find("&tr="); at != std::string::npos; at = link->find("&tr=", at + 1)) ++trackers;
  EXPECT_EQ(trackers, swarm::MAX_TRACKERS);
  host.shutdown();
  fs::remove_all(dir);
}

TEST(Intake, AGlobThatMatchesNothingIsRefusedBeforeTheAdd) {
  auto dir = temp_dir("intake_glob");
  auto s = swarm::parse_torrent(torrent_with(dir, [](lt::entry&) {}));
  ASSERT_TRUE(s);
  EXPECT_TRUE(swarm::check_selection(*s, ""));
  EXPECT_TRUE(swarm::check_selection(*s, "*.txt"));
  auto none = swarm::check_selection(*s, "nomatch*");
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, swarm::make_error_code(swarm::errc::nothing_selected));
  EXPECT_EQ(none.error().message, "--only 'nomatch*' matched none of the 2 files");  // pad files not counted
  boost::asio::io_context io;
  swarm::SessionHost host(io, test_options(), [](const swarm::SwarmEvent&) {});
  auto added = host.add(*s, {.save_path = (dir / "get").string(), .only_glob = "nomatch*"});
  ASSERT_FALSE(added);
  EXPECT_EQ(added.error().code, swarm::make_error_code(swarm::errc::nothing_selected));
  EXPECT_TRUE(host.list().empty());
  // An explicit empty choice of files is the user's, not an error.
  EXPECT_TRUE(host.add(*s, {.save_path = (dir / "get").string(), .has_wanted_files = true}));
  host.shutdown();
  fs::remove_all(dir);
}

// A magnet's file list arrives with the metadata: a selection that names no file then ends the
// transfer in an error with its own code, and it never "finishes".
TEST(SessionHost, AMagnetSelectionThatNamesNoFileEndsInAnError) {
  auto dir = temp_dir("select_none");
  write(dir / "seed" / "data" / "one.bin", 100000, 3);
  write(dir / "seed" / "data" / "two.txt", 1000, 4);
  auto made = swarm::make_torrent(dir / "seed" / "data", {});  // hybrid: a pad file between the two
  ASSERT_TRUE(made);
  IoThread loop;  // before the hosts, so that a failed assertion still stops them first
  auto& io = loop.io;
  swarm::SessionHost seeder(io, test_options(), [](const swarm::SwarmEvent&) {});
  auto seeded = seeder.add(made->source, {.save_path = (dir / "seed").string(), .seed_mode = true});
  ASSERT_TRUE(seeded);
  auto link = seeder.magnet(seeded->id(), swarm::peer_hints("127.0.0.1:0", seeder.listen_port()));
  ASSERT_TRUE(link);
  struct Case {
    std::string link, glob, message;
  };
  for (const auto& c :
       {Case{*link + "&so=7", "", "the link's file selection (so=) names none of the 2 files"},
        Case{*link, "nomatch*", "--only 'nomatch*' matched none of the 2 files"}}) {
    std::mutex m;
    std::condition_variable cv;
    bool finished = false, failed = false;
    swarm::SessionHost leecher(io, test_options(), [&](const swarm::SwarmEvent& e) {
      std::lock_guard lock(m);
      finished |= e.kind == swarm::SwarmEvent::Kind::finished;
      failed |= e.kind == swarm::SwarmEvent::Kind::error;
      cv.notify_all();
    });
    auto src = swarm::parse_magnet(c.link);
    ASSERT_TRUE(src);
    auto got = leecher.add(*src, {.save_path = (dir / "get").string(), .only_glob = c.glob});
    ASSERT_TRUE(got) << got.error().message;
    const auto id = got->id();
    {
      std::unique_lock lock(m);
      ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(60), [&] { return failed; }))
          << "no error for " << c.link << " " << c.glob << ": state " << leecher.status(id)->state
          << " metadata " << leecher.status(id)->has_metadata << " finished " << finished;
    }
    auto st = leecher.status(id);
    ASSERT_TRUE(st);
    EXPECT_EQ(st->state, "error");
    EXPECT_EQ(st->error, c.message);
    EXPECT_EQ(st->error_code, "swarm.nothing_selected");
    EXPECT_EQ(leecher.list().front().error_code, "swarm.nothing_selected");
    {
      std::lock_guard lock(m);
      EXPECT_FALSE(finished) << "an empty selection must not count as a finished download";
    }
    // Choosing files clears it.
    auto files = leecher.files(id);
    ASSERT_TRUE(files);
    ASSERT_EQ(files->size(), 2u);
    ASSERT_TRUE(leecher.set_wanted_files(id, {files->front().index}));
    EXPECT_TRUE(leecher.status(id)->error_code.empty());
    leecher.shutdown();
  }
  seeder.shutdown();
  fs::remove_all(dir);
}

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
