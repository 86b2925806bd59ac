#pragma once
// Cryptographically secure random bytes (libsodium's randombytes).
#include <string>

namespace kith::crypto {

std::string random_bytes(std::size_t n);

}  // namespace kith::crypto
