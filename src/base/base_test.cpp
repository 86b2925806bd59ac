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
