#pragma once
// RFC 4648 base32, lower case, no padding: safe in URLs, file names and spoken aloud (no 0/1/8/9).
#include <optional>
#include <string>
#include <string_view>

namespace kith::base {

std::string base32_encode(std::string_view bytes);
// Accepts upper or lower case; nullopt on any other character or an impossible length.
std::optional<std::string> base32_decode(std::string_view text);

}  // namespace kith::base
