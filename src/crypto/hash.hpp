#pragma once
// Hashing: libsodium (this module is the project's only libsodium user), and OpenSSL for sha256() (speed).
#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "base/error.hpp"

namespace kith::crypto {

// SHA-256 of a file's contents, as 64 lower-case hex digits. Streams; any size.
Result<std::string> sha256_file(const std::filesystem::path& file);
// SHA-256 of bytes, as 64 lower-case hex digits.
std::string sha256_hex(std::string_view data);
// SHA-256 of bytes, raw (Syncthing's device IDs and block hashes are raw digests).
using Sha256 = std::array<std::uint8_t, 32>;
Sha256 sha256(std::string_view data);

}  // namespace kith::crypto
