#pragma once
// A QR code as an SVG image (libqrencode), for the web UI's "scan this link with a phone".
#include <string>
#include <string_view>

#include "base/error.hpp"

namespace kith::api {

// The SVG document of `text` encoded in 8-bit mode at error-correction level M, with the standard
// 4-module quiet zone. Error base::errc::invalid_argument when the text is too long for any QR code.
Result<std::string> qr_svg(std::string_view text);

}  // namespace kith::api
