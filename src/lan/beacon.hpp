#pragma once
// LAN beacons: the datagram a node multicasts so that other nodes on the same segment learn its
// device certificate and contact-channel port with no configuration (docs/wire.md, "LAN beacon").
// Sans-IO: bytes in, bytes out; signing is a callback so the device's secret key stays in crypto.
//
// Wire (210 bytes): "KITHLAN1" (8) | device cert (128) | port (2, BE) | sequence (8, BE) |
// Ed25519 signature by the device key over the 146 bytes before it (64).
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "base/error.hpp"
#include "crypto/sign.hpp"
#include "identity/device.hpp"

namespace kith::lan {

inline constexpr std::string_view BEACON_MAGIC = "KITHLAN1";
inline constexpr std::size_t BEACON_SIZE = 8 + identity::DEVICE_CERT_SIZE + 2 + 8 + 64;  // 210

struct Beacon {
  identity::DeviceCert cert;   // the user key vouches for cert.device, which signs the beacon
  std::uint16_t port = 0;      // TCP port of the sender's contact-channel listener
  std::uint64_t sequence = 0;  // grows with every datagram a device sends; receivers drop replays
  bool operator==(const Beacon&) const = default;
};

using SignFunction = std::function<crypto::Signature(std::string_view)>;

// sign_with_device_key must sign with the secret key of beacon.cert.device, or receivers reject it.
std::string encode_beacon(const Beacon& beacon, const SignFunction& sign_with_device_key);

// Cheap checks only (size and magic), to drop junk before spending a signature verification on it.
bool looks_like_beacon(std::string_view datagram);

// Parses without verifying anything; the caller must not trust the result. Lets a receiver look
// at the claimed device key and sequence (to drop its own beacons and replays) before verifying.
Result<Beacon> parse_beacon_unverified(std::string_view datagram);

// Parses and verifies: exact size, magic, the device certificate (identity::verify_device_cert) and
// the beacon's signature under cert.device. base::errc::bad_input with what is wrong.
Result<Beacon> decode_beacon(std::string_view datagram);

}  // namespace kith::lan
