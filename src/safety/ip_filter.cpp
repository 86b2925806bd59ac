#include "safety/ip_filter.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cstring>

namespace kith::safety {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

bool is_comment_or_blank(std::string_view line) {
  return line.empty() || line.front() == '#' || line.substr(0, 2) == "//";
}

bool parse_ipv4(std::string_view text, IpAddress& out) {
  IpAddress a;
  int part = 0;
  std::size_t pos = 0;
  while (part < 4) {
    std::size_t digits = 0;
    unsigned value = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9' && digits < 4) {
      value = value * 10 + static_cast<unsigned>(text[pos] - '0');
      ++pos;
      ++digits;
    }
    if (digits == 0 || digits > 3 || value > 255) return false;
    a.bytes[static_cast<std::size_t>(part)] = static_cast<std::uint8_t>(value);
    ++part;
    if (part < 4) {
      if (pos >= text.size() || text[pos] != '.') return false;
      ++pos;
    }
  }
  if (pos != text.size()) return false;
  out = a;
  return true;
}

// "first-last" (spaces allowed around either address). Both ends of one family, first <= last.
bool parse_range(std::string_view text, IpRange& out, std::string& why) {
  // IPv6 addresses have no '-', so the first '-' separates the two ends.
  auto dash = text.find('-');
  if (dash == std::string_view::npos) {
    why = "no '-' between the first and last address";
    return false;
  }
  IpAddress first, last;
  auto a = trim(text.substr(0, dash));
  auto b = trim(text.substr(dash + 1));
  if (!parse_ip_address(a, first)) {
    why = "'" + std::string(a) + "' is not an IP address";
    return false;
  }
  if (!parse_ip_address(b, last)) {
    why = "'" + std::string(b) + "' is not an IP address";
    return false;
  }
  if (first.v6 != last.v6) {
    why = "the range mixes IPv4 and IPv6";
    return false;
  }
  if (last < first) {
    why = "the range ends before it starts";
    return false;
  }
  out = {first.to_string(), last.to_string()};
  return true;
}

// PeerGuardian: "description:first-last". The description may itself contain ':', so the range is
// what follows the last ':' (IPv4 only: an IPv6 range would be ambiguous in this format).
bool parse_p2p_line(std::string_view line, IpRange& out, std::string& why) {
  auto colon = line.rfind(':');
  if (colon == std::string_view::npos) {
    why = "no ':' before the range (expected description:first-last)";
    return false;
  }
  return parse_range(line.substr(colon + 1), out, why);
}

// eMule: "first - last , level , description"; the description is optional, as is the level (then
// the line blocks, as eMule treats a missing level as 0).
enum class DatLine { blocked, allowed, bad };
DatLine parse_dat_line(std::string_view line, IpRange& out, std::string& why) {
  auto comma = line.find(',');
  auto range_text = line.substr(0, comma);
  if (!parse_range(range_text, out, why)) return DatLine::bad;
  if (comma == std::string_view::npos) return DatLine::blocked;
  auto rest = line.substr(comma + 1);
  auto level_text = trim(rest.substr(0, rest.find(',')));
  if (level_text.empty()) return DatLine::blocked;
  unsigned level = 0;
  for (char c : level_text) {
    if (c < '0' || c > '9' || level > 100000) {
      why = "access level '" + std::string(level_text) + "' is not a number";
      return DatLine::bad;
    }
    level = level * 10 + static_cast<unsigned>(c - '0');
  }
  return level < 128 ? DatLine::blocked : DatLine::allowed;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  if (s.size() < suffix.size()) return false;
  return std::equal(suffix.begin(), suffix.end(), s.end() - static_cast<long>(suffix.size()),
                    [](char want, char c) { return std::tolower(static_cast<unsigned char>(c)) == want; });
}

template <class F>
void for_each_line(std::string_view text, F&& f) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // UTF-8 BOM
  int number = 0;
  while (!text.empty()) {
    auto nl = text.find('\n');
    auto line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (!f(++number, trim(line))) return;
  }
}

}  // namespace

std::string IpAddress::to_string() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), buf, sizeof buf);
  return buf;
}

bool parse_ip_address(std::string_view text, IpAddress& out) {
  if (text.find(':') == std::string_view::npos) return parse_ipv4(text, out);
  if (text.size() >= INET6_ADDRSTRLEN) return false;
  char buf[INET6_ADDRSTRLEN] = {};
  std::memcpy(buf, text.data(), text.size());
  IpAddress a;
  a.v6 = true;
  if (inet_pton(AF_INET6, buf, a.bytes.data()) != 1) return false;
  out = a;
  return true;
}

IpFilterFormat detect_ip_filter_format(std::string_view file_name, std::string_view text) {
  if (ends_with(file_name, ".dat")) return IpFilterFormat::emule_dat;
  if (ends_with(file_name, ".p2p")) return IpFilterFormat::p2p;
  IpFilterFormat found = IpFilterFormat::p2p;
  for_each_line(text, [&](int, std::string_view line) {
    if (is_comment_or_blank(line)) return true;
    found = line.find(',') != std::string_view::npos ? IpFilterFormat::emule_dat : IpFilterFormat::p2p;
    return false;
  });
  return found;
}

IpFilterList parse_ip_filter(std::string_view text, IpFilterFormat format) {
  IpFilterList list;
  for_each_line(text, [&](int number, std::string_view line) {
    list.lines = number;
    if (is_comment_or_blank(line)) return true;
    IpRange range;
    std::string why;
    bool ok = true;
    if (format == IpFilterFormat::p2p) {
      ok = parse_p2p_line(line, range, why);
      if (ok) list.ranges.push_back(std::move(range));
    } else {
      switch (parse_dat_line(line, range, why)) {
        case DatLine::blocked:
          list.ranges.push_back(std::move(range));
          break;
        case DatLine::allowed:
          ++list.allowed;
          break;
        case DatLine::bad:
          ok = false;
          break;
      }
    }
    if (!ok) {
      if (list.bad_lines == 0) list.first_error = "line " + std::to_string(number) + ": " + why;
      ++list.bad_lines;
      if (list.bad_line_numbers.size() < IpFilterList::MAX_BAD_LINE_NUMBERS)
        list.bad_line_numbers.push_back(number);
    }
    return true;
  });
  return list;
}

}  // namespace kith::safety
