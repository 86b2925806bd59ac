#include <gtest/gtest.h>

#include <filesystem>
#include <vector>

#include "base/error.hpp"
#include "base/fs.hpp"
#include "base/hex.hpp"

using namespace kith;

TEST(Hex, RoundTrip) {
  std::string bytes("\x00\x01\xab\xff", 4);
  EXPECT_EQ(base::to_hex(bytes), "0001abff");
  EXPECT_EQ(base::from_hex("0001ABff"), bytes);
}

TEST(Hex, RejectsOddLengthAndBadDigits) {
  EXPECT_FALSE(base::from_hex("abc"));
  EXPECT_FALSE(base::from_hex("zz"));
}

TEST(Fs, AtomicWriteReplacesAndReads) {
  auto dir = std::filesystem::temp_directory_path() / ("kith_base_test_" + std::to_string(::getpid()));
  ASSERT_TRUE(base::ensure_dir(dir));
  auto file = dir / "x.bin";
  ASSERT_TRUE(base::atomic_write_file(file, "first"));
  ASSERT_TRUE(base::atomic_write_file(file, "second", 0600));
  auto data = base::read_file(file);
  ASSERT_TRUE(data);
  EXPECT_EQ(*data, "second");
  EXPECT_EQ(std::filesystem::status(file).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  // No temporary files are left beside it.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), {}), 1);
  std::filesystem::remove_all(dir);
}

TEST(Fs, ReadMissingIsNotFound) {
  auto r = base::read_file("/nonexistent/kith/file");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, base::make_error_code(base::errc::not_found));
  EXPECT_EQ(r.error().code_name(), "base.not_found");
}

TEST(Fs, ReadRefusesOversizedFile) {
  auto file = std::filesystem::temp_directory_path() / ("kith_big_" + std::to_string(::getpid()));
  ASSERT_TRUE(base::atomic_write_file(file, std::string(100, 'x')));
  auto r = base::read_file(file, 10);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, base::make_error_code(base::errc::bad_input));
  std::filesystem::remove(file);
}

#include "base/base64.hpp"

TEST(Base64, RoundTripsAllLengths) {
  EXPECT_EQ(base::base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base::base64_encode("fo"), "Zm8=");
  for (std::string s : std::vector<std::string>{"", "f", "fo", "foo", "foob", "fooba", "foobar",
                                                std::string("\0\xff\x10", 3)}) {
    EXPECT_EQ(base::base64_decode(base::base64_encode(s)), s);
  }
}

TEST(Base64, RejectsBadInput) {
  EXPECT_FALSE(base::base64_decode("Zm9"));
  EXPECT_FALSE(base::base64_decode("Zm9*"));
  EXPECT_FALSE(base::base64_decode("Z=9v"));
}

#include "base/endpoint.hpp"

TEST(Endpoint, IpPortTakesLiteralsOnly) {
  auto v4 = base::parse_ip_port("127.0.0.1:7737");
  ASSERT_TRUE(v4) << v4.error().message;
  EXPECT_EQ(v4->host, "127.0.0.1");
  EXPECT_EQ(v4->port, 7737);
  EXPECT_FALSE(v4->ipv6);
  auto v6 = base::parse_ip_port("[::]:0", {.allow_zero = true});
  ASSERT_TRUE(v6) << v6.error().message;
  EXPECT_EQ(v6->host, "::");
  EXPECT_TRUE(v6->ipv6);
  EXPECT_EQ(v6->text(), "[::]:0");
  for (const char* bad : {"garbage", "", ":80", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:8x",
                          "127.0.0.1:-1", "localhost:80", "eth0:6881", "::1:80", "[::1]", "[nope]:80",
                          "1.2.3:80", "127.0.0.1:+80", "127.0.0.1:123456", " 127.0.0.1:80"}) {
    auto r = base::parse_ip_port(bad, {.allow_zero = true});
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_EQ(r.error().code, base::make_error_code(base::errc::bad_input));
    }
  }
  EXPECT_FALSE(base::parse_ip_port("127.0.0.1:0")) << "port 0 only where it means 'any free port'";
}

TEST(Endpoint, HostPortTakesNamesToo) {
  auto name = base::parse_host_port("dht.libtorrent.org:25401");
  ASSERT_TRUE(name) << name.error().message;
  EXPECT_EQ(name->host, "dht.libtorrent.org");
  EXPECT_EQ(name->port, 25401);
  EXPECT_TRUE(base::parse_host_port("[2001:db8::1]:6881"));
  EXPECT_TRUE(base::parse_host_port("10.0.0.1:6881"));
  for (const char* bad : {"router.bittorrent.com", "a b:1", "a..b:1", ".a:1", "host:0", "x_y:1", "h:70000"}) {
    EXPECT_FALSE(base::parse_host_port(bad)) << bad;
  }
  EXPECT_FALSE(base::parse_host_port(std::string(64, 'a') + ".org:1")) << "a label has at most 63 characters";
}

TEST(Endpoint, ListsAreTrimmedAndEmptyItemsDropped) {
  EXPECT_EQ(base::split_list(" a:1 ,\tb:2,, "), (std::vector<std::string>{"a:1", "b:2"}));
  EXPECT_TRUE(base::split_list("").empty());
  EXPECT_TRUE(base::split_list(" , ").empty());
}
