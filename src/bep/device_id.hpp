#pragma once
// Syncthing device IDs: the SHA-256 of a device's TLS certificate (DER), shown as 56 base32
// characters in 8 groups of 7, e.g. "P56IOI7-MZJNU2Y-IQGDREY-DM2MGTI-MGL3BXN-PQ6W5BM-TBBZ4TJ-XZWICQ2":
// the 52 characters of the digest, with a check character (bep/luhn.hpp) after each 13.
#include <array>
#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/error.hpp"

namespace kith::bep {

struct DeviceId {
  std::array<std::uint8_t, 32> bytes{};
  auto operator<=>(const DeviceId&) const = default;
};

DeviceId device_id_of_cert(std::string_view cert_der);

// The 8 dash-joined groups of 7 upper-case characters (also for the all-zero ID, which Syncthing
// shows as "").
std::string to_string(const DeviceId& id);

// Accepts what Syncthing's DeviceIDFromString accepts: dashes and spaces anywhere, any case, '='
// at the ends, 0/1/8 typed for O/I/B, and the 52-character form without check characters. Unlike
// Syncthing it refuses the empty string (Syncthing's all-zero "empty" ID) and ignores whitespace at
// the ends (a pasted line). Errors (base::errc::bad_input) say which rule failed, never echoing the
// text.
Result<DeviceId> parse_device_id(std::string_view text);

// Syncthing's ShortID: the first 8 bytes, big-endian. Version vectors and FileInfo.modified_by carry
// it.
std::uint64_t short_id(const DeviceId& id);

// A Device.id field of a ClusterConfig: the 32 raw bytes.
std::string to_bytes(const DeviceId& id);
// base::errc::bad_input unless exactly 32 bytes.
Result<DeviceId> device_id_from_bytes(std::string_view bytes);

}  // namespace kith::bep
