#pragma once
// Parsers for the common P2P IP block-list formats (sans-IO: text in, ranges out).
//
// - PeerGuardian text (`.p2p`): `description:first-last`, one range a line, IPv4.
// - eMule `ipfilter.dat`: `first - last , level , description`; a level below 128 blocks (eMule's
//   rule), a level of 128 or more allows, so such lines add no rule. IPv4 or IPv6.
// Both are parsed as tolerantly as the tools that write them: `#` and `//` comments, blank lines,
// CRLF, a UTF-8 BOM, spaces around fields, leading zeros in IPv4 parts (`001.002.003.004`).
// A bad line is counted and its number kept (the first few), and the rest still loads, as
// PeerGuardian does.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kith::safety {

// One blocked range, both ends included. Addresses are in canonical text form ("1.2.3.4",
// "2001:db8::1"), so that callers need no address type of ours; both ends have the same family and
// first <= last.
struct IpRange {
  std::string first;
  std::string last;
  friend bool operator==(const IpRange&, const IpRange&) = default;
};

enum class IpFilterFormat { p2p, emule_dat };

struct IpFilterList {
  std::vector<IpRange> ranges;        // blocked ranges, in file order
  int lines = 0;                      // lines read, comments and blanks included
  int allowed = 0;                    // eMule lines with level >= 128 (no rule added)
  int bad_lines = 0;                  // lines that could not be parsed (skipped)
  std::vector<int> bad_line_numbers;  // 1-based, the first MAX_BAD_LINE_NUMBERS of them
  std::string first_error;            // "line N: why", for the first bad line
  static constexpr std::size_t MAX_BAD_LINE_NUMBERS = 5;
};

// Picks the format from the file name (".dat" -> eMule, ".p2p" -> PeerGuardian), else from the first
// line that is not a comment: a ',' means eMule, a ':' followed by a range means PeerGuardian.
IpFilterFormat detect_ip_filter_format(std::string_view file_name, std::string_view text);

IpFilterList parse_ip_filter(std::string_view text, IpFilterFormat format);

// An IPv4 or IPv6 address as 16 bytes (IPv4 in the first 4, `v6` false). IPv4 parts may have leading
// zeros ("010" is ten, not octal eight, as eMule reads it). False on anything else.
struct IpAddress {
  bool v6 = false;
  std::array<std::uint8_t, 16> bytes{};
  std::string to_string() const;
  friend auto operator<=>(const IpAddress&, const IpAddress&) = default;
};
bool parse_ip_address(std::string_view text, IpAddress& out);

}  // namespace kith::safety
