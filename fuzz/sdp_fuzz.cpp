// Fuzzes what a call's peer sends (src/media/call.hpp): every description goes through check_sdp, and
// every trickle candidate through check_candidate, before webrtcbin sees it. The first byte picks the
// description type (even: offer, odd: answer); the rest is the SDP, or, cut at its first newline, a
// candidate line.
// Invariants: an accepted description is at most MAX_SDP_SIZE bytes, starts "v=0" and has a DTLS
// fingerprint and 1 to MAX_MLINES lines starting "m="; an accepted candidate is at most MAX_CANDIDATE_SIZE
// bytes and starts "candidate:"; the address filter never crashes on the candidate's address.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "media/call.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace kith::media;
  if (size == 0) return 0;
  const std::string_view type = data[0] % 2 == 0 ? "offer" : "answer";
  const std::string_view sdp(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (check_sdp(type, sdp)) {
    if (sdp.size() > MAX_SDP_SIZE || sdp.substr(0, 3) != "v=0") std::abort();
    if (sdp.find("a=fingerprint:") == std::string_view::npos) std::abort();
    std::size_t mlines = 0;
    for (std::size_t at = sdp.find("\nm="); at != std::string_view::npos; at = sdp.find("\nm=", at + 1))
      ++mlines;
    if (mlines == 0 || mlines > MAX_MLINES) std::abort();
  }
  const std::string_view line = sdp.substr(0, sdp.find('\n'));
  if (check_candidate(line)) {
    if (line.size() > MAX_CANDIDATE_SIZE || line.substr(0, 10) != "candidate:") std::abort();
  }
  const std::string address(line.substr(line.size() > 40 ? line.size() - 40 : 0));
  (void)address_allowed({"127.0.0.0/8", "fd00::/8", "192.0.2.1"}, address);
  return 0;
}
