#include "calls/signal_checks.hpp"

#include <boost/asio/ip/address.hpp>
#include <charconv>

namespace kith::calls {
namespace {

Error bad(std::string what) { return Error{base::make_error_code(base::errc::bad_input), std::move(what)}; }

bool text_char(unsigned char c) { return c == '\t' || (c >= 0x20 && c != 0x7f); }

// Splits on LF, dropping a CR before it.
std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    auto end = text.find('\n');
    auto line = text.substr(0, end);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    out.push_back(line);
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return out;
}

std::vector<std::string_view> tokens_of(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == ' ') ++i;
    auto j = i;
    while (j < s.size() && s[j] != ' ') ++j;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

template <class T>
bool number(std::string_view s, T& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

std::vector<unsigned char> bytes_of(const boost::asio::ip::address& a) {
  if (a.is_v4()) {
    auto b = a.to_v4().to_bytes();
    return {b.begin(), b.end()};
  }
  auto b = a.to_v6().to_bytes();
  return {b.begin(), b.end()};
}

bool is_candidate_line(std::string_view line) { return line.starts_with("a=candidate:"); }

}  // namespace

Status check_sdp(std::string_view sdp) {
  if (sdp.empty()) return tl::unexpected(bad("the session description is empty"));
  if (sdp.size() > MAX_SDP)
    return tl::unexpected(
        bad("the session description is larger than " + std::to_string(MAX_SDP) + " bytes"));
  auto lines = lines_of(sdp);
  if (lines.empty() || lines.front() != "v=0")
    return tl::unexpected(bad("the session description does not start with v=0"));
  std::size_t media = 0;
  bool fingerprint = false;
  for (auto line : lines) {
    if (line.size() > 4096)
      return tl::unexpected(bad("a session description line is longer than 4096 bytes"));
    for (unsigned char c : line)
      if (!text_char(c)) return tl::unexpected(bad("the session description has control characters"));
    if (line.empty()) continue;
    if (line.size() < 2 || line[1] != '=')
      return tl::unexpected(bad("a session description line is not x=..."));
    if (line.starts_with("m=")) {
      if (++media > MAX_MEDIA)
        return tl::unexpected(
            bad("the session description has more than " + std::to_string(MAX_MEDIA) + " media sections"));
      if (!line.starts_with("m=audio ") && !line.starts_with("m=video "))
        return tl::unexpected(bad("a media section is neither audio nor video"));
    }
    if (line.starts_with("a=fingerprint:")) fingerprint = true;
  }
  if (media == 0) return tl::unexpected(bad("the session description has no media section"));
  if (!fingerprint)
    return tl::unexpected(bad("the session description has no DTLS fingerprint (a=fingerprint)"));
  return {};
}

Result<std::string> check_candidate(std::string_view candidate) {
  if (candidate.size() > MAX_CANDIDATE)
    return tl::unexpected(bad("an ICE candidate is longer than " + std::to_string(MAX_CANDIDATE) + " bytes"));
  for (unsigned char c : candidate)
    if (c < 0x20 || c >= 0x7f)
      return tl::unexpected(bad("an ICE candidate has characters outside printable ASCII"));
  if (!candidate.starts_with("candidate:"))
    return tl::unexpected(bad("an ICE candidate does not start with candidate:"));
  auto t = tokens_of(candidate.substr(10));
  // foundation component transport priority address port "typ" type
  unsigned component = 0, port = 0;
  std::uint64_t priority = 0;
  if (t.size() < 8 || !number(t[1], component) || component < 1 || component > 256 ||
      !number(t[3], priority) || !number(t[5], port) || port > 65535 || t[6] != "typ")
    return tl::unexpected(
        bad("an ICE candidate is not \"candidate:F C TRANSPORT PRIORITY ADDRESS PORT typ TYPE\""));
  auto transport = t[2];
  if (transport != "udp" && transport != "UDP" && transport != "tcp" && transport != "TCP")
    return tl::unexpected(bad("an ICE candidate's transport is neither udp nor tcp"));
  if (t[7] != "host" && t[7] != "srflx" && t[7] != "prflx" && t[7] != "relay")
    return tl::unexpected(bad("an ICE candidate's type is not host, srflx, prflx or relay"));
  return std::string(t[4]);
}

Result<Networks> Networks::parse(const std::vector<std::string>& list) {
  Networks out;
  for (const auto& item : list) {
    auto slash = item.find('/');
    boost::system::error_code ec;
    auto address = boost::asio::ip::make_address(item.substr(0, slash), ec);
    if (ec)
      return tl::unexpected(bad("'" + item + "' is not an IP address or network (e.g. 192.168.1.0/24)"));
    Net net{bytes_of(address), 0};
    const unsigned width = static_cast<unsigned>(net.bytes.size() * 8);
    net.prefix = width;
    if (slash != std::string::npos &&
        (!number(std::string_view(item).substr(slash + 1), net.prefix) || net.prefix > width))
      return tl::unexpected(bad("'" + item + "' has a prefix length outside 0-" + std::to_string(width)));
    out.m_nets.push_back(std::move(net));
  }
  return out;
}

bool Networks::allows(std::string_view address) const {
  if (m_nets.empty()) return true;
  boost::system::error_code ec;
  auto a = boost::asio::ip::make_address(std::string(address), ec);
  if (ec) return false;
  if (a.is_v6() && a.to_v6().is_v4_mapped())
    a = boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, a.to_v6());
  const auto bytes = bytes_of(a);
  for (const auto& net : m_nets) {
    if (net.bytes.size() != bytes.size()) continue;
    unsigned bits = net.prefix, i = 0;
    bool match = true;
    for (; bits >= 8; bits -= 8, ++i)
      if (bytes[i] != net.bytes[i]) match = false;
    if (match && bits > 0) {
      const unsigned char mask = static_cast<unsigned char>(0xff << (8 - bits));
      match = (bytes[i] & mask) == (net.bytes[i] & mask);
    }
    if (match) return true;
  }
  return false;
}

std::string filter_sdp_candidates(std::string_view sdp, const Networks& networks, bool relay_only) {
  if (networks.empty() && !relay_only) return std::string(sdp);
  std::string out;
  out.reserve(sdp.size());
  while (!sdp.empty()) {
    auto end = sdp.find('\n');
    auto line = sdp.substr(0, end == std::string_view::npos ? sdp.size() : end + 1);
    sdp.remove_prefix(line.size());
    if (is_candidate_line(line)) {
      auto bare = line.substr(2);
      while (!bare.empty() && (bare.back() == '\n' || bare.back() == '\r')) bare.remove_suffix(1);
      auto address = check_candidate(bare);
      if (!address || !networks.allows(*address)) continue;
      if (relay_only && bare.find(" typ relay") == std::string_view::npos) continue;
    }
    out += line;
  }
  return out;
}

}  // namespace kith::calls
