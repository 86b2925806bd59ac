// Local Discovery Protocol v4 announces (bep/announce.hpp).
#include "bep/announce.hpp"

#include <gtest/gtest.h>

#include "bep/bep.pb.h"
#include "bep/bytes.hpp"

using namespace kith::bep;

namespace {

DeviceId some_id(std::uint8_t fill) {
  DeviceId id;
  id.bytes.fill(fill);
  return id;
}

std::string with_magic(const pb::Announce& msg) {
  std::string out;
  put_be32(out, ANNOUNCE_MAGIC);
  return out + msg.SerializeAsString();
}

}  // namespace

TEST(Announce, RoundTrip) {
  Announce a{some_id(7), {"tcp://:22000", "tcp://192.0.2.7:22001"}, -42};
  const std::string bytes = encode_announce(a);
  EXPECT_EQ(get_be32(bytes.data()), 0x2EA7D90Bu);
  auto back = decode_announce(bytes);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->id, a.id);
  EXPECT_EQ(back->addresses, a.addresses);
  EXPECT_EQ(back->instance_id, -42);
}

TEST(Announce, WireLayoutIsSyncthings) {
  // Field 1 bytes, field 2 string, field 3 varint: what Syncthing's local.proto says.
  const std::string bytes = encode_announce(Announce{some_id(1), {"tcp://:1"}, 5});
  const std::string expected = std::string("\x2E\xA7\xD9\x0B", 4) + "\x0A\x20" + std::string(32, '\x01') +
                               "\x12\x08" + "tcp://:1" + "\x18\x05";
  EXPECT_EQ(bytes, expected);
}

TEST(Announce, RefusesWhatIsNotOne) {
  EXPECT_FALSE(decode_announce(""));
  EXPECT_FALSE(decode_announce("\x2E\xA7\xD9"));
  auto old = decode_announce(std::string("\x7D\x79\xBC\x40", 4) + "junk");
  ASSERT_FALSE(old);
  EXPECT_NE(old.error().message.find("v0.13"), std::string::npos);
  EXPECT_FALSE(decode_announce(std::string("\x12\x34\x56\x78", 4)));
  EXPECT_FALSE(decode_announce(std::string("\x2E\xA7\xD9\x0B", 4) + "\xFF\xFF\xFF"));  // not protobuf
  pb::Announce short_id;
  short_id.set_id(std::string(31, 'x'));
  EXPECT_FALSE(decode_announce(with_magic(short_id)));
  pb::Announce no_id;  // an empty ID is not the all-zero device
  EXPECT_FALSE(decode_announce(with_magic(no_id)));
  std::string big = encode_announce(Announce{some_id(2), {}, 1});
  big.resize(MAX_ANNOUNCE + 1, '\0');
  EXPECT_FALSE(decode_announce(big));
}

TEST(Announce, AddressLimits) {
  pb::Announce many;
  many.set_id(std::string(32, 'a'));
  for (std::size_t i = 0; i <= MAX_ANNOUNCE_ADDRESSES; ++i) many.add_addresses("tcp://:1");
  EXPECT_FALSE(decode_announce(with_magic(many)));
  pb::Announce long_one;
  long_one.set_id(std::string(32, 'a'));
  long_one.add_addresses("tcp://" + std::string(MAX_ANNOUNCE_ADDRESS, 'x'));
  EXPECT_FALSE(decode_announce(with_magic(long_one)));
  EXPECT_THROW(
      encode_announce(Announce{some_id(3), std::vector<std::string>(MAX_ANNOUNCE_ADDRESSES + 1, "x"), 0}),
      std::length_error);
}

TEST(Announce, EmptyOrUnspecifiedHostIsTheSource) {
  EXPECT_EQ(resolve_announced("tcp://:22000", "198.18.0.11"), "tcp://198.18.0.11:22000");
  EXPECT_EQ(resolve_announced("tcp://0.0.0.0:22000", "198.18.0.11"), "tcp://198.18.0.11:22000");
  EXPECT_EQ(resolve_announced("tcp://[::]:22000", "fe80::1%eth0"), "tcp://[fe80::1%eth0]:22000");
  EXPECT_EQ(resolve_announced("tcp4://:22000", "fe80::1%eth0"), std::nullopt);
  EXPECT_EQ(resolve_announced("tcp6://:22000", "198.18.0.11"), std::nullopt);
  EXPECT_EQ(resolve_announced("tcp6://:22000", "2001:db8::5"), "tcp://[2001:db8::5]:22000");
  EXPECT_EQ(resolve_announced("tcp://192.0.2.9:22001", "198.18.0.11"), "tcp://192.0.2.9:22001");
  EXPECT_EQ(resolve_announced("tcp://[2001:db8::9]:22001/", "198.18.0.11"), "tcp://[2001:db8::9]:22001");
}

TEST(Announce, WhatKithCannotDialIsDropped) {
  EXPECT_EQ(resolve_announced("quic://:22000", "198.18.0.11"), std::nullopt);
  EXPECT_EQ(resolve_announced("relay://192.0.2.1:22067/?id=X", "198.18.0.11"), std::nullopt);
  EXPECT_EQ(resolve_announced("tcp://example.org:22000", "198.18.0.11"), std::nullopt);  // no names
  EXPECT_EQ(resolve_announced("tcp://:0", "198.18.0.11"), std::nullopt);
  EXPECT_EQ(resolve_announced("tcp://:65536", "198.18.0.11"), std::nullopt);
  EXPECT_EQ(resolve_announced("tcp://:22000", "not an ip"), std::nullopt);
  EXPECT_EQ(resolve_announced("tcp://:22000", "fe80::1%eth0;rm"), std::nullopt);
  EXPECT_EQ(resolve_announced("tcp://22000", "198.18.0.11"), std::nullopt);
}

TEST(Announce, WhatSyncthing1192Sent) {
  // Captured in a netlab namespace: Syncthing 1.19.2 with BEP on tcp://0.0.0.0:22000, its IPv4
  // broadcast (fuzz/corpus/bep_announce/syncthing-1.19.2-ipv4.bin).
  const std::string hex =
      "2ea7d90b0a20ee8f4dcae32f8d36b00c989042a42279b66ee9af53a4cb7190661ccebfd2ee3612137463703a2f2f302e30"
      "2e302e303a3232303030120f7463703a2f2f302e302e302e303a301897ac8dd9d8c2ae951d";
  std::string bytes;
  for (std::size_t i = 0; i < hex.size(); i += 2)
    bytes += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  auto a = decode_announce(bytes);
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(to_string(a->id).substr(0, 7), "52HU3SX");
  EXPECT_EQ(a->addresses, (std::vector<std::string>{"tcp://0.0.0.0:22000", "tcp://0.0.0.0:0"}));
  EXPECT_EQ(resolve_announced(a->addresses[0], "198.18.0.12"), "tcp://198.18.0.12:22000");
  EXPECT_EQ(resolve_announced(a->addresses[1], "198.18.0.12"), std::nullopt);  // no port: nothing to dial
}
