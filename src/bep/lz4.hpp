#pragma once
// BEP's LZ4 bodies (sans-IO): a 4-byte big-endian uncompressed length, then one LZ4 *block* (not the
// LZ4 frame format), as Syncthing's lz4Compress/lz4Decompress write and read them. Used by frame.cpp;
// the only user of liblz4.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "base/error.hpp"

namespace kith::bep {

// The compressed body, or nullopt when it would not save at least 1/32 of the size (Syncthing's rule:
// the sender then sends the body uncompressed).
std::optional<std::string> lz4_compress(std::string_view plain);

// The uncompressed bytes. Errors (base::errc::bad_input): fewer than 4 bytes, an announced length over
// max_plain (checked before anything is allocated), a block that does not decompress, or that
// decompresses to another length than announced.
Result<std::string> lz4_decompress(std::string_view body, std::size_t max_plain);

}  // namespace kith::bep
