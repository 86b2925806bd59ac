// Fuzzes what identity parses from outside: kith IDs (typed or pasted by people) and the publisher
// signature parameters of magnet links, invite links and device certificates, and the host:port parser
// under their address hints. Invariants: a decoded ID encodes back to the same text (modulo case); a
// parsed invite formats and parses back to the same; a parsed host:port formats back to text that
// parses to the same host, port and kind.
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "base/endpoint.hpp"
#include "identity/device.hpp"
#include "identity/invite.hpp"
#include "identity/kith_id.hpp"
#include "identity/link_signature.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  if (auto key = kith::identity::decode_id(input)) {
    std::string lower(input);
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (kith::identity::encode_id(*key) != lower) std::abort();
  }
  if (auto sig = kith::identity::parse_link_signature(input); sig && *sig) {
    (void)kith::identity::verify_link_signature(**sig, "", "");
  }
  if (auto inv = kith::identity::parse_invite(input)) {
    auto again = kith::identity::parse_invite(kith::identity::format_invite(*inv));
    if (!again || again->key != inv->key || again->name != inv->name || again->addrs != inv->addrs)
      std::abort();
  }
  if (auto hp = kith::base::parse_host_port(input, kith::base::PortRule::allow_zero)) {
    auto again = kith::base::parse_host_port(hp->to_string(), kith::base::PortRule::allow_zero);
    if (!again || again->host != hp->host || again->port != hp->port || again->kind != hp->kind) std::abort();
  }
  if (auto cert = kith::identity::decode_device_cert(input)) {
    (void)kith::identity::verify_device_cert(*cert);
    if (kith::identity::encode_device_cert(*cert) != input) std::abort();
  }
  return 0;
}
