#pragma once
// Percent-encoding (RFC 3986): every byte but the unreserved characters A-Z a-z 0-9 - _ . ~ becomes
// %XX (upper-case hex). Safe for a URL path segment and a query value alike.
#include <string>
#include <string_view>

namespace kith::base {

std::string percent_encode(std::string_view text);

}  // namespace kith::base
