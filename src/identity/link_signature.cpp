#include "identity/link_signature.hpp"

#include "base/hex.hpp"
#include "identity/kith_id.hpp"

namespace kith::identity {
namespace {

Error bad(const std::string& why) {
  return Error{base::make_error_code(base::errc::bad_input),
               "the link's publisher signature is malformed: " + why};
}

}  // namespace

std::string share_message(std::string_view v1, std::string_view v2) {
  return "kith-share-v1\n" + std::string(v1) + "\n" + std::string(v2);
}

std::string signature_params(const crypto::SigningKey& key, std::string_view v1, std::string_view v2) {
  const auto sig = key.sign(share_message(v1, v2));
  return "&x.kith.pk=" + encode_id(key.public_key()) + "&x.kith.sig=" +
         base::to_hex(std::string_view(reinterpret_cast<const char*>(sig.data()), sig.size()));
}

Result<std::optional<LinkSignature>> parse_link_signature(std::string_view link) {
  auto q = link.find('?');
  if (q == std::string_view::npos) return std::optional<LinkSignature>{};
  std::optional<std::string> pk, sig;
  std::string_view rest = link.substr(q + 1);
  while (!rest.empty()) {
    auto amp = rest.find('&');
    auto part = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    auto eq = part.find('=');
    if (eq == std::string_view::npos) continue;
    auto key = part.substr(0, eq);
    auto value = std::string(part.substr(eq + 1));
    if (key == "x.kith.pk" || key == "x.kith.sig") {
      auto& slot = key == "x.kith.pk" ? pk : sig;
      if (slot) return tl::unexpected(bad(std::string(key) + " appears twice"));
      slot = value;
    }
  }
  if (!pk && !sig) return std::optional<LinkSignature>{};
  if (!pk || !sig) return tl::unexpected(bad("it needs both x.kith.pk and x.kith.sig"));
  auto key = decode_id(*pk);
  if (!key) return tl::unexpected(bad(key.error().message));
  auto raw = base::from_hex(*sig);
  if (!raw || raw->size() != 64) return tl::unexpected(bad("x.kith.sig must be 128 hex digits"));
  LinkSignature out;
  out.signer = *pk;
  out.key = *key;
  std::copy(raw->begin(), raw->end(), out.signature.begin());
  return std::optional<LinkSignature>{out};
}

bool verify_link_signature(const LinkSignature& s, std::string_view v1, std::string_view v2) {
  return crypto::verify(s.key, share_message(v1, v2), s.signature);
}

}  // namespace kith::identity
