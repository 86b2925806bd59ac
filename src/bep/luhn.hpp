#pragma once
// Syncthing's check character for device IDs: a Luhn-like mod-32 sum over the base32 alphabet
// A-Z2-7 (not quite Luhn: each doubled value is folded as value/32 + value%32, see Syncthing's
// lib/protocol/luhn.go and https://forum.syncthing.net/t/v0-9-0-new-node-id-format/478).
#include <optional>
#include <string_view>

namespace kith::bep {

// The check character for `group` (upper-case base32), nullopt if it holds any other character.
std::optional<char> luhn32(std::string_view group);

}  // namespace kith::bep
