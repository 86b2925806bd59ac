// Rendezvous over a real (private, loopback-only) Mainline DHT: eight libtorrent sessions on
// 127.0.0.1, presence records stored and read through DhtPortAdapter exactly as the node will.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <iostream>

#include "app/dht_port_adapter.hpp"
#include "base/io_testing.hpp"
#include "rendezvous/doorbell.hpp"
#include "rendezvous/errors.hpp"
#include "rendezvous/rendezvous.hpp"
#include "swarm/private_dht.hpp"

using namespace kith;
using kith::base::testing::run_until;

namespace {

Result<rendezvous::Presence> lookup(boost::asio::io_context& io, rendezvous::Rendezvous& r,
                                    const crypto::PublicKey& who) {
  std::optional<Result<rendezvous::Presence>> out;
  auto t0 = std::chrono::steady_clock::now();
  r.lookup(who, [&](Result<rendezvous::Presence> p) { out = std::move(p); });
  EXPECT_TRUE(run_until(
      io, [&] { return out.has_value(); }, std::chrono::seconds(60)));
  std::cout
      << "lookup took "
      << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count()
      << " ms\n";
  return out.value_or(fail(make_error_code(rendezvous::errc::dht_failed), "timeout"));
}

}  // namespace

TEST(RendezvousDht, ContactFindsPublisherStrangerDoesNot) {
  swarm::testing::PrivateDht dht(8);
  ASSERT_TRUE(dht.wait_formed(3, std::chrono::seconds(90))) << "the private DHT did not form";
  auto p = crypto::SigningKey::generate().value();
  auto r = crypto::SigningKey::generate().value();
  auto s = crypto::SigningKey::generate().value();
  app::DhtPortAdapter at_p(dht.host(1)), at_r(dht.host(5)), at_s(dht.host(7));
  boost::asio::io_context io;  // the services' own; this thread runs it
  rendezvous::Rendezvous rp(io, at_p, p, {}), rr(io, at_r, r, {}), rs(io, at_s, s, {});
  rp.set_contacts({r.public_key()});
  rp.set_addresses({"127.0.0.1:4000", "[::1]:4000"});
  rp.start();
  ASSERT_TRUE(run_until(
      io, [&] { return rp.stats().puts_ok + rp.stats().puts_failed > 0; }, std::chrono::seconds(60)));
  ASSERT_EQ(rp.stats().puts_ok, 1);

  auto found = lookup(io, rr, p.public_key());
  ASSERT_TRUE(found) << found.error().message;
  EXPECT_EQ(found->addrs, (std::vector<std::string>{"127.0.0.1:4000", "[::1]:4000"}));

  auto stranger = lookup(io, rs, p.public_key());
  ASSERT_FALSE(stranger);
  EXPECT_EQ(stranger.error().code, make_error_code(rendezvous::errc::not_found));

  // A change of address is republished at once and read back.
  rp.set_addresses({"127.0.0.1:4001"});
  ASSERT_TRUE(run_until(
      io, [&] { return rp.stats().puts_ok == 2; }, std::chrono::seconds(60)));
  found = lookup(io, rr, p.public_key());
  ASSERT_TRUE(found) << found.error().message;
  EXPECT_EQ(found->addrs, std::vector<std::string>{"127.0.0.1:4001"});
  rp.stop();
}

// The doorbell over the same real DHT: BEP 5 announces and get_peers through DhtPortAdapter. The
// owner hears the ringer's channel port at the address DHT nodes saw it announce from.
TEST(RendezvousDht, DoorbellRingIsHeardByTheBellsOwner) {
  // Declared first, so destroyed last: get_peers still pending when the DHT shuts down hold the
  // doorbells' strands, which belong to this io_context.
  boost::asio::io_context io;
  swarm::testing::PrivateDht dht(8);
  ASSERT_TRUE(dht.wait_formed(3, std::chrono::seconds(90))) << "the private DHT did not form";
  auto owner = crypto::SigningKey::generate().value();
  app::DhtPortAdapter at_owner(dht.host(2)), at_ringer(dht.host(6));
  rendezvous::DoorbellOptions fast;
  fast.poll_interval = std::chrono::seconds(2);
  fast.tick = std::chrono::milliseconds(50);
  std::vector<std::string> heard;
  rendezvous::Doorbell o(io, at_owner, rendezvous::own_bell(owner), fast,
                         [&](std::vector<std::string> addrs) { heard = std::move(addrs); });
  rendezvous::Doorbell r(io, at_ringer, rendezvous::own_bell(crypto::SigningKey::generate().value()), fast,
                         {});
  r.set_port(4242);
  r.set_ringing({rendezvous::own_bell(owner)});
  r.start();
  o.start();
  ASSERT_TRUE(run_until(
      io, [&] { return !heard.empty(); }, std::chrono::seconds(60)))
      << "the ring was not heard";
  EXPECT_EQ(heard, std::vector<std::string>{"127.0.0.1:4242"});
  EXPECT_GE(r.stats().rings, 1);
  o.stop();
  r.stop();
}
