#include "safety/block_entry.hpp"

#include <algorithm>
#include <cctype>

#include "base/hex.hpp"
#include "safety/errors.hpp"

namespace kith::safety {
namespace {

bool all_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); });
  return out;
}

}  // namespace

const char* kind_name(BlockKind kind) { return kind == BlockKind::info_hash ? "info_hash" : "peer_id"; }

bool parse_kind(std::string_view name, BlockKind& out) {
  if (name == "info_hash") {
    out = BlockKind::info_hash;
    return true;
  }
  if (name == "peer_id") {
    out = BlockKind::peer_id;
    return true;
  }
  return false;
}

Result<std::string> normalise_block_value(BlockKind kind, std::string_view text) {
  if (kind == BlockKind::info_hash) {
    if ((text.size() == 40 || text.size() == 64) && all_hex(text)) return lower(text);
    return fail(make_error_code(errc::bad_list),
                "'" + std::string(text) + "' is not an info-hash (40 hex digits for v1, 64 for v2)");
  }
  if (text.size() == 40 && all_hex(text)) return lower(text);
  bool printable = std::all_of(text.begin(), text.end(), [](char c) { return c > ' ' && c < 127; });
  if (!text.empty() && text.size() <= 20 && printable) return std::string(text);
  return fail(make_error_code(errc::bad_list),
              "'" + std::string(text) +
                  "' is not a peer ID: give 40 hex digits (a whole ID) or a client prefix of 1 to 20 "
                  "printable characters such as -XL0012-");
}

PeerIdPattern peer_id_pattern(const std::string& value) {
  if (value.size() == 40 && all_hex(value)) {
    if (auto bytes = base::from_hex(value)) return {*bytes, false};
  }
  return {value, true};
}

}  // namespace kith::safety
