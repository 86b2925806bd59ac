#include <gtest/gtest.h>

#include "base/base32.hpp"
#include "identity/device.hpp"
#include "identity/invite.hpp"
#include "identity/kith_id.hpp"
#include "identity/link_signature.hpp"

using namespace kith;
using namespace kith::identity;

TEST(Base32, RoundTripAndRejects) {
  for (std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
    auto enc = base::base32_encode(s);
    auto dec = base::base32_decode(enc);
    ASSERT_TRUE(dec) << s;
    EXPECT_EQ(*dec, s);
  }
  EXPECT_EQ(base::base32_encode("foobar"), "mzxw6ytboi");  // RFC 4648 test vector, lower case
  EXPECT_FALSE(base::base32_decode("mzxw6ytbo1"));
  EXPECT_FALSE(base::base32_decode("m"));
}

TEST(KithId, EncodeDecodeChecksum) {
  auto key = crypto::SigningKey::generate();
  ASSERT_TRUE(key);
  auto id = encode_id(key->public_key());
  EXPECT_EQ(id.size(), 55u);
  auto back = decode_id(id);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, key->public_key());
  auto typo = id;
  typo[10] = typo[10] == 'a' ? 'b' : 'a';
  auto r = decode_id(typo);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("checksum"), std::string::npos);
  EXPECT_FALSE(decode_id(id.substr(1)));
}

TEST(LinkSignature, SignVerifyTamper) {
  auto key = crypto::SigningKey::generate();
  ASSERT_TRUE(key);
  const std::string v1(40, 'a'), v2(64, 'b');
  std::string link = "magnet:?xt=urn:btih:" + v1 + "&dn=x" + signature_params(*key, v1, v2);
  auto parsed = parse_link_signature(link);
  ASSERT_TRUE(parsed);
  ASSERT_TRUE(*parsed);
  EXPECT_EQ((*parsed)->signer, encode_id(key->public_key()));
  EXPECT_TRUE(verify_link_signature(**parsed, v1, v2));
  EXPECT_FALSE(verify_link_signature(**parsed, v1, ""));  // a hash dropped from the link
  EXPECT_FALSE(verify_link_signature(**parsed, std::string(40, 'c'), v2));

  auto unsigned_link = parse_link_signature("magnet:?xt=urn:btih:" + v1);
  ASSERT_TRUE(unsigned_link);
  EXPECT_FALSE(*unsigned_link);
  EXPECT_FALSE(parse_link_signature("magnet:?x.kith.pk=abc"));
  EXPECT_FALSE(parse_link_signature(link + "&x.kith.sig=00"));
  EXPECT_FALSE(parse_link_signature("magnet:?x.kith.pk=" + encode_id(key->public_key()) + "&x.kith.sig=zz"));
}

TEST(DeviceCert, CertifyVerifyTamper) {
  auto user = crypto::SigningKey::generate();
  auto device = crypto::SigningKey::generate();
  ASSERT_TRUE(user && device);
  auto cert = certify_device(*user, device->public_key());
  EXPECT_TRUE(verify_device_cert(cert));
  auto bytes = encode_device_cert(cert);
  ASSERT_EQ(bytes.size(), DEVICE_CERT_SIZE);
  auto back = decode_device_cert(bytes);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, cert);
  bytes[40] ^= 1;  // another device key under the same signature
  EXPECT_FALSE(verify_device_cert(*decode_device_cert(bytes)));
  EXPECT_FALSE(decode_device_cert(bytes.substr(1)));
}

TEST(Invite, FormatParseAndRejects) {
  auto key = crypto::SigningKey::generate();
  ASSERT_TRUE(key);
  Invite inv;
  inv.key = key->public_key();
  inv.name = "Zoë & co";
  inv.addrs = {"192.168.1.5:7000", "[fe80::1]:7000", "host.example:1"};
  auto text = format_invite(inv);
  EXPECT_EQ(text.rfind("kith:" + encode_id(inv.key) + "?name=Zo%C3%AB%20%26%20co&addr=", 0), 0u) << text;
  auto back = parse_invite(text);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->key, inv.key);
  EXPECT_EQ(back->name, inv.name);
  EXPECT_EQ(back->addrs, inv.addrs);
  auto bare = parse_invite(encode_id(inv.key));
  ASSERT_TRUE(bare);
  EXPECT_TRUE(bare->name.empty());
  EXPECT_TRUE(parse_invite(text + "&future=1"));
  EXPECT_TRUE(back->bell.empty());
  inv.bell = base::base32_encode(std::string(BELL_BYTES, '\x5a'));
  auto belled = parse_invite(format_invite(inv));
  ASSERT_TRUE(belled) << belled.error().message;
  EXPECT_EQ(belled->bell, inv.bell);
  EXPECT_EQ(parse_invite(text + "&bell=" + base::base32_encode(std::string(BELL_BYTES, 'x')).substr(0, 20))
                .error()
                .message,
            "not a kith invite: the bell is not 16 bytes in base32");
  EXPECT_FALSE(parse_invite(format_invite(inv) + "&bell=" + inv.bell));  // twice
  EXPECT_FALSE(parse_invite(text + "&name=x"));
  EXPECT_FALSE(parse_invite(text + "&addr=nohost"));
  EXPECT_FALSE(parse_invite(text + "&addr=h:70000"));
  EXPECT_FALSE(parse_invite(text + "&name"));
  EXPECT_FALSE(parse_invite("kith:" + encode_id(inv.key) + "?name=%0a"));
  EXPECT_FALSE(parse_invite("kith:" + encode_id(inv.key) + "?name=%4"));
  EXPECT_FALSE(parse_invite("kith:abc"));
  EXPECT_FALSE(parse_invite(std::string(3000, 'a')));
}

TEST(Invite, AddressHints) {
  for (const char* ok : {"10.0.0.7:6882", "[2001:db8::7]:6882", "[::ffff:10.0.0.7]:1", "kith.example:65535"})
    EXPECT_TRUE(valid_address_hint(ok)) << ok;
  for (const char* bad :
       {"10.0.0.7", "10.0.0.7:0", "::1:6882", "[fe80::1%eth0]:6882", "300.1.1.1:1", "a b:1", "[x]:1", "h:+1"})
    EXPECT_FALSE(valid_address_hint(bad)) << bad;
  // The error names the reason and not the peer's text.
  auto key = crypto::SigningKey::generate();
  ASSERT_TRUE(key);
  auto r = parse_invite("kith:" + encode_id(key->public_key()) + "?addr=%1b%5d0%3b1:80");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message,
            "not a kith invite: an address is not host:port: the host has a character other "
            "than letters, digits, '-' and '.'");
}
