#pragma once
// TLS for folder sync (Syncthing's Block Exchange Protocol, docs/protocol/bep.md). A node presents a
// self-signed X.509 certificate for its Ed25519 device key, as for contact channels, but:
//   - the certificate is the same bytes at every start (fixed serial and validity; Ed25519 signatures
//     are deterministic), because a Syncthing device ID is the SHA-256 of the certificate's DER: a
//     certificate rebuilt with a new date would be a new device to every peer;
//   - its CommonName and DNS name are "syncthing": Syncthing drops a device whose certificate names
//     anything else unless its user configured that name (lib/connections/service.go);
//   - ALPN "bep/1.0", TLS 1.3 (Syncthing's default minimum), a client certificate required.
// Identity is the peer certificate's hash, checked by the caller against the devices it accepts.
#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>
#include <string_view>

#include "base/error.hpp"
#include "crypto/sign.hpp"
#include "crypto/tls.hpp"

namespace kith::crypto {

inline constexpr std::string_view BEP_ALPN = "bep/1.0";

// The DER of this device's BEP certificate: the same for the same key.
Result<std::string> bep_certificate(const SigningKey& device);

Result<std::shared_ptr<boost::asio::ssl::context>> make_bep_context(const SigningKey& device, TlsRole role);

// After a completed handshake: the DER of the peer's certificate. base::errc::bad_input when "bep/1.0"
// was not negotiated or no certificate was sent. The certificate's signature is not checked: the
// TLS handshake proved the peer holds its key, and the caller pins the certificate's hash.
Result<std::string> bep_peer_certificate(SSL* ssl);

}  // namespace kith::crypto
