#pragma once
// Helpers shared by the module's files; not for other modules.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"

namespace kith::media {

inline Error bad(const std::string& why) { return Error{base::make_error_code(base::errc::bad_input), why}; }
inline Error failed(const std::string& why) {
  return Error{base::make_error_code(base::errc::unavailable), why};
}

// An a=fingerprint value: its hash ("sha-256", lower case) and the digest.
struct Fingerprint {
  std::string hash;
  std::vector<std::uint8_t> digest;
};
std::optional<Fingerprint> parse_fingerprint(std::string_view value);

// The address field of a "candidate:..." line; empty when there is none.
std::string candidate_address(std::string_view line);

// `sdp` without its a=candidate lines whose address is outside `networks` (all kept when empty).
std::string filter_candidates(std::string_view sdp, const std::vector<std::string>& networks);

}  // namespace kith::media
