#include <gtest/gtest.h>

#include "safety/block_entry.hpp"
#include "safety/errors.hpp"
#include "safety/ip_filter.hpp"

using namespace kith;
using safety::IpFilterFormat;
using safety::IpRange;

TEST(IpFilter, PeerGuardianText) {
  auto list = safety::parse_ip_filter(
      "# a comment\r\n"
      "\r\n"
      "Some Org:1.2.3.0-1.2.3.255\r\n"
      "Name: with colons:10.0.0.1 - 10.0.0.9\n"
      "  spaced  :  192.168.000.001-192.168.0.010  \n",
      IpFilterFormat::p2p);
  EXPECT_EQ(list.bad_lines, 0) << list.first_error;
  EXPECT_EQ(list.lines, 5);
  ASSERT_EQ(list.ranges.size(), 3u);
  EXPECT_EQ(list.ranges[0], (IpRange{"1.2.3.0", "1.2.3.255"}));
  EXPECT_EQ(list.ranges[1], (IpRange{"10.0.0.1", "10.0.0.9"}));
  EXPECT_EQ(list.ranges[2], (IpRange{"192.168.0.1", "192.168.0.10"}));  // leading zeros are decimal
}

TEST(IpFilter, EmuleDatLevelsAndLeadingZeros) {
  auto list = safety::parse_ip_filter(
      "\xEF\xBB\xBF// eMule filter\n"
      "001.002.003.004 - 001.002.003.255 , 000 , Bad people\n"
      "010.000.000.000 - 010.255.255.255 , 127 , still blocked\n"
      "011.000.000.000 - 011.255.255.255 , 128 , allowed\n"
      "012.000.000.000 - 012.000.000.255\n"
      "2001:db8:: - 2001:db8::ffff , 50 , ipv6\n",
      IpFilterFormat::emule_dat);
  EXPECT_EQ(list.bad_lines, 0) << list.first_error;
  EXPECT_EQ(list.allowed, 1);
  ASSERT_EQ(list.ranges.size(), 4u);
  EXPECT_EQ(list.ranges[0], (IpRange{"1.2.3.4", "1.2.3.255"}));
  EXPECT_EQ(list.ranges[1], (IpRange{"10.0.0.0", "10.255.255.255"}));
  EXPECT_EQ(list.ranges[2], (IpRange{"12.0.0.0", "12.0.0.255"}));
  EXPECT_EQ(list.ranges[3], (IpRange{"2001:db8::", "2001:db8::ffff"}));
}

TEST(IpFilter, BadLinesAreCountedAndTheRestLoads) {
  std::string text = "ok:1.1.1.1-1.1.1.2\n";
  for (int i = 0; i < 7; ++i) text += "garbage line\n";
  text += "backwards:9.9.9.9-9.9.9.1\n";
  text += "mixed:1.2.3.4-::1\n";
  text += "too big:256.1.1.1-256.1.1.2\n";
  text += "ok2:2.2.2.2-2.2.2.2\n";
  auto list = safety::parse_ip_filter(text, IpFilterFormat::p2p);
  EXPECT_EQ(list.ranges.size(), 2u);
  EXPECT_EQ(list.bad_lines, 10);
  EXPECT_EQ(list.bad_line_numbers, (std::vector<int>{2, 3, 4, 5, 6}));
  EXPECT_EQ(list.first_error, "line 2: no ':' before the range (expected description:first-last)");
}

TEST(IpFilter, EmuleBadLevel) {
  auto list = safety::parse_ip_filter("1.1.1.1 - 1.1.1.2 , x12 , y\n", IpFilterFormat::emule_dat);
  EXPECT_EQ(list.bad_lines, 1);
  EXPECT_TRUE(list.ranges.empty());
}

TEST(IpFilter, DetectFormat) {
  EXPECT_EQ(safety::detect_ip_filter_format("x/ipfilter.DAT", "a:1.1.1.1-1.1.1.1"),
            IpFilterFormat::emule_dat);
  EXPECT_EQ(safety::detect_ip_filter_format("level1.p2p", "1.1.1.1 - 1.1.1.1 , 0"), IpFilterFormat::p2p);
  EXPECT_EQ(safety::detect_ip_filter_format("list.txt", "# c\n1.1.1.1 - 1.1.1.1 , 0 , x"),
            IpFilterFormat::emule_dat);
  EXPECT_EQ(safety::detect_ip_filter_format("list.txt", "# c\nname:1.1.1.1-1.1.1.1"), IpFilterFormat::p2p);
}

TEST(IpFilter, AddressParsing) {
  safety::IpAddress a;
  EXPECT_TRUE(safety::parse_ip_address("000.000.000.000", a));
  EXPECT_FALSE(safety::parse_ip_address("1.2.3", a));
  EXPECT_FALSE(safety::parse_ip_address("1.2.3.4.5", a));
  EXPECT_FALSE(safety::parse_ip_address("1.2.3.0004", a));
  EXPECT_FALSE(safety::parse_ip_address("1.2.3.-4", a));
  EXPECT_FALSE(safety::parse_ip_address("", a));
  EXPECT_FALSE(safety::parse_ip_address("::g", a));
  EXPECT_TRUE(safety::parse_ip_address("::ffff:1.2.3.4", a));
  EXPECT_TRUE(a.v6);
}

TEST(BlockEntry, InfoHashes) {
  auto v1 = safety::normalise_block_value(safety::BlockKind::info_hash, std::string(40, 'A'));
  ASSERT_TRUE(v1);
  EXPECT_EQ(*v1, std::string(40, 'a'));
  EXPECT_TRUE(safety::normalise_block_value(safety::BlockKind::info_hash, std::string(64, 'f')));
  auto bad = safety::normalise_block_value(safety::BlockKind::info_hash, std::string(41, 'a'));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, safety::make_error_code(safety::errc::bad_list));
  EXPECT_FALSE(safety::normalise_block_value(safety::BlockKind::info_hash, std::string(40, 'g')));
}

TEST(BlockEntry, PeerIds) {
  using safety::BlockKind;
  auto whole = safety::normalise_block_value(BlockKind::peer_id, "2D4B49303130302D" + std::string(24, '0'));
  ASSERT_TRUE(whole);
  auto pattern = safety::peer_id_pattern(*whole);
  EXPECT_FALSE(pattern.prefix);
  EXPECT_EQ(pattern.bytes.size(), 20u);
  EXPECT_EQ(pattern.bytes.substr(0, 8), "-KI0100-");
  auto prefix = safety::normalise_block_value(BlockKind::peer_id, "-XL0012-");
  ASSERT_TRUE(prefix);
  EXPECT_EQ(*prefix, "-XL0012-");
  EXPECT_TRUE(safety::peer_id_pattern(*prefix).prefix);
  EXPECT_FALSE(safety::normalise_block_value(BlockKind::peer_id, ""));
  EXPECT_FALSE(safety::normalise_block_value(BlockKind::peer_id, "has space"));
  EXPECT_FALSE(safety::normalise_block_value(BlockKind::peer_id, std::string(21, 'x')));
  safety::BlockKind k;
  EXPECT_TRUE(safety::parse_kind("peer_id", k));
  EXPECT_EQ(k, BlockKind::peer_id);
  EXPECT_FALSE(safety::parse_kind("ip", k));
}
