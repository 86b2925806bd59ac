#include <gtest/gtest.h>

#include <fstream>

#include "crypto/hash.hpp"

using namespace kith::crypto;

TEST(Hash, Sha256KnownAnswers) {
  // FIPS 180-2 test vector "abc".
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  auto path = std::filesystem::temp_directory_path() / "kith-crypto-test.txt";
  std::ofstream(path, std::ios::binary) << "abc";
  auto h = sha256_file(path);
  ASSERT_TRUE(h);
  EXPECT_EQ(*h, sha256_hex("abc"));
  std::filesystem::remove(path);
  EXPECT_FALSE(sha256_file("/nonexistent/kith"));
}
