#include "base/endpoint.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace kith;
using base::HostKind;
using base::PortRule;

TEST(HostPort, ParsesIpv4Ipv6AndNames) {
  auto v4 = base::parse_host_port("192.168.1.20:6881");
  ASSERT_TRUE(v4) << v4.error().message;
  EXPECT_EQ(v4->host, "192.168.1.20");
  EXPECT_EQ(v4->port, 6881);
  EXPECT_EQ(v4->kind, HostKind::ipv4);

  auto v6 = base::parse_host_port("[2001:db8::1]:65535");
  ASSERT_TRUE(v6) << v6.error().message;
  EXPECT_EQ(v6->host, "2001:db8::1");
  EXPECT_EQ(v6->port, 65535);
  EXPECT_EQ(v6->kind, HostKind::ipv6);

  auto mapped = base::parse_host_port("[::ffff:10.0.0.1]:1");
  ASSERT_TRUE(mapped) << mapped.error().message;
  EXPECT_EQ(mapped->host, "::ffff:10.0.0.1");

  auto zoned = base::parse_host_port("[fe80::1%enp0s31f6]:4000");
  ASSERT_TRUE(zoned) << zoned.error().message;
  EXPECT_EQ(zoned->host, "fe80::1%enp0s31f6");
  EXPECT_EQ(zoned->to_string(), "[fe80::1%enp0s31f6]:4000");

  auto name = base::parse_host_port("node-1.example.org:443");
  ASSERT_TRUE(name) << name.error().message;
  EXPECT_EQ(name->host, "node-1.example.org");
  EXPECT_EQ(name->kind, HostKind::name);
}

TEST(HostPort, PortZeroOnlyWhenAllowed) {
  auto dial = base::parse_host_port("127.0.0.1:0");
  ASSERT_FALSE(dial);
  EXPECT_EQ(dial.error().code, base::make_error_code(base::errc::bad_input));
  EXPECT_NE(dial.error().message.find("port 0"), std::string::npos) << dial.error().message;
  auto listen = base::parse_host_port("[::]:0", PortRule::allow_zero);
  ASSERT_TRUE(listen) << listen.error().message;
  EXPECT_EQ(listen->host, "::");
  EXPECT_EQ(listen->port, 0);
  EXPECT_TRUE(base::parse_host_port("0.0.0.0:00000", PortRule::allow_zero));
}

TEST(HostPort, RejectsMalformedWithAReason) {
  struct Case {
    const char* text;
    const char* reason;
  };
  const Case cases[] = {
      {"", "empty"},
      {"127.0.0.1", "no ':PORT'"},
      {"127.0.0.1:", "port after ':' is missing"},
      {":80", "host before ':' is missing"},
      {"::1:80", "must be in brackets"},
      {"2001:db8::1:80", "must be in brackets"},
      {"[::1]", "no ':PORT'"},
      {"[::1]80", "no ':PORT'"},
      {"[::1:80", "without a matching ']'"},
      {"[]:80", "not an IPv6 address"},
      {"[not-v6]:80", "not an IPv6 address"},
      {"[1.2.3.4]:80", "not an IPv6 address"},
      {"[fe80::1%]:80", "not a network interface name"},
      {"[fe80::1%a/b]:80", "not a network interface name"},
      {"[fe80::1%abcdefghijklmnop]:80", "not a network interface name"},
      {"[fe80::1%eth0%x]:80", "not a network interface name"},
      {"256.1.1.1:80", "not an IPv4 address"},
      {"1.2.3:80", "not an IPv4 address"},
      {"1.2.3.4.5:80", "not an IPv4 address"},
      {"host name:80", "character other than"},
      {"ho\x1b[2Jst:80", "character other than"},
      {"host:65536", "not a number from 0 to 65535"},
      {"host:123456", "not a number from 0 to 65535"},
      {"host:-1", "not a number from 0 to 65535"},
      {"host:+80", "not a number from 0 to 65535"},
      {"host:80 ", "not a number from 0 to 65535"},
      {"host:0x50", "not a number from 0 to 65535"},
  };
  for (const auto& c : cases) {
    auto r = base::parse_host_port(c.text, PortRule::allow_zero);
    ASSERT_FALSE(r) << "accepted '" << c.text << "'";
    EXPECT_NE(r.error().message.find(c.reason), std::string::npos) << c.text << ": " << r.error().message;
    // The message never repeats the text: it may come from a peer.
    if (std::string_view(c.text).size() > 3) {
      EXPECT_EQ(r.error().message.find(c.text), std::string::npos) << r.error().message;
    }
  }
  // 253 characters in labels of at most 63 (a single label that long is refused: NamesHaveDnsLabels).
  const std::string label(63, 'a');
  const std::string longest = label + "." + label + "." + label + "." + std::string(61, 'b');
  ASSERT_EQ(longest.size(), 253u);
  EXPECT_TRUE(base::parse_host_port(longest + ":1"));
  auto too_long = base::parse_host_port(longest + "b:1");
  ASSERT_FALSE(too_long);
  EXPECT_NE(too_long.error().message.find("longer than 253"), std::string::npos) << too_long.error().message;
  EXPECT_FALSE(base::parse_host_port(std::string_view("a\0b:1", 5)));
}

TEST(HostPort, FormatsBackToParseableText) {
  for (const char* text : {"10.0.0.1:1", "[fe80::1]:6881", "example.org:80"}) {
    auto r = base::parse_host_port(text);
    ASSERT_TRUE(r) << text;
    EXPECT_EQ(r->to_string(), text);
  }
  EXPECT_EQ(base::join_host_port("::1", 7737), "[::1]:7737");
  EXPECT_EQ(base::join_host_port("127.0.0.1", 0), "127.0.0.1:0");
}

// From the settings check (app/settings.cpp): listen addresses are IP literals, never names.
TEST(HostPort, IpPortTakesLiteralsOnly) {
  auto v4 = base::parse_ip_port("127.0.0.1:7737");
  ASSERT_TRUE(v4) << v4.error().message;
  EXPECT_EQ(v4->host, "127.0.0.1");
  EXPECT_EQ(v4->port, 7737);
  EXPECT_EQ(v4->kind, HostKind::ipv4);
  auto v6 = base::parse_ip_port("[::]:0", PortRule::allow_zero);
  ASSERT_TRUE(v6) << v6.error().message;
  EXPECT_EQ(v6->host, "::");
  EXPECT_EQ(v6->kind, HostKind::ipv6);
  EXPECT_EQ(v6->to_string(), "[::]:0");
  for (const char* bad :
       {"garbage", "", ":80", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:8x", "127.0.0.1:-1",
        "localhost:80", "eth0:6881", "::1:80", "[::1]", "[nope]:80", "1.2.3:80", "127.0.0.1:+80",
        "127.0.0.1:123456", " 127.0.0.1:80", "[fe80::1%eth0]:6881"}) {
    auto r = base::parse_ip_port(bad, PortRule::allow_zero);
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_EQ(r.error().code, base::make_error_code(base::errc::bad_input));
    }
  }
  EXPECT_FALSE(base::parse_ip_port("127.0.0.1:0")) << "port 0 only where it means 'any free port'";
}

TEST(HostPort, NamesHaveDnsLabels) {
  auto name = base::parse_host_port("dht.libtorrent.org:25401");
  ASSERT_TRUE(name) << name.error().message;
  EXPECT_EQ(name->host, "dht.libtorrent.org");
  EXPECT_EQ(name->port, 25401);
  for (const char* bad : {"router.bittorrent.com", "a b:1", "a..b:1", ".a:1", "host:0", "x_y:1", "h:70000"}) {
    EXPECT_FALSE(base::parse_host_port(bad)) << bad;
  }
  EXPECT_FALSE(base::parse_host_port(std::string(64, 'a') + ".org:1")) << "a label has at most 63 characters";
  EXPECT_TRUE(base::parse_host_port(std::string(63, 'a') + ".org:1"));
}

TEST(HostPort, ListsAreTrimmedAndEmptyItemsDropped) {
  EXPECT_EQ(base::split_list(" a:1 ,\tb:2,, "), (std::vector<std::string>{"a:1", "b:2"}));
  EXPECT_TRUE(base::split_list("").empty());
  EXPECT_TRUE(base::split_list(" , ").empty());
}
