// Syncthing device IDs: vectors from Syncthing's deviceid_test.go and luhn_test.go, and a certificate
// made by `syncthing generate` (v1.19.2) with the ID it printed.
#include "bep/device_id.hpp"

#include <gtest/gtest.h>

#include <string>

#include "base/base64.hpp"
#include "bep/luhn.hpp"

using namespace kith;
using namespace kith::bep;

namespace {

constexpr const char* FORMATTED = "P56IOI7-MZJNU2Y-IQGDREY-DM2MGTI-MGL3BXN-PQ6W5BM-TBBZ4TJ-XZWICQ2";

// cert.pem of `syncthing generate --home DIR` (Syncthing v1.19.2), as DER; it printed
// "Device ID: VXJGDSD-R7GVGP6-32H6IKI-VOSOCCW-XVRKQ57-HHCQVKR-V5TRKTK-6CAEIAM".
constexpr const char* SYNCTHING_CERT_B64 =
    "MIICHTCCAaOgAwIBAgIJAI81RmKNYLWAMAoGCCqGSM49BAMCMEoxEjAQBgNVBAoTCVN5bmN0aGluZzEgMB4GA1UECxMXQXV0b21h"
    "dGljYWxseSBHZW5lcmF0ZWQxEjAQBgNVBAMTCXN5bmN0aGluZzAeFw0yNjEyMDcwMDAwMDBaFw00NjEyMDIwMDAwMDBaMEoxEjAQ"
    "BgNVBAoTCVN5bmN0aGluZzEgMB4GA1UECxMXQXV0b21hdGljYWxseSBHZW5lcmF0ZWQxEjAQBgNVBAMTCXN5bmN0aGluZzB2MBAG"
    "ByqGSM49AgEGBSuBBAAiA2IABGfhC/4dntns4Tne+/KgSyNMZ7bjGrB+P06tAqKvFpdkbzLoyKWMad2ZTDdYBRv77bAWr3K2UwX4"
    "xGYlBF2pQW8kSSCP1znJBIGCv8A9aVYbC5+M+1ykFoFP19vaUoARsaNVMFMwDgYDVR0PAQH/BAQDAgWgMB0GA1UdJQQWMBQGCCsG"
    "AQUFBwMBBggrBgEFBQcDAjAMBgNVHRMBAf8EAjAAMBQGA1UdEQQNMAuCCXN5bmN0aGluZzAKBggqhkjOPQQDAgNoADBlAjEA9f7I"
    "b6jvf7U8Bt8nYQaNg7gSLYBrDdnH1gKIkX4bBIYGSPsn8HBuWJVvkhzJJtVQAjA0uUsK8EEp+WcfnyFN7xBpMweO86gG2l6vNTVM"
    "gtQQTxNL3vAnQ1eOHWoyQxosmfk=";

std::string error_of(const Result<DeviceId>& r) { return r ? "" : r.error().message; }

}  // namespace

TEST(Luhn32, SyncthingVectors) {
  EXPECT_EQ(luhn32("AB725E4GHIQPL3ZFGT"), 'G');
  EXPECT_EQ(luhn32("3734EJEKMRHWPZQTWYQ1"), std::nullopt);  // '1' is not in the alphabet
  EXPECT_EQ(luhn32(""), 'A');
}

TEST(DeviceId, OfASyncthingCertificate) {
  const auto der = base::base64_decode(SYNCTHING_CERT_B64);
  ASSERT_TRUE(der);
  const DeviceId id = device_id_of_cert(*der);
  EXPECT_EQ(to_string(id), "VXJGDSD-R7GVGP6-32H6IKI-VOSOCCW-XVRKQ57-HHCQVKR-V5TRKTK-6CAEIAM");
  EXPECT_EQ(short_id(id), 0xadd261c871f9aa67u);
}

TEST(DeviceId, EveryFormSyncthingFormatsAlsoParses) {
  // deviceid_test.go's formatCases: with and without check characters, dashes or spaces in odd
  // places, lower case, 0/1/8 typed for O/I/B.
  for (const char* text : {
           "P56IOI-7MZJNU-2IQGDR-EYDM2M-GTMGL3-BXNPQ6-W5BTBB-Z4TJXZ-WICQ",
           "P56IOI-7MZJNU2Y-IQGDR-EYDM2M-GTI-MGL3-BXNPQ6-W5BM-TBB-Z4TJXZ-WICQ2",
           "P56IOI7 MZJNU2I QGDREYD M2MGTMGL 3BXNPQ6W 5BTB BZ4T JXZWICQ",
           "P56IOI7 MZJNU2Y IQGDREY DM2MGTI MGL3BXN PQ6W5BM TBBZ4TJ XZWICQ2",
           "P56IOI7MZJNU2IQGDREYDM2MGTMGL3BXNPQ6W5BTBBZ4TJXZWICQ",
           "p56ioi7mzjnu2iqgdreydm2mgtmgl3bxnpq6w5btbbz4tjxzwicq",
           "P56IOI7MZJNU2YIQGDREYDM2MGTIMGL3BXNPQ6W5BMTBBZ4TJXZWICQ2",
           "P561017MZJNU2YIQGDREYDM2MGTIMGL3BXNPQ6W5BMT88Z4TJXZWICQ2",
           "p56ioi7mzjnu2yiqgdreydm2mgtimgl3bxnpq6w5bmtbbz4tjxzwicq2",
           "p561017mzjnu2yiqgdreydm2mgtimgl3bxnpq6w5bmt88z4tjxzwicq2",
           "P56IOI7-MZJNU2-IQGDREY-DM2MGT-MGL3BXN-PQ6W5B-TBBZ4TJ-XZWICQ",          // validateCases
           "  P56IOI7-MZJNU2Y-IQGDREY-DM2MGTI-MGL3BXN-PQ6W5BM-TBBZ4TJ-XZWICQ2\n",  // a pasted line
           "==P56IOI7-MZJNU2Y-IQGDREY-DM2MGTI-MGL3BXN-PQ6W5BM-TBBZ4TJ-XZWICQ2==",  // Syncthing trims '='
       }) {
    auto id = parse_device_id(text);
    ASSERT_TRUE(id) << text << ": " << id.error().message;
    EXPECT_EQ(to_string(*id), FORMATTED) << text;
  }
}

TEST(DeviceId, ShortIdIsTheFirstEightBytesBigEndian) {
  auto id = parse_device_id(FORMATTED);
  ASSERT_TRUE(id);
  EXPECT_EQ(short_id(*id), 0x7f7c8723ecca5b4du);
  EXPECT_EQ(id->bytes[31], 0x05);
}

TEST(DeviceId, RoundTripsThroughTextAndBytes) {
  DeviceId n0;
  const std::uint8_t bytes[32] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
                                  17, 18, 19, 10, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
  for (int i = 0; i < 32; ++i) n0.bytes[i] = bytes[i];
  auto n1 = parse_device_id(to_string(n0));
  ASSERT_TRUE(n1);
  EXPECT_EQ(*n1, n0);
  auto n2 = device_id_from_bytes(to_bytes(n0));
  ASSERT_TRUE(n2);
  EXPECT_EQ(*n2, n0);
  EXPECT_LT(DeviceId{}, n0);
  EXPECT_EQ(to_string(DeviceId{}), "AAAAAAA-AAAAAAA-AAAAAAA-AAAAAAA-AAAAAAA-AAAAAAA-AAAAAAA-AAAAAAA");
}

TEST(DeviceId, SpareBitsOfTheLastCharacterAreIgnoredAsSyncthingDoes) {
  // 'Q' and 'R' differ only in the 4 bits past the 256th: both are the same ID.
  auto q = parse_device_id("P56IOI7MZJNU2IQGDREYDM2MGTMGL3BXNPQ6W5BTBBZ4TJXZWICQ");
  auto r = parse_device_id("P56IOI7MZJNU2IQGDREYDM2MGTMGL3BXNPQ6W5BTBBZ4TJXZWICR");
  ASSERT_TRUE(q && r);
  EXPECT_EQ(*q, *r);
}

TEST(DeviceId, RefusalsSayWhatIsWrong) {
  EXPECT_EQ(error_of(parse_device_id("")), "device ID is empty");
  EXPECT_EQ(error_of(parse_device_id(" - ")), "device ID is empty");
  EXPECT_EQ(error_of(parse_device_id("a")),
            "device ID has 1 characters, not 56 (or 52 without check characters)");
  EXPECT_EQ(error_of(parse_device_id("P56IOI7MZJNU2IQGDREYDM2MGTMGL3BXNPQ6W5BTBBZ4TJXZWICQCCCC")),
            "device ID fails check character 1 of 4: a typo in groups 1 and 2 of 8?");
  EXPECT_EQ(error_of(parse_device_id("p56ioi7mzjnu2iqgdreydm2mgtmgl3bxnpq6w5btbbz4tjxzwicqCCCC")),
            "device ID fails check character 1 of 4: a typo in groups 1 and 2 of 8?");
  // One typo in the third group of 7 (check character 2).
  EXPECT_EQ(error_of(parse_device_id("P56IOI7-MZJNU2Y-IQGDREZ-DM2MGTI-MGL3BXN-PQ6W5BM-TBBZ4TJ-XZWICQ2")),
            "device ID fails check character 2 of 4: a typo in groups 3 and 4 of 8?");
  EXPECT_EQ(error_of(parse_device_id("P56IOI7-MZJNU2Y-IQGDREY-DM2MGTI-MGL3BXN-PQ6W5BM-TBBZ4TJ-XZWIC!2")),
            "device ID contains '!', which is not base32 (A-Z, 2-7)");
  EXPECT_EQ(error_of(parse_device_id("P56IOI7\tMZJNU2Y")),
            "device ID contains byte 0x09, which is not base32 (A-Z, 2-7)");
  EXPECT_EQ(error_of(device_id_from_bytes("short")), "device ID of 5 bytes, not 32");
  auto r = parse_device_id("9");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, base::make_error_code(base::errc::bad_input));
}
