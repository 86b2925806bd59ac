#include "base/terminal.hpp"

#include <cstdint>

namespace kith::base {
namespace {

constexpr char HEX[] = "0123456789abcdef";

void escape_byte(std::string& out, unsigned char b) {
  switch (b) {
    case '\n':
      out += "\\n";
      return;
    case '\r':
      out += "\\r";
      return;
    case '\t':
      out += "\\t";
      return;
    default:
      out += "\\x";
      out += HEX[b >> 4];
      out += HEX[b & 0xf];
  }
}

void escape_code_point(std::string& out, std::uint32_t cp) {
  out += "\\u";
  for (int shift = 12; shift >= 0; shift -= 4) out += HEX[(cp >> shift) & 0xf];
}

// C1 controls, bidi embeddings/overrides (LRE RLE PDF LRO RLO), isolates (LRI RLI FSI PDI), and the
// line and paragraph separators.
bool is_unsafe(std::uint32_t cp) {
  return (cp >= 0x80 && cp <= 0x9f) || (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) ||
         cp == 0x2028 || cp == 0x2029;
}

// Length of the well-formed UTF-8 sequence starting at text[i] (RFC 3629 table 3-7: no overlong
// forms, no surrogates, nothing over U+10FFFF), and its code point; 0 when it is not one.
std::size_t decode(std::string_view text, std::size_t i, std::uint32_t& cp) {
  const auto at = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char b0 = at(i);
  std::size_t len;
  unsigned char lo = 0x80, hi = 0xbf;  // allowed range of the second byte
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    len = 2;
    cp = b0 & 0x1f;
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    len = 3;
    cp = b0 & 0x0f;
    if (b0 == 0xe0) lo = 0xa0;  // overlong
    if (b0 == 0xed) hi = 0x9f;  // surrogates
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    len = 4;
    cp = b0 & 0x07;
    if (b0 == 0xf0) lo = 0x90;  // overlong
    if (b0 == 0xf4) hi = 0x8f;  // over U+10FFFF
  } else {
    return 0;
  }
  if (i + len > text.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    const unsigned char b = at(i + k);
    if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xbf)) return 0;
    cp = (cp << 6) | (b & 0x3f);
  }
  return len;
}

}  // namespace

std::string terminal_safe(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const auto b = static_cast<unsigned char>(text[i]);
    if (b < 0x80) {
      if (b < 0x20 || b == 0x7f)
        escape_byte(out, b);
      else
        out += static_cast<char>(b);
      ++i;
      continue;
    }
    std::uint32_t cp = 0;
    const std::size_t len = decode(text, i, cp);
    if (len == 0) {
      escape_byte(out, b);  // not UTF-8: show this byte, then try again from the next one
      ++i;
    } else if (is_unsafe(cp)) {
      escape_code_point(out, cp);
      i += len;
    } else {
      out.append(text.substr(i, len));
      i += len;
    }
  }
  return out;
}

}  // namespace kith::base
