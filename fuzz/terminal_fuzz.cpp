// Fuzzes base::terminal_safe (every peer- or link-supplied string the CLI prints goes through it).
// Invariants, checked independently of its implementation: the output is valid UTF-8 with no C0/C1
// control, DEL, bidi override/isolate or line/paragraph separator; printable ASCII passes unchanged;
// and escaping twice changes nothing (the output holds only safe text and backslashes).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "base/terminal.hpp"

namespace {

// Decodes UTF-8 the slow, obvious way; false at the first ill-formed sequence or forbidden character.
bool safe_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    std::size_t len = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xe ? 3 : (b >> 3) == 0x1e ? 4 : 0;
    if (len == 0 || i + len > s.size()) return false;
    std::uint32_t cp = len == 1 ? b : len == 2 ? (b & 0x1fu) : len == 3 ? (b & 0x0fu) : (b & 0x07u);
    for (std::size_t k = 1; k < len; ++k) {
      const auto c = static_cast<unsigned char>(s[i + k]);
      if ((c >> 6) != 0x2) return false;
      cp = (cp << 6) | (c & 0x3fu);
    }
    static constexpr std::uint32_t MIN[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < MIN[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) return false;
    if ((cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x2028 || cp == 0x2029)
      return false;
    i += len;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::string out = kith::base::terminal_safe(input);
  if (!safe_utf8(out)) std::abort();
  if (kith::base::terminal_safe(out) != out) std::abort();
  bool printable_ascii = true;
  for (unsigned char c : input) printable_ascii = printable_ascii && c >= 0x20 && c < 0x7f;
  if (printable_ascii && out != input) std::abort();
  return 0;
}
