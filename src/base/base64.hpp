#pragma once
// Standard base64 (RFC 4648, with padding), used to carry .torrent bytes inside JSON.
#include <optional>
#include <string>
#include <string_view>

namespace kith::base {

std::string base64_encode(std::string_view bytes);
// nullopt on a character outside the alphabet or a bad length; whitespace is not accepted.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace kith::base
