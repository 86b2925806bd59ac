#pragma once
// Text from outside (a link's name, a peer's client name, a message) shown on a terminal.
//
// A terminal obeys control bytes in what it prints: ESC sequences recolour it, set its title or clear
// it, a newline starts a line that can pretend to be kith's own ("kith: ..."), and Unicode bidi
// overrides reorder what the user reads. terminal_safe() keeps printable text as it is (UTF-8 letters
// of every script included) and shows everything else as an escape:
//   - C0 controls and DEL: \n \r \t, else \xNN (ESC is \x1b, BEL \x07)
//   - C1 controls (U+0080..U+009F) and bidi embeddings, overrides and isolates (U+202A..U+202E,
//     U+2066..U+2069) and the Unicode line/paragraph separators (U+2028, U+2029): \uXXXX
//   - bytes that are not valid UTF-8 (stray continuation bytes, overlong forms, surrogates, code
//     points over U+10FFFF, truncated sequences): \xNN, one per byte
// The result is for reading, not for parsing back: a backslash is left as it is, so a name that
// already contains the four characters "\x1b" looks the same as one that contained ESC (neither
// does anything to the terminal).
#include <string>
#include <string_view>

namespace kith::base {

std::string terminal_safe(std::string_view text);

}  // namespace kith::base
