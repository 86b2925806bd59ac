#include "lan/beacon.hpp"

#include <algorithm>

namespace kith::lan {
namespace {

constexpr std::size_t CERT_AT = BEACON_MAGIC.size();
constexpr std::size_t PORT_AT = CERT_AT + identity::DEVICE_CERT_SIZE;
constexpr std::size_t SEQUENCE_AT = PORT_AT + 2;
constexpr std::size_t SIGNATURE_AT = SEQUENCE_AT + 8;
static_assert(SIGNATURE_AT + 64 == BEACON_SIZE);

tl::unexpected<Error> bad(std::string message) {
  return fail(base::make_error_code(base::errc::bad_input), "LAN beacon: " + std::move(message));
}

void put_be(std::string& out, std::uint64_t value, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

std::uint64_t get_be(std::string_view in, std::size_t at, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<unsigned char>(in[at + i]);
  return v;
}

}  // namespace

std::string encode_beacon(const Beacon& beacon, const SignFunction& sign_with_device_key) {
  std::string out;
  out.reserve(BEACON_SIZE);
  out.append(BEACON_MAGIC);
  out.append(identity::encode_device_cert(beacon.cert));
  put_be(out, beacon.port, 2);
  put_be(out, beacon.sequence, 8);
  const crypto::Signature sig = sign_with_device_key(out);
  out.append(reinterpret_cast<const char*>(sig.data()), sig.size());
  return out;
}

bool looks_like_beacon(std::string_view datagram) {
  return datagram.size() == BEACON_SIZE && datagram.substr(0, BEACON_MAGIC.size()) == BEACON_MAGIC;
}

Result<Beacon> parse_beacon_unverified(std::string_view datagram) {
  if (datagram.size() != BEACON_SIZE)
    return bad("a beacon is " + std::to_string(BEACON_SIZE) + " bytes, not " +
               std::to_string(datagram.size()));
  if (datagram.substr(0, BEACON_MAGIC.size()) != BEACON_MAGIC) return bad("wrong magic (not KITHLAN1)");
  auto cert = identity::decode_device_cert(datagram.substr(CERT_AT, identity::DEVICE_CERT_SIZE));
  if (!cert) return bad(cert.error().message);
  Beacon b;
  b.cert = *cert;
  b.port = static_cast<std::uint16_t>(get_be(datagram, PORT_AT, 2));
  b.sequence = get_be(datagram, SEQUENCE_AT, 8);
  return b;
}

Result<Beacon> decode_beacon(std::string_view datagram) {
  auto b = parse_beacon_unverified(datagram);
  if (!b) return b;
  if (!identity::verify_device_cert(b->cert))
    return bad("the device certificate's signature does not verify under its user key");
  crypto::Signature sig;
  std::copy_n(reinterpret_cast<const std::uint8_t*>(datagram.data()) + SIGNATURE_AT, sig.size(), sig.begin());
  if (!crypto::verify(b->cert.device, datagram.substr(0, SIGNATURE_AT), sig))
    return bad("the beacon's signature does not verify under the certificate's device key");
  return b;
}

}  // namespace kith::lan
