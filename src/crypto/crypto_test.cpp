#include <gtest/gtest.h>
#include <openssl/x509.h>

#include <fstream>

#include "crypto/bep_tls.hpp"
#include "crypto/hash.hpp"
#include "crypto/transfer_certs.hpp"

using namespace kith::crypto;

TEST(Hash, Sha256KnownAnswers) {
  // FIPS 180-2 test vector "abc".
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const Sha256 raw = sha256("abc");
  EXPECT_EQ(raw[0], 0xba);
  EXPECT_EQ(raw[31], 0xad);
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

#include "crypto/box.hpp"

TEST(Box, PairSecretIsSharedByTheTwoAndNobodyElse) {
  auto a = SigningKey::generate(), b = SigningKey::generate(), c = SigningKey::generate();
  ASSERT_TRUE(a && b && c);
  auto ab = pair_secret(*a, b->public_key());
  auto ba = pair_secret(*b, a->public_key());
  auto ac = pair_secret(*a, c->public_key());
  auto cb = pair_secret(*c, b->public_key());
  ASSERT_TRUE(ab && ba && ac && cb);
  EXPECT_EQ(*ab, *ba);
  EXPECT_NE(*ab, *ac);
  EXPECT_NE(*ab, *cb);
  // A low-order point (the identity, encoded as 1) and a non-point are refused.
  PublicKey identity{};
  identity[0] = 1;
  EXPECT_FALSE(pair_secret(*a, identity));
  PublicKey all_ff;
  all_ff.fill(0xff);
  EXPECT_FALSE(pair_secret(*a, all_ff));
}

TEST(Box, FromSeedIsDeterministic) {
  SymmetricKey seed{};
  seed[3] = 7;
  auto k1 = SigningKey::from_seed(seed), k2 = SigningKey::from_seed(seed);
  EXPECT_EQ(k1.public_key(), k2.public_key());
  EXPECT_TRUE(verify(k2.public_key(), "m", k1.sign("m")));
  seed[3] = 8;
  EXPECT_NE(SigningKey::from_seed(seed).public_key(), k1.public_key());
}

TEST(Box, DeriveSealOpen) {
  SymmetricKey secret{};
  secret[0] = 1;
  auto k1 = derive_key(secret, "one"), k2 = derive_key(secret, "two");
  EXPECT_NE(k1, k2);
  EXPECT_EQ(k1, derive_key(secret, "one"));
  auto sealed = seal(k1, "hello", "ad");
  EXPECT_EQ(sealed.size(), 5 + SEAL_OVERHEAD);
  EXPECT_NE(sealed, seal(k1, "hello", "ad"));  // fresh nonce each time
  auto opened = open(k1, sealed, "ad");
  ASSERT_TRUE(opened) << opened.error().message;
  EXPECT_EQ(*opened, "hello");
  EXPECT_FALSE(open(k2, sealed, "ad"));  // wrong key
  EXPECT_FALSE(open(k1, sealed, "xx"));  // wrong associated data
  for (std::size_t i = 0; i < sealed.size(); ++i) {
    auto t = sealed;
    t[i] = static_cast<char>(t[i] ^ 0x01);
    EXPECT_FALSE(open(k1, t, "ad")) << "byte " << i;
  }
  EXPECT_FALSE(open(k1, sealed.substr(0, SEAL_OVERHEAD - 1), "ad"));
  auto empty = open(k1, seal(k1, ""), "");
  ASSERT_TRUE(empty);
  EXPECT_EQ(*empty, "");
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

TEST(TransferCerts, IsOneCertificate) {
  auto certs = kith::crypto::make_transfer_certs();
  ASSERT_TRUE(certs) << certs.error().message;
  EXPECT_TRUE(kith::crypto::is_one_certificate(certs->root_cert));
  EXPECT_TRUE(kith::crypto::is_one_certificate("a comment line\n" + certs->root_cert + "\n\n"));
  EXPECT_FALSE(kith::crypto::is_one_certificate(""));
  EXPECT_FALSE(kith::crypto::is_one_certificate("garbage"));
  EXPECT_FALSE(kith::crypto::is_one_certificate(certs->sender_key));  // a key, not a certificate
  EXPECT_FALSE(kith::crypto::is_one_certificate(certs->root_cert + certs->sender_cert));
  EXPECT_FALSE(kith::crypto::is_one_certificate(certs->root_cert + "trailing junk"));
  // The PEM armour around bytes that are not a certificate.
  EXPECT_FALSE(kith::crypto::is_one_certificate(
      "-----BEGIN CERTIFICATE-----\nZ2FyYmFnZQ==\n-----END CERTIFICATE-----\n"));
  std::string cut = certs->root_cert;
  cut.erase(cut.size() / 2, 40);  // a damaged body
  EXPECT_FALSE(kith::crypto::is_one_certificate(cut));
}

TEST(BepTls, TheCertificateIsTheSameBytesAtEveryStartAndNamesSyncthing) {
  auto key = SigningKey::generate();
  ASSERT_TRUE(key);
  auto a = bep_certificate(*key);
  auto b = bep_certificate(*key);
  ASSERT_TRUE(a) << a.error().message;
  ASSERT_TRUE(b);
  EXPECT_EQ(*a, *b);  // a device ID is the hash of these bytes
  auto other = SigningKey::generate();
  ASSERT_TRUE(other);
  EXPECT_NE(*bep_certificate(*other), *a);
  const auto* p = reinterpret_cast<const unsigned char*>(a->data());
  X509* cert = d2i_X509(nullptr, &p, static_cast<long>(a->size()));
  ASSERT_NE(cert, nullptr);
  char cn[64] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn);
  EXPECT_STREQ(cn, "syncthing");  // Syncthing drops devices whose certificate names anything else
  X509_free(cert);
  EXPECT_TRUE(make_bep_context(*key, TlsRole::server));
  EXPECT_TRUE(make_bep_context(*key, TlsRole::client));
}
