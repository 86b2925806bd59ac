#pragma once
// TLS contexts for contact channels (OpenSSL through Boost.Asio). Each node presents a self-signed
// X.509 certificate for its Ed25519 device key, carrying the device certificate (identity/device.hpp)
// in a private extension (OID CHANNEL_CERT_OID). There is no CA: after the handshake the caller reads
// the peer's key and extension with peer_identity() and pins it to the key it expects.
// TLS 1.3 only, ALPN "kith/1" required on both sides, a client certificate required, no session
// tickets (a resumed session would skip the certificates). See docs/protocol/channel.md.
#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>
#include <string_view>

#include "base/error.hpp"
#include "crypto/sign.hpp"

typedef struct ssl_st SSL;

namespace kith::crypto {

// 2.25.<UUID> (ITU-T X.667: an OID anyone may mint from a random UUID, no registration needed).
inline constexpr const char* CHANNEL_CERT_OID = "2.25.156018124450026349480807266049462123290";
inline constexpr std::string_view ALPN = "kith/1";

enum class TlsRole { client, server };

// `extension`: bytes to carry in the certificate (the device certificate).
Result<std::shared_ptr<boost::asio::ssl::context>> make_channel_context(const SigningKey& device,
                                                                        std::string_view extension,
                                                                        TlsRole role);

struct TlsPeer {
  PublicKey key{};        // the Ed25519 key of the peer's certificate (it proved possession in the handshake)
  std::string extension;  // the bytes of its CHANNEL_CERT_OID extension
};

// After a completed handshake: the peer's certificate is an Ed25519 certificate signed by its own key,
// carries the extension, and "kith/1" was negotiated. base::errc::bad_input says what is missing.
Result<TlsPeer> peer_identity(SSL* ssl);

}  // namespace kith::crypto
