#pragma once
// Device certificates: a person (user key) vouches for each of their nodes (device keys), so a second
// device can be linked later without changing the person's kith ID. Channels and LAN beacons are
// signed by the device key and carry this certificate; peers check it against the user key they
// expect (docs/wire.md, "Device certificate").
//
// Encoding (128 bytes): user public key (32) || device public key (32) || signature (64), where the
// signature is the user key's Ed25519 signature over "kith-device-v1\n" || user key || device key.
#include <string>
#include <string_view>

#include "base/error.hpp"
#include "crypto/sign.hpp"

namespace kith::identity {

struct DeviceCert {
  crypto::PublicKey user{};
  crypto::PublicKey device{};
  crypto::Signature signature{};
  bool operator==(const DeviceCert&) const = default;
};

inline constexpr std::size_t DEVICE_CERT_SIZE = 128;

DeviceCert certify_device(const crypto::SigningKey& user, const crypto::PublicKey& device);
bool verify_device_cert(const DeviceCert& cert);
std::string encode_device_cert(const DeviceCert& cert);
// base::errc::bad_input unless exactly DEVICE_CERT_SIZE bytes. Does not verify the signature.
Result<DeviceCert> decode_device_cert(std::string_view bytes);

}  // namespace kith::identity
