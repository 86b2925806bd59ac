#include "bep/device_id.hpp"

#include <cstdio>

#include "base/base32.hpp"
#include "bep/luhn.hpp"
#include "crypto/hash.hpp"

namespace kith::bep {
namespace {

constexpr std::size_t PLAIN = 52;    // base32 of 32 bytes, unpadded
constexpr std::size_t GROUP = 13;    // characters per check character
constexpr std::size_t CHECKED = 56;  // with the 4 check characters

Error bad(std::string why) { return Error{base::make_error_code(base::errc::bad_input), std::move(why)}; }

std::string shown(char c) {
  if (c > ' ' && c < 127) return std::string("'") + c + "'";
  char text[16];
  std::snprintf(text, sizeof text, "byte 0x%02X", static_cast<unsigned char>(c));
  return text;
}

bool is_base32(char c) { return (c >= 'A' && c <= 'Z') || (c >= '2' && c <= '7'); }

// The text as Syncthing reads it: '=' trimmed at the ends, upper case, 0/1/8 read as O/I/B, dashes
// and spaces dropped.
std::string normalized(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t' || text.front() == '\r' ||
                           text.front() == '\n' || text.front() == '='))
    text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r' ||
                           text.back() == '\n' || text.back() == '='))
    text.remove_suffix(1);
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '-' || c == ' ') continue;
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (c == '0') c = 'O';
    if (c == '1') c = 'I';
    if (c == '8') c = 'B';
    out += c;
  }
  return out;
}

}  // namespace

DeviceId device_id_of_cert(std::string_view cert_der) { return DeviceId{crypto::sha256(cert_der)}; }

std::string to_string(const DeviceId& id) {
  std::string plain =
      base::base32_encode(std::string_view(reinterpret_cast<const char*>(id.bytes.data()), id.bytes.size()));
  for (auto& c : plain)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  std::string checked;
  for (std::size_t at = 0; at < PLAIN; at += GROUP) {
    const auto group = std::string_view(plain).substr(at, GROUP);
    checked += group;
    checked += *luhn32(group);  // base32_encode writes only the alphabet luhn32 knows
  }
  std::string out;
  for (std::size_t at = 0; at < CHECKED; at += 7) {
    if (at > 0) out += '-';
    out += checked.substr(at, 7);
  }
  return out;
}

Result<DeviceId> parse_device_id(std::string_view text) {
  std::string id = normalized(text);
  if (id.empty()) return tl::unexpected(bad("device ID is empty"));
  for (char c : id)
    if (!is_base32(c))
      return tl::unexpected(bad("device ID contains " + shown(c) + ", which is not base32 (A-Z, 2-7)"));
  if (id.size() != CHECKED && id.size() != PLAIN)
    return tl::unexpected(bad("device ID has " + std::to_string(id.size()) + " characters, not " +
                              std::to_string(CHECKED) + " (or " + std::to_string(PLAIN) +
                              " without check characters)"));
  if (id.size() == CHECKED) {
    std::string plain;
    for (std::size_t g = 0; g < 4; ++g) {
      const auto group = std::string_view(id).substr(g * (GROUP + 1), GROUP);
      if (*luhn32(group) != id[g * (GROUP + 1) + GROUP])
        return tl::unexpected(bad("device ID fails check character " + std::to_string(g + 1) +
                                  " of 4: a typo in groups " + std::to_string(2 * g + 1) + " and " +
                                  std::to_string(2 * g + 2) + " of 8?"));
      plain += group;
    }
    id = std::move(plain);
  }
  // 52 characters carry 260 bits: the last one's low 4 are spare. Syncthing's decoder (Go's base32)
  // ignores them, so they are cleared here rather than refused: a 'B' there reads as 'A'.
  const int last = id.back() >= 'A' ? id.back() - 'A' : id.back() - '2' + 26;
  id.back() = (last & 0x10) ? 'Q' : 'A';
  const auto raw = base::base32_decode(id);
  if (!raw || raw->size() != 32)  // cannot happen for 52 base32 characters
    return tl::unexpected(bad("device ID does not decode to 32 bytes"));
  return device_id_from_bytes(*raw);
}

std::uint64_t short_id(const DeviceId& id) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 8; ++i) v = (v << 8) | id.bytes[i];
  return v;
}

std::string to_bytes(const DeviceId& id) {
  return std::string(reinterpret_cast<const char*>(id.bytes.data()), id.bytes.size());
}

Result<DeviceId> device_id_from_bytes(std::string_view bytes) {
  if (bytes.size() != 32)
    return tl::unexpected(bad("device ID of " + std::to_string(bytes.size()) + " bytes, not 32"));
  DeviceId id;
  for (std::size_t i = 0; i < 32; ++i) id.bytes[i] = static_cast<std::uint8_t>(bytes[i]);
  return id;
}

}  // namespace kith::bep
