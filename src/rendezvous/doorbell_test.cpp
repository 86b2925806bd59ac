// The doorbell over an in-memory BEP 5 store that records each announce under the address the
// announcer is seen from, as DHT nodes do.
#include "rendezvous/doorbell.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <map>
#include <set>

#include "base/io_testing.hpp"
#include "identity/invite.hpp"

using namespace kith;
using namespace kith::rendezvous;
using kith::base::testing::idle;
using kith::base::testing::run_until;

namespace {

constexpr std::int64_t DAY = 86'400'000;
constexpr std::int64_t NOW = 20'000 * DAY + 3'600'000;  // 01:00 UTC on day 20000

struct Swarms {
  std::map<InfoHash, std::set<std::string>> peers;
};

// One node's view of the DHT: announces are recorded with its public IP.
class FakeBep5 : public DhtPort {
 public:
  FakeBep5(Swarms& swarms, std::string public_ip) : m_swarms(swarms), m_ip(std::move(public_ip)) {}
  void put_mutable(const crypto::PublicKey&, std::string, std::string, std::int64_t, Signer,
                   std::function<void(Status)> done) override {
    done({});
  }
  void get_mutable(const crypto::PublicKey&, std::string,
                   std::function<void(Result<std::optional<DhtItem>>)> done) override {
    done(std::optional<DhtItem>{});
  }
  void announce(const InfoHash& hash, std::uint16_t port) override {
    ++announces;
    m_swarms.peers[hash].insert(m_ip + ":" + std::to_string(port));
  }
  void get_peers(const InfoHash& hash, std::function<void(Result<std::vector<std::string>>)> done) override {
    ++gets;
    auto it = m_swarms.peers.find(hash);
    if (it == m_swarms.peers.end()) return done(std::vector<std::string>{});
    done(std::vector<std::string>(it->second.begin(), it->second.end()));
  }
  int announces = 0, gets = 0;

 private:
  Swarms& m_swarms;
  std::string m_ip;
};

crypto::SigningKey key() { return std::move(crypto::SigningKey::generate().value()); }

DoorbellOptions fast() {
  DoorbellOptions o;
  o.poll_interval = std::chrono::milliseconds(50);
  o.ring_interval = std::chrono::milliseconds(200);
  o.early_ring_interval = std::chrono::milliseconds(100);
  o.answer_poll = std::chrono::milliseconds(50);
  o.tick = std::chrono::milliseconds(10);
  return o;
}

}  // namespace

TEST(Doorbell, OwnBellIsStablePrivateAndInviteShaped) {
  auto a = key(), b = key();
  EXPECT_EQ(own_bell(a), own_bell(a));
  EXPECT_NE(own_bell(a), own_bell(b));
  EXPECT_TRUE(identity::valid_bell(own_bell(a)));
  // One key per bell and day: tomorrow's hash says nothing about today's.
  EXPECT_NE(bell_hash(own_bell(a), 1), bell_hash(own_bell(a), 2));
  EXPECT_NE(bell_hash(own_bell(a), 1), bell_hash(own_bell(b), 1));
}

TEST(Doorbell, TheOwnerHearsWhoRangFromWhereTheDhtSawThem) {
  boost::asio::io_context io;
  Swarms swarms;
  FakeBep5 at_owner(swarms, "198.51.100.7"), at_ringer(swarms, "203.0.113.9"), at_other(swarms, "192.0.2.1");
  auto owner = key();
  const auto bell = own_bell(owner);
  std::vector<std::string> heard;
  std::int64_t now = NOW;
  std::string answered_bell;
  std::vector<std::string> answers;
  Doorbell o(
      io, at_owner, bell, fast(), [&](std::vector<std::string> addrs) { heard = std::move(addrs); }, {},
      [&] { return now; });
  Doorbell r(
      io, at_ringer, own_bell(key()), fast(), {},
      [&](std::string b, std::vector<std::string> addrs) {
        answered_bell = std::move(b);
        answers = std::move(addrs);
      },
      [&] { return now; });
  Doorbell other(io, at_other, own_bell(key()), fast(), {}, {}, [&] { return now; });
  o.set_port(6883);
  o.start();
  r.start();
  other.start();
  // Nothing is rung before the ringer knows its channel port.
  r.set_ringing({bell});
  other.set_ringing({own_bell(key())});  // someone else's bell: not heard by the owner
  other.set_port(7000);
  run_until(io, [&] { return at_owner.gets >= 4; });
  EXPECT_EQ(at_ringer.announces, 0);
  EXPECT_TRUE(heard.empty());
  r.set_port(6882);
  ASSERT_TRUE(run_until(io, [&] { return !heard.empty(); }));
  EXPECT_EQ(heard, std::vector<std::string>{"203.0.113.9:6882"});
  EXPECT_GE(o.stats().heard, 1);
  // The owner answered under its answer key; the ringer, looking there while ringing, hears where.
  ASSERT_TRUE(run_until(io, [&] { return !answers.empty(); }));
  EXPECT_EQ(answered_bell, bell);
  EXPECT_EQ(answers, std::vector<std::string>{"198.51.100.7:6883"});
  // Rung again every ring interval while still ringing; not once it stops.
  ASSERT_TRUE(run_until(io, [&] { return at_ringer.announces >= 2; }));
  r.set_ringing({});
  idle(io, std::chrono::milliseconds(100));
  const auto rung = at_ringer.announces;
  idle(io, std::chrono::milliseconds(500));
  EXPECT_EQ(at_ringer.announces, rung);
}

// A first ring may go out before the DHT has nodes to store it (a node just started, a small network):
// the next rings come soon after, not only a ring interval later.
TEST(Doorbell, TheFirstRingsAreRepeatedSoon) {
  boost::asio::io_context io;
  Swarms swarms;
  FakeBep5 at_ringer(swarms, "203.0.113.9");
  auto o = fast();
  o.ring_interval = std::chrono::hours(1);
  o.early_ring_interval = std::chrono::milliseconds(50);
  Doorbell r(io, at_ringer, own_bell(key()), o, {}, {}, [] { return NOW; });
  r.set_port(6882);
  r.start();
  r.set_ringing({own_bell(key())});
  ASSERT_TRUE(run_until(io, [&] { return at_ringer.announces >= 1 + o.early_rings; }));
  idle(io, std::chrono::milliseconds(300));
  EXPECT_EQ(at_ringer.announces, 1 + o.early_rings) << "then only every ring interval";
}

TEST(Doorbell, ARingFromYesterdayIsHeardAfterMidnight) {
  boost::asio::io_context io;
  Swarms swarms;
  FakeBep5 at_owner(swarms, "198.51.100.7"), at_ringer(swarms, "203.0.113.9");
  auto owner = key();
  const auto bell = own_bell(owner);
  at_ringer.announce(bell_hash(bell, NOW / DAY - 1), 6882);  // rung at 23:59 yesterday
  std::vector<std::string> heard;
  Doorbell o(
      io, at_owner, bell, fast(), [&](std::vector<std::string> addrs) { heard = std::move(addrs); }, {},
      [] { return NOW; });
  o.start();
  ASSERT_TRUE(run_until(io, [&] { return !heard.empty(); }));
  EXPECT_EQ(heard, std::vector<std::string>{"203.0.113.9:6882"});
}

TEST(Doorbell, NobodyRingsTheirOwnBell) {
  boost::asio::io_context io;
  Swarms swarms;
  FakeBep5 at(swarms, "198.51.100.7");
  auto me = key();
  Doorbell d(io, at, own_bell(me), fast(), {}, {}, [] { return NOW; });
  d.set_port(6882);
  d.set_ringing({own_bell(me)});
  d.start();
  idle(io, std::chrono::milliseconds(200));
  EXPECT_EQ(at.announces, 0);
  EXPECT_GE(at.gets, 2);
}
