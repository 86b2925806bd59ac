#include "bep/luhn.hpp"

namespace kith::bep {
namespace {

constexpr char ALPHABET[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

int codepoint(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= '2' && c <= '7') return c - '2' + 26;
  return -1;
}

}  // namespace

std::optional<char> luhn32(std::string_view group) {
  int factor = 1;  // the first character counts once, the second twice, and so on
  int sum = 0;
  for (char c : group) {
    const int v = codepoint(c);
    if (v < 0) return std::nullopt;
    const int addend = factor * v;
    sum += addend / 32 + addend % 32;
    factor = factor == 1 ? 2 : 1;
  }
  return ALPHABET[(32 - sum % 32) % 32];
}

}  // namespace kith::bep
