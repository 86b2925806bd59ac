#pragma once
// Checks of what a contact (or a local endpoint) sends for a call: SDP descriptions and trickled ICE
// candidates are outside input. The node does not run the media (the page's browser or `kith call`'s
// GStreamer does, and parses them fully); it checks the shape and limits before relaying, and keeps
// candidates to the networks the user allows (`calls.ice_networks`). Pure functions, fuzzed in
// fuzz/call_signal_fuzz.cpp.
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"

namespace kith::calls {

inline constexpr std::size_t MAX_SDP = 32 * 1024;  // a frame carries at most 64 KiB (wire::MAX_FRAME)
inline constexpr std::size_t MAX_CANDIDATE = 256;
inline constexpr std::size_t MAX_MEDIA = 8;  // m= sections in one description

// "v=0" first, text lines (no control characters but tab), each at most 4 KiB, at most MAX_MEDIA
// audio or video sections, and a DTLS fingerprint (a=fingerprint:) — media is always DTLS-SRTP.
Status check_sdp(std::string_view sdp);

// "candidate:FOUNDATION COMPONENT udp|tcp PRIORITY ADDRESS PORT typ host|srflx|prflx|relay ...".
// Returns the ADDRESS (an IP, or an mDNS name such as "x.local").
Result<std::string> check_candidate(std::string_view candidate);

// An allow-list of networks: "127.0.0.0/8", "::1", "192.168.1.0/24". Empty: every address.
class Networks {
 public:
  static Result<Networks> parse(const std::vector<std::string>& list);
  bool empty() const { return m_nets.empty(); }
  // `address` is an IP inside one of the networks (an mDNS name never is, unless the list is empty).
  bool allows(std::string_view address) const;

 private:
  struct Net {
    std::vector<unsigned char> bytes;  // 4 or 16
    unsigned prefix = 0;
  };
  std::vector<Net> m_nets;
};

// The description without the a=candidate lines whose address `networks` does not allow (and, with
// `relay_only`, without those that are not "typ relay").
std::string filter_sdp_candidates(std::string_view sdp, const Networks& networks, bool relay_only = false);

}  // namespace kith::calls
