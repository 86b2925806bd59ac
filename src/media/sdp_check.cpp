// The checks on what a peer sends (call.hpp): descriptions, candidates, and the address filter that
// keeps ICE inside Options::ice_networks. Pure functions; GStreamer's SDP parser is the only library.
#include <arpa/inet.h>
#include <gst/sdp/sdp.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstring>

#include "media/call.hpp"
#include "media/detail.hpp"

namespace kith::media {
namespace {

bool printable_line_text(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](unsigned char c) { return (c >= 0x20 && c <= 0x7e) || c == '\r' || c == '\n'; });
}

struct SdpMessage {
  GstSDPMessage* msg = nullptr;
  SdpMessage() { gst_sdp_message_new(&msg); }
  ~SdpMessage() { gst_sdp_message_free(msg); }
  SdpMessage(const SdpMessage&) = delete;
  SdpMessage& operator=(const SdpMessage&) = delete;
};

// "sha-256 AB:CD:...": a known hash, then hex pairs of its length.
bool fingerprint_well_formed(std::string_view value) {
  const auto space = value.find(' ');
  if (space == std::string_view::npos) return false;
  const auto fp = parse_fingerprint(value);
  return fp.has_value();
}

}  // namespace

std::optional<Fingerprint> parse_fingerprint(std::string_view value) {
  const auto space = value.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  std::string hash(value.substr(0, space));
  std::transform(hash.begin(), hash.end(), hash.begin(), [](unsigned char c) { return std::tolower(c); });
  std::size_t bytes = 0;
  if (hash == "sha-1")
    bytes = 20;
  else if (hash == "sha-256")
    bytes = 32;
  else if (hash == "sha-384")
    bytes = 48;
  else if (hash == "sha-512")
    bytes = 64;
  else
    return std::nullopt;
  auto hex = value.substr(space + 1);
  while (!hex.empty() && (hex.back() == ' ' || hex.back() == '\r')) hex.remove_suffix(1);
  if (hex.size() != bytes * 3 - 1) return std::nullopt;
  Fingerprint fp{hash, {}};
  for (std::size_t i = 0; i < bytes; ++i) {
    if (i > 0 && hex[i * 3 - 1] != ':') return std::nullopt;
    unsigned v = 0;
    const char* b = hex.data() + i * 3;
    if (std::from_chars(b, b + 2, v, 16).ptr != b + 2) return std::nullopt;
    fp.digest.push_back(static_cast<std::uint8_t>(v));
  }
  return fp;
}

Status check_sdp(std::string_view type, std::string_view sdp) {
  if (type != "offer" && type != "answer")
    return tl::unexpected(bad("a description that is neither offer nor answer"));
  if (sdp.size() > MAX_SDP_SIZE) return tl::unexpected(bad("a description over 64 KiB"));
  if (sdp.rfind("v=0", 0) != 0) return tl::unexpected(bad("a description that is not SDP"));
  if (!printable_line_text(sdp)) return tl::unexpected(bad("a description with control characters"));
  // Lines end in CRLF or LF; a bare CR would make lines that GStreamer's parser and others split
  // differently. And no more than MAX_MLINES m-lines in the text, whatever the parser keeps of them.
  std::size_t mlines = 0;
  for (std::size_t i = 0; i < sdp.size(); ++i) {
    if (sdp[i] == '\r' && (i + 1 == sdp.size() || sdp[i + 1] != '\n'))
      return tl::unexpected(bad("a description with a bare carriage return"));
    if (sdp[i] == '\n' && sdp.substr(i + 1, 2) == "m=") ++mlines;
    // Each line is "<letter>=<value>", the value not starting with blanks (GStreamer's parser skips
    // them, other parsers would not: "a= fingerprint:" must not count as a fingerprint here only).
    if (sdp[i] == '\n' && i + 1 < sdp.size()) {
      const auto line = sdp.substr(i + 1, 3);
      if (line.size() < 2 || !std::islower(static_cast<unsigned char>(line[0])) || line[1] != '=' ||
          (line.size() == 3 && line[2] == ' '))
        return tl::unexpected(bad("a description with a malformed line"));
    }
  }
  if (mlines > MAX_MLINES) return tl::unexpected(bad("a description with more than 4 m-lines"));
  SdpMessage m;
  if (gst_sdp_message_parse_buffer(reinterpret_cast<const guint8*>(sdp.data()),
                                   static_cast<guint>(sdp.size()), m.msg) != GST_SDP_OK)
    return tl::unexpected(bad("a description that does not parse"));
  const guint n = gst_sdp_message_medias_len(m.msg);
  if (n == 0) return tl::unexpected(bad("a description without media"));
  if (n > MAX_MLINES) return tl::unexpected(bad("a description with more than 4 m-lines"));
  const char* session_fp = gst_sdp_message_get_attribute_val(m.msg, "fingerprint");
  const char* session_ufrag = gst_sdp_message_get_attribute_val(m.msg, "ice-ufrag");
  const char* session_pwd = gst_sdp_message_get_attribute_val(m.msg, "ice-pwd");
  if (session_fp && !fingerprint_well_formed(session_fp))
    return tl::unexpected(bad("a malformed DTLS fingerprint"));
  for (guint i = 0; i < n; ++i) {
    const GstSDPMedia* media = gst_sdp_message_get_media(m.msg, i);
    const char* kind = gst_sdp_media_get_media(media);
    if (!kind || (std::strcmp(kind, "audio") != 0 && std::strcmp(kind, "video") != 0))
      return tl::unexpected(bad("a description with a media line other than audio or video"));
    const char* proto = gst_sdp_media_get_proto(media);
    if (!proto ||
        (std::strcmp(proto, "UDP/TLS/RTP/SAVPF") != 0 && std::strcmp(proto, "UDP/TLS/RTP/SAVP") != 0))
      return tl::unexpected(bad("a media line not protected by DTLS-SRTP"));
    const char* fp = gst_sdp_media_get_attribute_val(media, "fingerprint");
    if (!fp) fp = session_fp;
    if (!fp) return tl::unexpected(bad("a description without a DTLS fingerprint"));
    if (!fingerprint_well_formed(fp)) return tl::unexpected(bad("a malformed DTLS fingerprint"));
    const char* ufrag = gst_sdp_media_get_attribute_val(media, "ice-ufrag");
    const char* pwd = gst_sdp_media_get_attribute_val(media, "ice-pwd");
    if (!(ufrag ? ufrag : session_ufrag) || !(pwd ? pwd : session_pwd))
      return tl::unexpected(bad("a media line without ICE credentials"));
  }
  return {};
}

Status check_candidate(std::string_view line) {
  if (line.size() > MAX_CANDIDATE_SIZE) return tl::unexpected(bad("an ICE candidate over 256 bytes"));
  if (line.rfind("candidate:", 0) != 0)
    return tl::unexpected(bad("an ICE candidate not starting with candidate:"));
  if (!std::all_of(line.begin(), line.end(), [](unsigned char c) { return c >= 0x20 && c <= 0x7e; }))
    return tl::unexpected(bad("an ICE candidate with unprintable characters"));
  return {};
}

std::string candidate_address(std::string_view line) {
  // candidate:<foundation> <component> <transport> <priority> <address> <port> typ <type> ...
  std::size_t pos = 0;
  for (int field = 0; field < 4; ++field) {
    pos = line.find(' ', pos);
    if (pos == std::string_view::npos) return {};
    while (pos < line.size() && line[pos] == ' ') ++pos;
  }
  const auto end = line.find(' ', pos);
  return std::string(line.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos));
}

bool address_allowed(const std::vector<std::string>& networks, std::string_view ip) {
  std::array<std::uint8_t, 16> addr{};
  const std::string ip_text(ip);
  int family = AF_INET;
  if (inet_pton(AF_INET, ip_text.c_str(), addr.data()) != 1) {
    family = AF_INET6;
    if (inet_pton(AF_INET6, ip_text.c_str(), addr.data()) != 1) return false;
  }
  const unsigned max_bits = family == AF_INET ? 32 : 128;
  for (const auto& n : networks) {
    const auto slash = n.find('/');
    const std::string base = n.substr(0, slash);
    unsigned bits = max_bits;
    if (slash != std::string::npos) {
      const auto* b = n.data() + slash + 1;
      const auto* e = n.data() + n.size();
      auto [p, ec] = std::from_chars(b, e, bits);
      if (ec != std::errc() || p != e || b == e || bits > max_bits) continue;
    }
    std::array<std::uint8_t, 16> net{};
    if (inet_pton(family, base.c_str(), net.data()) != 1) continue;
    bool match = true;
    for (unsigned i = 0; i < bits && match; ++i) {
      const unsigned byte = i / 8, mask = 0x80u >> (i % 8);
      match = (addr[byte] & mask) == (net[byte] & mask);
    }
    if (match) return true;
  }
  return false;
}

std::string filter_candidates(std::string_view sdp, const std::vector<std::string>& networks) {
  if (networks.empty()) return std::string(sdp);
  std::string out;
  out.reserve(sdp.size());
  std::size_t pos = 0;
  while (pos < sdp.size()) {
    auto end = sdp.find('\n', pos);
    end = end == std::string_view::npos ? sdp.size() : end + 1;
    const auto line = sdp.substr(pos, end - pos);
    pos = end;
    if (line.rfind("a=candidate:", 0) == 0 && !address_allowed(networks, candidate_address(line.substr(2))))
      continue;
    out.append(line);
  }
  return out;
}

}  // namespace kith::media
