#include "net/stun.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <cstdlib>
#include <cstring>

#include "base/endpoint.hpp"
#include "net/detail.hpp"

namespace kith::net {
namespace ip = boost::asio::ip;

namespace {

constexpr std::uint32_t FINGERPRINT_XOR = 0x5354554e;
constexpr std::size_t INTEGRITY_SIZE = 20;  // HMAC-SHA1

std::uint16_t get16(std::string_view b, std::size_t at) {
  return static_cast<std::uint16_t>(static_cast<std::uint8_t>(b[at]) << 8 |
                                    static_cast<std::uint8_t>(b[at + 1]));
}
std::uint32_t get32(std::string_view b, std::size_t at) {
  return std::uint32_t{get16(b, at)} << 16 | get16(b, at + 2);
}
void put16(std::string& out, std::uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v & 0xff));
}
void put32(std::string& out, std::uint32_t v) {
  put16(out, static_cast<std::uint16_t>(v >> 16));
  put16(out, static_cast<std::uint16_t>(v & 0xffff));
}
void set16(std::string& out, std::size_t at, std::uint16_t v) {
  out[at] = static_cast<char>(v >> 8);
  out[at + 1] = static_cast<char>(v & 0xff);
}
std::size_t padded(std::size_t n) { return (n + 3) & ~std::size_t{3}; }

// The method's 12 bits and the class's 2 are interleaved in the type field (RFC 8489 § 5).
std::uint16_t message_type(StunMethod method, StunClass cls) {
  const auto m = static_cast<std::uint16_t>(method) & 0x0fff;
  const auto c = static_cast<std::uint16_t>(cls);
  return static_cast<std::uint16_t>((m & 0x000f) | (m & 0x0070) << 1 | (m & 0x0f80) << 2 | (c & 1) << 4 |
                                    (c & 2) << 7);
}

std::uint32_t crc32(std::string_view data) {
  static const auto table = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  std::uint32_t c = 0xffffffffu;
  for (unsigned char byte : data) c = table[(c ^ byte) & 0xff] ^ (c >> 8);
  return c ^ 0xffffffffu;
}

std::string hmac_sha1(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  HMAC(EVP_sha1(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &n);
  return std::string(reinterpret_cast<const char*>(out), n);
}

void append_attribute(std::string& out, std::uint16_t type, std::string_view value) {
  put16(out, type);
  put16(out, static_cast<std::uint16_t>(value.size()));
  out.append(value);
  out.append(padded(value.size()) - value.size(), '\0');
}

// Where the first MESSAGE-INTEGRITY attribute starts in `raw`, or npos (also for malformed input).
std::size_t integrity_offset(std::string_view raw) {
  if (raw.size() < STUN_HEADER_SIZE) return std::string_view::npos;
  std::size_t at = STUN_HEADER_SIZE;
  while (at + 4 <= raw.size()) {
    const auto type = get16(raw, at), len = get16(raw, at + 2);
    if (type == stun_attr::MESSAGE_INTEGRITY) return at;
    at += 4 + padded(len);
  }
  return std::string_view::npos;
}

}  // namespace

const std::string* StunMessage::find(std::uint16_t type) const {
  for (const auto& a : attributes)
    if (a.type == type) return &a.value;
  return nullptr;
}

std::string StunAddress::to_string() const {
  auto a = ip;
  if (a.is_v6() && a.to_v6().is_v4_mapped()) a = ip::make_address_v4(ip::v4_mapped, a.to_v6());
  return base::join_host_port(a.to_string(), port);
}

StunTransactionId random_transaction_id() {
  StunTransactionId id{};
  if (RAND_bytes(id.data(), static_cast<int>(id.size())) != 1) {
    // Transaction ids only match answers to questions (RFC 8489 § 6: not a secret); never happens.
    for (auto& b : id) b = static_cast<std::uint8_t>(std::rand());
  }
  return id;
}

// FINGERPRINT over the message so far, with the length field already counting it.
static void append_fingerprint(std::string& out) {
  set16(out, 2, static_cast<std::uint16_t>(out.size() - STUN_HEADER_SIZE + 8));
  std::string fp;
  put32(fp, crc32(out) ^ FINGERPRINT_XOR);
  append_attribute(out, stun_attr::FINGERPRINT, fp);
}

std::string encode(const StunMessage& msg, std::optional<std::string_view> integrity_key) {
  std::string out;
  put16(out, message_type(msg.method, msg.cls));
  put16(out, 0);  // length, set below
  put32(out, STUN_MAGIC_COOKIE);
  out.append(reinterpret_cast<const char*>(msg.transaction_id.data()), msg.transaction_id.size());
  for (const auto& a : msg.attributes) {
    if (integrity_key && (a.type == stun_attr::MESSAGE_INTEGRITY || a.type == stun_attr::FINGERPRINT))
      continue;
    append_attribute(out, a.type, std::string_view(a.value).substr(0, 0xffff));
  }
  if (integrity_key) {
    // Each is computed over the message so far with the length field already counting it.
    set16(out, 2, static_cast<std::uint16_t>(out.size() - STUN_HEADER_SIZE + 4 + INTEGRITY_SIZE));
    append_attribute(out, stun_attr::MESSAGE_INTEGRITY, hmac_sha1(*integrity_key, out));
    append_fingerprint(out);
  }
  set16(out, 2, static_cast<std::uint16_t>(out.size() - STUN_HEADER_SIZE));
  return out;
}

std::string encode_with_fingerprint(const StunMessage& msg) {
  std::string out = encode(msg, std::nullopt);
  append_fingerprint(out);
  set16(out, 2, static_cast<std::uint16_t>(out.size() - STUN_HEADER_SIZE));
  return out;
}

std::size_t stun_frame_size(std::string_view h) {
  if (h.size() < STUN_HEADER_SIZE) return 0;
  if ((static_cast<std::uint8_t>(h[0]) & 0xc0) != 0 || get32(h, 4) != STUN_MAGIC_COOKIE) return 0;
  const std::size_t length = get16(h, 2);
  if (length % 4 != 0 || STUN_HEADER_SIZE + length > STUN_MAX_SIZE) return 0;
  return STUN_HEADER_SIZE + length;
}

Result<StunMessage> parse_stun(std::string_view b) {
  if (b.size() < STUN_HEADER_SIZE)
    return tl::unexpected(detail::bad("a STUN message shorter than its header"));
  if (b.size() > STUN_MAX_SIZE) return tl::unexpected(detail::bad("a STUN message over 64 KiB"));
  if (stun_frame_size(b) == 0)
    return tl::unexpected(detail::bad("not a STUN message (type bits, magic cookie or length)"));
  if (stun_frame_size(b) != b.size())
    return tl::unexpected(detail::bad("a STUN message whose length field disagrees with its size"));
  StunMessage msg;
  const auto type = get16(b, 0);
  msg.cls = static_cast<StunClass>((type >> 4 & 1) | (type >> 7 & 2));
  msg.method = static_cast<StunMethod>((type & 0x000f) | (type >> 1 & 0x0070) | (type >> 2 & 0x0f80));
  std::memcpy(msg.transaction_id.data(), b.data() + 8, msg.transaction_id.size());
  bool after_integrity = false;
  for (std::size_t at = STUN_HEADER_SIZE; at < b.size();) {
    if (at + 4 > b.size()) return tl::unexpected(detail::bad("a STUN attribute header past the end"));
    const auto atype = get16(b, at);
    const std::size_t len = get16(b, at + 2);
    if (at + 4 + padded(len) > b.size()) return tl::unexpected(detail::bad("a STUN attribute past the end"));
    const auto value = b.substr(at + 4, len);
    const std::size_t next = at + 4 + padded(len);
    if (atype == stun_attr::FINGERPRINT) {
      if (len != 4 || next != b.size())
        return tl::unexpected(detail::bad("a STUN FINGERPRINT that is not the last 4-byte attribute"));
      std::string head(b.substr(0, at));
      if (crc32(head) ^ FINGERPRINT_XOR ^ get32(value, 0))
        return tl::unexpected(detail::bad("a STUN message whose FINGERPRINT does not match"));
    } else if (atype == stun_attr::MESSAGE_INTEGRITY && !after_integrity && len != INTEGRITY_SIZE) {
      return tl::unexpected(detail::bad("a STUN MESSAGE-INTEGRITY that is not 20 bytes"));
    }
    if (!after_integrity || atype == stun_attr::FINGERPRINT) msg.add(atype, std::string(value));
    if (atype == stun_attr::MESSAGE_INTEGRITY) after_integrity = true;
    at = next;
  }
  return msg;
}

bool check_integrity(std::string_view raw, std::string_view key) {
  const auto at = integrity_offset(raw);
  if (at == std::string_view::npos || at + 4 + INTEGRITY_SIZE > raw.size() ||
      get16(raw, at + 2) != INTEGRITY_SIZE)
    return false;
  std::string covered(raw.substr(0, at));
  set16(covered, 2, static_cast<std::uint16_t>(at - STUN_HEADER_SIZE + 4 + INTEGRITY_SIZE));
  const auto mac = hmac_sha1(key, covered);
  return mac.size() == INTEGRITY_SIZE && CRYPTO_memcmp(mac.data(), raw.data() + at + 4, INTEGRITY_SIZE) == 0;
}

std::string long_term_key(std::string_view username, std::string_view realm, std::string_view password) {
  std::string input;
  input.append(username).append(":").append(realm).append(":").append(password);
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(input.data(), input.size(), out, &n, EVP_md5(), nullptr);
  return std::string(reinterpret_cast<const char*>(out), n);
}

namespace {

// The address bytes XORed with the cookie and, for IPv6, the transaction id (RFC 8489 § 14.2).
std::string xor_mask(const StunTransactionId& id) {
  std::string mask;
  put32(mask, STUN_MAGIC_COOKIE);
  mask.append(reinterpret_cast<const char*>(id.data()), id.size());
  return mask;
}

std::string plain_value(const StunAddress& a, const std::string* mask) {
  auto addr = a.ip;
  if (addr.is_v6() && addr.to_v6().is_v4_mapped()) addr = ip::make_address_v4(ip::v4_mapped, addr.to_v6());
  std::string out;
  out.push_back('\0');
  out.push_back(addr.is_v4() ? 0x01 : 0x02);
  put16(out, static_cast<std::uint16_t>(a.port ^ (mask ? STUN_MAGIC_COOKIE >> 16 : 0)));
  std::string bytes;
  if (addr.is_v4()) {
    const auto v = addr.to_v4().to_bytes();
    bytes.assign(v.begin(), v.end());
  } else {
    const auto v = addr.to_v6().to_bytes();
    bytes.assign(v.begin(), v.end());
  }
  if (mask)
    for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(bytes[i] ^ (*mask)[i]);
  return out + bytes;
}

std::optional<StunAddress> parse_value(std::string_view v, const std::string* mask) {
  if (v.size() < 4) return std::nullopt;
  const auto family = static_cast<std::uint8_t>(v[1]);
  const std::size_t size = family == 0x01 ? 4 : family == 0x02 ? 16 : 0;
  if (size == 0 || v.size() != 4 + size) return std::nullopt;
  std::string bytes(v.substr(4));
  if (mask)
    for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(bytes[i] ^ (*mask)[i]);
  StunAddress a;
  a.port = static_cast<std::uint16_t>(get16(v, 2) ^ (mask ? STUN_MAGIC_COOKIE >> 16 : 0));
  if (size == 4) {
    ip::address_v4::bytes_type b;
    std::memcpy(b.data(), bytes.data(), 4);
    a.ip = ip::address_v4(b);
  } else {
    ip::address_v6::bytes_type b;
    std::memcpy(b.data(), bytes.data(), 16);
    a.ip = ip::address_v6(b);
  }
  return a;
}

}  // namespace

std::string xor_address_value(const StunAddress& address, const StunTransactionId& id) {
  const auto mask = xor_mask(id);
  return plain_value(address, &mask);
}

std::optional<StunAddress> parse_xor_address(std::string_view value, const StunTransactionId& id) {
  const auto mask = xor_mask(id);
  return parse_value(value, &mask);
}

std::string address_value(const StunAddress& address) { return plain_value(address, nullptr); }

std::optional<StunAddress> parse_address(std::string_view value) { return parse_value(value, nullptr); }

std::optional<StunAddress> xor_address(const StunMessage& msg, std::uint16_t type) {
  const auto* v = msg.find(type);
  if (!v) return std::nullopt;
  return parse_xor_address(*v, msg.transaction_id);
}

std::optional<std::uint32_t> u32_attribute(const StunMessage& msg, std::uint16_t type) {
  const auto* v = msg.find(type);
  if (!v || v->size() != 4) return std::nullopt;
  return get32(*v, 0);
}

void add_u32(StunMessage& msg, std::uint16_t type, std::uint32_t value) {
  std::string v;
  put32(v, value);
  msg.add(type, std::move(v));
}

std::optional<StunError> error_code(const StunMessage& msg) {
  const auto* v = msg.find(stun_attr::ERROR_CODE);
  if (!v || v->size() < 4) return std::nullopt;
  const int cls = static_cast<std::uint8_t>((*v)[2]) & 0x07, number = static_cast<std::uint8_t>((*v)[3]);
  if (cls < 3 || cls > 6 || number > 99) return std::nullopt;
  auto reason = v->substr(4);
  // coturn counts the padding in the length, so its reasons end in NULs.
  while (!reason.empty() && reason.back() == '\0') reason.pop_back();
  return StunError{cls * 100 + number, std::move(reason)};
}

void add_error_code(StunMessage& msg, int code, std::string_view reason) {
  std::string v(2, '\0');
  v.push_back(static_cast<char>(code / 100));
  v.push_back(static_cast<char>(code % 100));
  v.append(reason.substr(0, 763));  // RFC 8489 § 14.8: fewer than 128 characters, up to 763 bytes
  msg.add(stun_attr::ERROR_CODE, std::move(v));
}

void add_requested_transport(StunMessage& msg, std::uint8_t protocol) {
  std::string v(4, '\0');
  v[0] = static_cast<char>(protocol);
  msg.add(stun_attr::REQUESTED_TRANSPORT, std::move(v));
}

}  // namespace kith::net
