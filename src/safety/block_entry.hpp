#pragma once
// Entries of the local block list (sans-IO): what a user may write, normalised to one stored form.
//
// - info-hash: 40 hex digits (BitTorrent v1, SHA-1) or 64 (v2, SHA-256), any case; stored lower-case.
// - peer ID: exactly 40 hex digits is one whole 20-byte ID (stored lower-case hex); anything else of
//   1..20 printable ASCII characters is a client prefix such as "-XL0012-" (stored as written), which
//   matches every peer ID that starts with those bytes (Azureus-style IDs name the client up front).
#include <cstdint>
#include <string>
#include <string_view>

#include "base/error.hpp"

namespace kith::safety {

enum class BlockKind { info_hash, peer_id };

struct BlockEntry {
  BlockKind kind = BlockKind::info_hash;
  std::string value;  // normalised as above
  std::string reason;
  std::int64_t added_at = 0;  // unix seconds
};

// "info_hash" / "peer_id" (the names the store, the API and the CLI use).
const char* kind_name(BlockKind kind);
bool parse_kind(std::string_view name, BlockKind& out);

// Normalises user input. Error safety::errc::bad_list with a message that says what is accepted.
Result<std::string> normalise_block_value(BlockKind kind, std::string_view text);

// A peer-ID entry as the bytes to compare: `prefix` false means the whole 20-byte ID must be equal.
struct PeerIdPattern {
  std::string bytes;
  bool prefix = false;
};
PeerIdPattern peer_id_pattern(const std::string& normalised_value);

}  // namespace kith::safety
