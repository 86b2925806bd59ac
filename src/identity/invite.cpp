#include "identity/invite.hpp"

#include "base/base32.hpp"
#include "base/endpoint.hpp"
#include "base/url.hpp"
#include "identity/kith_id.hpp"

namespace kith::identity {
namespace {

constexpr std::string_view SCHEME = "kith:";

Error bad(const std::string& why) {
  return Error{base::make_error_code(base::errc::bad_input), "not a kith invite: " + why};
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<std::string> percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i] == '+' ? ' ' : s[i];
      continue;
    }
    if (i + 2 >= s.size()) return tl::unexpected(bad("a '%' escape is cut short"));
    int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
    if (hi < 0 || lo < 0) return tl::unexpected(bad("a '%' escape is not two hex digits"));
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

}  // namespace

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > MAX_NAME) return false;
  for (unsigned char c : name)
    if (c < 0x20 || c == 0x7f) return false;
  return true;
}

namespace {

// A hint is for other machines: an interface name ("[fe80::1%eth0]") means nothing to them.
Status check_address_hint(std::string_view hint) {
  auto hp = base::parse_host_port(hint);
  if (!hp) return tl::unexpected(hp.error());
  if (hp->host.find('%') != std::string::npos)
    return fail(base::make_error_code(base::errc::bad_input), "an address with an interface ('%') is local");
  return {};
}

}  // namespace

bool valid_address_hint(std::string_view hint) { return check_address_hint(hint).has_value(); }

bool valid_bell(std::string_view bell) {
  auto raw = base::base32_decode(bell);
  return raw && raw->size() == BELL_BYTES;
}

std::string format_invite(const Invite& invite) {
  std::string out = std::string(SCHEME) + encode_id(invite.key);
  char sep = '?';
  if (!invite.name.empty()) {
    out += sep;
    out += "name=" + base::percent_encode(invite.name);
    sep = '&';
  }
  for (const auto& a : invite.addrs) {
    out += sep;
    out += "addr=" + base::percent_encode(a);
    sep = '&';
  }
  if (!invite.bell.empty()) out += std::string(1, sep) + "bell=" + invite.bell;
  return out;
}

Result<Invite> parse_invite(std::string_view text) {
  if (text.size() > MAX_INVITE)
    return tl::unexpected(bad("longer than " + std::to_string(MAX_INVITE) + " bytes"));
  Invite inv;
  std::string_view rest = text;
  if (rest.substr(0, SCHEME.size()) == SCHEME) rest.remove_prefix(SCHEME.size());
  auto q = rest.find('?');
  auto id = rest.substr(0, q);
  auto key = decode_id(id);
  if (!key) return tl::unexpected(bad(key.error().message));
  inv.key = *key;
  inv.id = encode_id(*key);
  std::string_view query = q == std::string_view::npos ? std::string_view{} : rest.substr(q + 1);
  bool named = false;
  while (!query.empty()) {
    auto amp = query.find('&');
    auto part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (part.empty()) continue;
    auto eq = part.find('=');
    if (eq == std::string_view::npos)
      return tl::unexpected(bad("parameter '" + std::string(part) + "' has no value"));
    auto k = part.substr(0, eq);
    auto v = percent_decode(part.substr(eq + 1));
    if (!v) return tl::unexpected(v.error());
    if (k == "name") {
      if (named) return tl::unexpected(bad("name appears twice"));
      if (!valid_name(*v))
        return tl::unexpected(bad("the name must be 1-64 bytes without control characters"));
      inv.name = *v;
      named = true;
    } else if (k == "addr") {
      if (inv.addrs.size() == MAX_ADDRS) return tl::unexpected(bad("more than 8 addresses"));
      // The reason, not the text: an invite comes from someone else.
      if (auto ok = check_address_hint(*v); !ok)
        return tl::unexpected(bad("an address is not host:port: " + ok.error().message));
      inv.addrs.push_back(*v);
    } else if (k == "bell") {
      if (!inv.bell.empty()) return tl::unexpected(bad("bell appears twice"));
      if (!valid_bell(*v)) return tl::unexpected(bad("the bell is not 16 bytes in base32"));
      inv.bell = base::base32_encode(*base::base32_decode(*v));  // lower case, as we write it
    }
    // Unknown parameters are ignored, so later versions can add some.
  }
  return inv;
}

}  // namespace kith::identity
