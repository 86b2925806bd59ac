#include "rendezvous/rendezvous.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <map>

#include "base/io_testing.hpp"
#include "crypto/box.hpp"
#include "rendezvous/errors.hpp"
#include "rendezvous/record.hpp"

using namespace kith;
using namespace kith::rendezvous;
using kith::base::testing::idle;
using kith::base::testing::run_until;

namespace {

constexpr std::int64_t NOW = 1'800'000'000'000;  // unix ms
constexpr std::int64_t HOUR = 3'600'000;

crypto::SigningKey key() { return std::move(crypto::SigningKey::generate().value()); }

PairKeys keys_for(const crypto::SigningKey& publisher, const crypto::SigningKey& reader) {
  return derive_pair_keys(crypto::pair_secret(publisher, reader.public_key()).value(),
                          publisher.public_key());
}

bool same(const PairKeys& a, const PairKeys& b) {
  return a.dht_seed == b.dht_seed || a.dht_key == b.dht_key || a.salt == b.salt || a.aead_key == b.aead_key;
}

// BEP 44 storage in memory, with the checks real nodes make: the signature over the canonical string
// and a seq that increases.
class FakeDht : public DhtPort {
 public:
  struct Stored {
    std::string value;
    std::int64_t seq;
  };
  void put_mutable(const crypto::PublicKey& key, std::string salt, std::string value, std::int64_t seq,
                   Signer sign, std::function<void(Status)> done) override {
    auto& slot = items[{key, salt}];
    seq = std::max(seq, slot.seq + 1);
    std::string canonical = "4:salt" + std::to_string(salt.size()) + ":" + salt + "3:seqi" +
                            std::to_string(seq) + "e1:v" + std::to_string(value.size()) + ":" + value;
    if (!crypto::verify(key, canonical, sign(canonical))) {
      done(fail(make_error_code(errc::dht_failed), "bad signature"));
      return;
    }
    slot = {std::move(value), seq};
    ++puts;
    done({});
  }
  void get_mutable(const crypto::PublicKey& key, std::string salt,
                   std::function<void(Result<std::optional<DhtItem>>)> done) override {
    ++gets;
    ++gets_for[key];
    if (silent) return;  // a DHT that never answers
    auto it = items.find({key, salt});
    if (it == items.end() || it->second.seq == 0) {
      done(std::optional<DhtItem>{});
      return;
    }
    done(std::optional<DhtItem>(DhtItem{it->second.value, it->second.seq}));
  }
  void announce(const InfoHash&, std::uint16_t) override {}
  void get_peers(const InfoHash&, std::function<void(Result<std::vector<std::string>>)> done) override {
    done(std::vector<std::string>{});
  }
  std::map<std::pair<crypto::PublicKey, std::string>, Stored> items;
  int puts = 0, gets = 0;
  bool silent = false;
  std::map<crypto::PublicKey, int> gets_for;
};

Result<Presence> lookup_sync(boost::asio::io_context& io, Rendezvous& r, const crypto::PublicKey& who) {
  std::optional<Result<Presence>> out;
  r.lookup(who, [&](Result<Presence> p) { out = std::move(p); });
  EXPECT_TRUE(run_until(io, [&] { return out.has_value(); }));
  return out.value_or(fail(make_error_code(errc::dht_failed), "timeout"));
}

}  // namespace

TEST(Record, RoundTrip) {
  auto p = key(), r = key();
  auto k = keys_for(p, r);
  Presence in{{"203.0.113.5:4000", "[2001:db8::1]:4000", "p.example.org:443"}, NOW};
  auto value = encode_record(k, in);
  ASSERT_TRUE(value) << value.error().message;
  EXPECT_EQ(static_cast<std::uint8_t>((*value)[0]), RECORD_VERSION);
  EXPECT_EQ(value->find("203.0.113.5"), std::string::npos);  // sealed, not readable
  // The reader derives the same keys from its side of the pair.
  auto k_reader = derive_pair_keys(crypto::pair_secret(r, p.public_key()).value(), p.public_key());
  auto out = decode_record(k_reader, *value, NOW + 1000, 2 * HOUR);
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_EQ(out->addrs, in.addrs);
  EXPECT_EQ(out->published_at, NOW);
  EXPECT_EQ(k.salt.size(), SALT_SIZE);
}

TEST(Record, Rejections) {
  auto p = key(), r = key(), s = key();
  auto k = keys_for(p, r);
  auto good = encode_record(k, {{"198.51.100.1:1"}, NOW}).value();
  auto code = [&](std::string_view v, std::int64_t now = NOW) {
    auto d = decode_record(k, v, now, 2 * HOUR);
    return d ? std::error_code() : d.error().code;
  };
  const auto BAD = make_error_code(errc::bad_record), STALE = make_error_code(errc::stale);
  EXPECT_EQ(code(good), std::error_code());
  auto v2 = good;
  v2[0] = 2;
  EXPECT_EQ(code(v2), BAD);                             // unknown version
  EXPECT_EQ(code(good.substr(0, 20)), BAD);             // too short
  EXPECT_EQ(code(good + std::string(1000, 'x')), BAD);  // over the BEP 44 limit
  EXPECT_EQ(code(""), BAD);
  for (std::size_t i = 1; i < good.size(); ++i) {
    auto t = good;
    t[i] = static_cast<char>(t[i] ^ 0x40);
    EXPECT_EQ(code(t), BAD) << "tampered byte " << i;
  }
  EXPECT_EQ(code(good, NOW + 3 * HOUR), STALE);                           // older than max age
  EXPECT_EQ(code(good, NOW - HOUR), STALE);                               // from the future
  EXPECT_EQ(code(good, NOW - MAX_CLOCK_SKEW_MS + 1), std::error_code());  // small skew is fine
  // Sealed for another reader, or the other direction of the pair: does not open.
  EXPECT_FALSE(decode_record(keys_for(p, s), good, NOW, 2 * HOUR));
  EXPECT_FALSE(decode_record(keys_for(r, p), good, NOW, 2 * HOUR));
  // Content: the seal is fine, the plaintext is not.
  auto sealed = [&](const std::string& plain) {
    std::string v(1, static_cast<char>(RECORD_VERSION));
    char ad = static_cast<char>(RECORD_VERSION);
    return v + crypto::seal(k.aead_key, plain, std::string_view(&ad, 1));
  };
  auto plain = encode_presence({{"198.51.100.1:1"}, NOW});
  EXPECT_EQ(code(sealed(plain)), std::error_code());
  EXPECT_EQ(code(sealed(plain + "x")), BAD);                        // trailing bytes
  EXPECT_EQ(code(sealed(plain.substr(0, plain.size() - 1))), BAD);  // truncated
  EXPECT_EQ(code(sealed(encode_presence({{"not an address"}, NOW}))), BAD);
  EXPECT_EQ(code(sealed(encode_presence({{"h:0"}, NOW}))), BAD);  // port 0
  EXPECT_EQ(code(sealed(encode_presence({std::vector<std::string>(9, "h:1"), NOW}))), BAD);
  EXPECT_EQ(code(sealed(encode_presence({{}, -5}))), BAD);  // no valid time
  auto zero_len = encode_presence({{}, NOW});
  zero_len[8] = 1;
  EXPECT_EQ(code(sealed(zero_len + std::string(1, '\0'))), BAD);
  EXPECT_EQ(code(sealed(encode_presence({{}, NOW}))), std::error_code());  // no addresses is valid
  // The writer refuses what a reader would refuse.
  EXPECT_FALSE(encode_record(k, {std::vector<std::string>(9, "h:1"), NOW}));
  EXPECT_FALSE(encode_record(k, {{"bad"}, NOW}));
  EXPECT_FALSE(encode_record(k, {std::vector<std::string>(8, std::string(200, 'a') + ":1"), NOW}));  // > 996
}

TEST(Record, KeysArePerDirectionAndNotDerivableFromPublicKeys) {
  auto p = key(), r = key(), r2 = key(), s = key();
  auto pr = keys_for(p, r), rp = keys_for(r, p), pr2 = keys_for(p, r2), sp = keys_for(s, p),
       ps = keys_for(p, s);
  EXPECT_FALSE(same(pr, rp));   // P→R and R→P differ in every part
  EXPECT_FALSE(same(pr, pr2));  // one person's records for two contacts cannot be linked
  EXPECT_FALSE(same(pr, sp));
  EXPECT_FALSE(same(pr, ps));
  // The DHT key is a pseudonym: not the publisher's or the reader's key.
  for (const auto& k : {p.public_key(), r.public_key()}) EXPECT_NE(pr.dht_key, k);
  // What anyone could compute from the two public keys alone lands elsewhere.
  crypto::SymmetricKey public_only = p.public_key();
  for (std::size_t i = 0; i < public_only.size(); ++i) public_only[i] ^= r.public_key()[i];
  EXPECT_FALSE(same(pr, derive_pair_keys(public_only, p.public_key())));
  EXPECT_FALSE(same(pr, derive_pair_keys(p.public_key(), p.public_key())));
  EXPECT_FALSE(same(pr, derive_pair_keys(r.public_key(), p.public_key())));
  // The pseudonym's signing key is what both ends derive.
  EXPECT_EQ(crypto::SigningKey::from_seed(pr.dht_seed).public_key(), pr.dht_key);
}

TEST(Rendezvous, ContactFindsAddressesStrangerDoesNot) {
  boost::asio::io_context io;
  FakeDht dht;
  auto p = key(), r = key(), s = key();
  std::int64_t clock = NOW;
  auto now = [&] { return clock; };
  Rendezvous rp(io, dht, p, {}, {}, now), rr(io, dht, r, {}, {}, now), rs(io, dht, s, {}, {}, now);
  rp.set_contacts({r.public_key()});
  rp.set_addresses({"203.0.113.5:4000"});
  rp.start();
  ASSERT_TRUE(run_until(io, [&] { return dht.puts == 1; }));
  EXPECT_EQ(dht.items.size(), 1u);
  EXPECT_EQ(dht.items.begin()->first.first, keys_for(p, r).dht_key);
  EXPECT_EQ(dht.items.begin()->second.seq, NOW);  // seq = published_at

  auto found = lookup_sync(io, rr, p.public_key());
  ASSERT_TRUE(found) << found.error().message;
  EXPECT_EQ(found->addrs, std::vector<std::string>{"203.0.113.5:4000"});
  auto stranger = lookup_sync(io, rs, p.public_key());
  ASSERT_FALSE(stranger);
  EXPECT_EQ(stranger.error().code, make_error_code(errc::not_found));
  // P publishes nothing for R's other direction either: R is not looked up by P's record.
  EXPECT_EQ(lookup_sync(io, rp, r.public_key()).error().code, make_error_code(errc::not_found));

  // New addresses are republished at once, with a higher seq.
  clock += 1000;
  rp.set_addresses({"203.0.113.6:4001", "[2001:db8::2]:4001"});
  ASSERT_TRUE(run_until(io, [&] { return dht.puts == 2; }));
  found = lookup_sync(io, rr, p.public_key());
  ASSERT_TRUE(found);
  EXPECT_EQ(found->addrs.size(), 2u);
  EXPECT_EQ(found->published_at, NOW + 1000);

  // Replay: someone stores the older record again (it carries P's pseudonym signature, so a real DHT
  // would only take it with a higher seq; the fake lets us force it). R refuses it.
  auto old = encode_record(keys_for(p, r), {{"203.0.113.5:4000"}, NOW}).value();
  dht.items.begin()->second = {old, NOW + 5000};
  auto replay = lookup_sync(io, rr, p.public_key());
  ASSERT_FALSE(replay);
  EXPECT_EQ(replay.error().code, make_error_code(errc::replayed));

  // A reader whose clock is far ahead finds the record stale.
  dht.items.begin()->second = {encode_record(keys_for(p, r), {{"h:1"}, NOW + 2000}).value(), NOW + 6000};
  clock += 3 * HOUR;
  auto stale = lookup_sync(io, rr, p.public_key());
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().code, make_error_code(errc::stale));
}

TEST(Rendezvous, PeriodicLookupReportsContactsAndBacksOff) {
  boost::asio::io_context io;
  FakeDht dht;
  auto p = key(), r = key(), q = key();
  Options fast;
  fast.tick = std::chrono::milliseconds(10);
  fast.lookup_interval = std::chrono::milliseconds(50);
  fast.max_lookup_interval = std::chrono::milliseconds(200);
  fast.republish_interval = std::chrono::milliseconds(100);
  std::vector<std::pair<crypto::PublicKey, Presence>> seen;
  Rendezvous rp(io, dht, p, fast);
  Rendezvous rr(io, dht, r, fast,
                [&](const crypto::PublicKey& who, const Presence& pr) { seen.emplace_back(who, pr); });
  rr.set_contacts({p.public_key(), q.public_key()});  // q never publishes
  rr.start();
  rp.set_contacts({r.public_key()});
  rp.set_addresses({"192.0.2.7:5000"});
  rp.start();
  ASSERT_TRUE(run_until(io, [&] { return !seen.empty(); }));
  EXPECT_EQ(seen[0].first, p.public_key());
  EXPECT_EQ(seen[0].second.addrs, std::vector<std::string>{"192.0.2.7:5000"});
  // Republishing (every 100 ms here) keeps the seq rising; R reports each newer record once.
  auto puts = dht.puts;
  ASSERT_TRUE(run_until(io, [&] { return dht.puts >= puts + 2 && seen.size() >= 2; }));
  EXPECT_GT(seen.back().second.published_at, seen.front().second.published_at);
  // q is looked up with backoff (50, 100, 200, 200 ms...): far fewer lookups than ticks (10 ms).
  auto q_key = keys_for(q, r).dht_key, p_key = keys_for(p, r).dht_key;
  int gets_before = dht.gets_for[q_key];
  idle(io, std::chrono::milliseconds(600));
  EXPECT_LE(dht.gets_for[q_key] - gets_before, 5);
  EXPECT_GE(dht.gets_for[q_key] - gets_before, 2);
  // Marked online: no more periodic lookups for p.
  rr.set_online(p.public_key(), true);
  idle(io, std::chrono::milliseconds(50));
  gets_before = dht.gets_for[p_key];
  idle(io, std::chrono::milliseconds(300));
  EXPECT_EQ(dht.gets_for[p_key], gets_before);
  rr.stop();
  rp.stop();
  auto stats = rp.stats();
  EXPECT_GT(stats.puts_ok, 2);
  EXPECT_EQ(stats.puts_failed, 0);
}

TEST(Rendezvous, LookupsThatNeverAnswerTimeOut) {
  boost::asio::io_context io;
  FakeDht dht;
  dht.silent = true;
  auto p = key(), r = key();
  Options fast;
  fast.tick = std::chrono::milliseconds(10);
  fast.lookup_interval = std::chrono::milliseconds(20);
  fast.max_lookup_interval = std::chrono::milliseconds(20);
  fast.lookup_timeout = std::chrono::milliseconds(100);
  Rendezvous rr(io, dht, r, fast);
  rr.set_contacts({p.public_key()});
  rr.start();
  idle(io, std::chrono::milliseconds(500));
  // Without the timeout the first unanswered lookup would be the only one.
  EXPECT_GE(dht.gets, 3);
  EXPECT_LE(dht.gets, 6);
}
