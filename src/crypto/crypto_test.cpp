#include <gtest/gtest.h>

#include <fstream>

#include "crypto/hash.hpp"
#include "crypto/transfer_certs.hpp"

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

#include "crypto/sign.hpp"

TEST(Sign, KeyFileSignVerify) {
  auto dir = std::filesystem::temp_directory_path() / "kith-crypto-keys";
  std::filesystem::remove_all(dir);
  auto k1 = SigningKey::load_or_create(dir / "user.key");
  ASSERT_TRUE(k1) << k1.error().message;
  EXPECT_EQ(std::filesystem::status(dir / "user.key").permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  auto k2 = SigningKey::load_or_create(dir / "user.key");
  ASSERT_TRUE(k2);
  EXPECT_EQ(k1->public_key(), k2->public_key());  // the same key comes back
  auto sig = k1->sign("hello");
  EXPECT_TRUE(verify(k2->public_key(), "hello", sig));
  EXPECT_FALSE(verify(k2->public_key(), "hellO", sig));
  sig[0] ^= 1;
  EXPECT_FALSE(verify(k2->public_key(), "hello", sig));
  auto other = SigningKey::generate();
  ASSERT_TRUE(other);
  EXPECT_NE(other->public_key(), k1->public_key());
  std::ofstream(dir / "bad.key") << "garbage";
  EXPECT_FALSE(SigningKey::load_or_create(dir / "bad.key"));
  std::filesystem::remove_all(dir);
}

TEST(TransferCerts, LeavesChainToTheirRootOnly) {
  auto a = kith::crypto::make_transfer_certs();
  auto b = kith::crypto::make_transfer_certs();
  ASSERT_TRUE(a && b);
  EXPECT_NE(a->root_cert.find("BEGIN CERTIFICATE"), std::string::npos);
  EXPECT_NE(a->sender_key.find("PRIVATE KEY"), std::string::npos);
  EXPECT_TRUE(kith::crypto::cert_signed_by(a->sender_cert, a->root_cert));
  EXPECT_TRUE(kith::crypto::cert_signed_by(a->recipient_cert, a->root_cert));
  // Another transfer's leaf does not open this one.
  EXPECT_FALSE(kith::crypto::cert_signed_by(b->recipient_cert, a->root_cert));
  EXPECT_FALSE(kith::crypto::cert_signed_by("not a certificate", a->root_cert));
  EXPECT_NE(a->sender_cert, a->recipient_cert);
}
