#include "base/base32.hpp"

namespace kith::base {
namespace {
constexpr char ALPHABET[] = "abcdefghijklmnopqrstuvwxyz234567";
}

std::string base32_encode(std::string_view bytes) {
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(buffer >> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(buffer << (5 - bits)) & 31];
  return out;
}

std::optional<std::string> base32_decode(std::string_view text) {
  // Lengths mod 8 of 1, 3 or 6 cannot come from whole bytes.
  const auto rem = text.size() % 8;
  if (rem == 1 || rem == 3 || rem == 6) return std::nullopt;
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (char ch : text) {
    int v;
    if (ch >= 'a' && ch <= 'z')
      v = ch - 'a';
    else if (ch >= 'A' && ch <= 'Z')
      v = ch - 'A';
    else if (ch >= '2' && ch <= '7')
      v = ch - '2' + 26;
    else
      return std::nullopt;
    buffer = (buffer << 5) | static_cast<unsigned>(v);
    bits += 5;
    if (bits >= 8) {
      out += static_cast<char>((buffer >> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  if (bits > 0 && (buffer & ((1u << bits) - 1)) != 0) return std::nullopt;  // non-canonical trailing bits
  return out;
}

}  // namespace kith::base
