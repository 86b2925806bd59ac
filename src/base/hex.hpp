#pragma once
// Lower-case hexadecimal encoding, used for hashes in ids, links and logs.
#include <optional>
#include <string>
#include <string_view>

namespace kith::base {

std::string to_hex(std::string_view bytes);
// Returns nullopt for odd length or a non-hex character (either case accepted).
std::optional<std::string> from_hex(std::string_view hex);

}  // namespace kith::base
