// The receive side of local discovery (sync/discovery_cache.hpp), driven with a fake clock.
#include "sync/discovery_cache.hpp"

#include <gtest/gtest.h>

#include "bep/announce.hpp"

using namespace kith;
using sync::DiscoveryCache;
using Verdict = DiscoveryCache::Verdict;
using namespace std::chrono_literals;

namespace {

bep::DeviceId id_of(std::uint8_t fill) {
  bep::DeviceId id;
  id.bytes.fill(fill);
  return id;
}

std::string announce(std::uint8_t who, std::vector<std::string> addresses, std::int64_t instance = 1) {
  return bep::encode_announce(bep::Announce{id_of(who), std::move(addresses), instance});
}

const DiscoveryCache::Clock::time_point T0 = DiscoveryCache::Clock::time_point{} + 24h;

}  // namespace

TEST(DiscoveryCache, LearnsAddressesFromTheSourceAndIgnoresItself) {
  DiscoveryCache c({}, id_of(1));
  EXPECT_EQ(c.consider("198.18.0.12", false, announce(1, {"tcp://:22000"}), T0).verdict, Verdict::own);
  auto d = c.consider("198.18.0.11", false, announce(2, {"tcp://:22000", "quic://:22000"}), T0);
  ASSERT_EQ(d.verdict, Verdict::accepted);
  EXPECT_TRUE(d.is_new);
  EXPECT_EQ(d.device, id_of(2));
  EXPECT_EQ(d.addresses, std::vector<std::string>{"tcp://198.18.0.11:22000"});
  EXPECT_EQ(c.lookup(id_of(2), T0 + 1s), std::vector<std::string>{"tcp://198.18.0.11:22000"});
  EXPECT_TRUE(c.lookup(id_of(3), T0).empty());
  EXPECT_EQ(c.devices(), 1u);
}

TEST(DiscoveryCache, BothFamiliesKeptIpv4First) {
  DiscoveryCache c({}, id_of(1));
  c.consider("fe80::2%eth0", true, announce(2, {"tcp://:22000"}), T0);
  // New for IPv4 too: each family has its own entry (Syncthing's announcers differ in instance ID).
  EXPECT_TRUE(c.consider("198.18.0.11", false, announce(2, {"tcp://:22000"}), T0 + 1s).is_new);
  EXPECT_EQ(c.lookup(id_of(2), T0 + 2s),
            (std::vector<std::string>{"tcp://198.18.0.11:22000", "tcp://[fe80::2%eth0]:22000"}));
}

TEST(DiscoveryCache, EntriesExpireAndComeBackAsNew) {
  DiscoveryCache c({}, id_of(1));
  c.consider("198.18.0.11", false, announce(2, {"tcp://:22000"}), T0);
  EXPECT_FALSE(c.consider("198.18.0.11", false, announce(2, {"tcp://:22000"}), T0 + 30s).is_new);
  EXPECT_FALSE(c.lookup(id_of(2), T0 + 119s).empty());
  EXPECT_TRUE(c.lookup(id_of(2), T0 + 121s).empty());  // 90 s after the last announce
  EXPECT_TRUE(c.consider("198.18.0.11", false, announce(2, {"tcp://:22000"}), T0 + 200s).is_new);
}

TEST(DiscoveryCache, ANewInstanceIsNewAndReplacesTheAddresses) {
  DiscoveryCache c({}, id_of(1));
  c.consider("198.18.0.11", false, announce(2, {"tcp://:22000"}, 7), T0);
  auto d = c.consider("198.18.0.11", false, announce(2, {"tcp://:22001"}, 8), T0 + 5s);
  EXPECT_TRUE(d.is_new);
  EXPECT_EQ(c.lookup(id_of(2), T0 + 6s), std::vector<std::string>{"tcp://198.18.0.11:22001"});
}

TEST(DiscoveryCache, SyncthingsTwoAnnouncersEachHaveTheirInstance) {
  // Syncthing 1.19 announces over IPv4 and IPv6 with a different instance ID each: alternating
  // announces are neither restarts nor a reason to forget the other family's addresses.
  DiscoveryCache c({}, id_of(1));
  EXPECT_TRUE(c.consider("198.18.0.12", false, announce(2, {"tcp://0.0.0.0:22000"}, 11), T0).is_new);
  EXPECT_TRUE(c.consider("fe80::2%eth0", true, announce(2, {"tcp://0.0.0.0:22000"}, 22), T0).is_new);
  EXPECT_FALSE(c.consider("198.18.0.12", false, announce(2, {"tcp://0.0.0.0:22000"}, 11), T0 + 30s).is_new);
  EXPECT_FALSE(c.consider("fe80::2%eth0", true, announce(2, {"tcp://0.0.0.0:22000"}, 22), T0 + 30s).is_new);
  EXPECT_EQ(c.lookup(id_of(2), T0 + 31s),
            (std::vector<std::string>{"tcp://198.18.0.12:22000", "tcp://[fe80::2%eth0]:22000"}));
}

TEST(DiscoveryCache, BadDatagramsAndFloodsAreDropped) {
  sync::DiscoveryLimits limits;
  limits.per_source_burst = 3;
  limits.per_source_rate = 1;
  DiscoveryCache c(limits, id_of(1));
  EXPECT_EQ(c.consider("198.18.0.11", false, "junk", T0).verdict, Verdict::bad);
  EXPECT_EQ(c.consider("198.18.0.11", false, announce(2, {}), T0).verdict, Verdict::accepted);
  EXPECT_EQ(c.consider("198.18.0.11", false, announce(2, {}), T0).verdict, Verdict::accepted);
  EXPECT_EQ(c.consider("198.18.0.11", false, announce(2, {}), T0).verdict, Verdict::rate_limited);
  EXPECT_EQ(c.consider("198.18.0.12", false, announce(3, {}), T0).verdict,
            Verdict::accepted);  // another source
  EXPECT_EQ(c.consider("198.18.0.11", false, announce(2, {}), T0 + 1s).verdict, Verdict::accepted);
}

TEST(DiscoveryCache, BoundedDevicesAndAddresses) {
  sync::DiscoveryLimits limits;
  limits.max_devices = 2;
  limits.max_addresses = 2;
  DiscoveryCache c(limits, id_of(1));
  auto d =
      c.consider("198.18.0.11", false, announce(2, {"tcp://:1", "tcp://:1", "tcp://:2", "tcp://:3"}), T0);
  EXPECT_EQ(d.addresses, (std::vector<std::string>{"tcp://198.18.0.11:1", "tcp://198.18.0.11:2"}));
  c.consider("198.18.0.12", false, announce(3, {"tcp://:1"}), T0);
  c.consider("198.18.0.13", false, announce(4, {"tcp://:1"}), T0);
  EXPECT_EQ(c.devices(), 2u);
  EXPECT_TRUE(c.lookup(id_of(2), T0).empty());  // the least recently announced went
}

TEST(DiscoveryCache, AnswersAreSpacedNotDropped) {
  DiscoveryCache c({}, id_of(1));
  EXPECT_EQ(c.schedule_answer(T0), T0);
  EXPECT_EQ(c.schedule_answer(T0 + 100ms), T0 + 1s);
  EXPECT_EQ(c.schedule_answer(T0 + 5s), T0 + 5s);
}
