#pragma once
// Big-endian integers and size wording shared by the BEP codecs (internal to this module).
#include <cstddef>
#include <cstdint>
#include <string>

namespace kith::bep {

inline std::uint16_t get_be16(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return static_cast<std::uint16_t>((u[0] << 8) | u[1]);
}

inline std::uint32_t get_be32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return (std::uint32_t{u[0]} << 24) | (std::uint32_t{u[1]} << 16) | (std::uint32_t{u[2]} << 8) | u[3];
}

inline void put_be16(std::string& out, std::uint16_t v) {
  out += static_cast<char>(v >> 8);
  out += static_cast<char>(v);
}

inline void put_be32(std::string& out, std::uint32_t v) {
  out += static_cast<char>(v >> 24);
  out += static_cast<char>(v >> 16);
  out += static_cast<char>(v >> 8);
  out += static_cast<char>(v);
}

inline void put_be32(char* p, std::uint32_t v) {
  p[0] = static_cast<char>(v >> 24);
  p[1] = static_cast<char>(v >> 16);
  p[2] = static_cast<char>(v >> 8);
  p[3] = static_cast<char>(v);
}

// "64 MiB" for whole mebibytes, else "N bytes": limits in error messages read as they are set.
inline std::string size_text(std::size_t n) {
  constexpr std::size_t MiB = 1024 * 1024;
  if (n >= MiB && n % MiB == 0) return std::to_string(n / MiB) + " MiB";
  return std::to_string(n) + " bytes";
}

}  // namespace kith::bep
