#pragma once
// Fixed-size byte arrays (relay tokens, user keys) to and from protobuf `bytes`, and fresh tokens.
// Internal to messaging.
#include <algorithm>
#include <array>
#include <cstdint>
#include <string>

#include "crypto/random.hpp"
#include "net/relay.hpp"

namespace kith::messaging {

// A wrong size is refused.
template <std::size_t N>
bool array_of(const std::string& bytes, std::array<std::uint8_t, N>& out) {
  if (bytes.size() != N) return false;
  std::copy(bytes.begin(), bytes.end(), out.begin());
  return true;
}

template <std::size_t N>
std::string bytes_of(const std::array<std::uint8_t, N>& a) {
  return std::string(a.begin(), a.end());
}

inline net::RelayToken new_token() {
  net::RelayToken t{};
  const auto random = crypto::random_bytes(t.size());
  std::copy(random.begin(), random.end(), t.begin());
  return t;
}

}  // namespace kith::messaging
