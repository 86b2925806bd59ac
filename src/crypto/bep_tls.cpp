#include "crypto/bep_tls.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "crypto/openssl_util.hpp"

namespace kith::crypto {
namespace {

using detail::bad;
using detail::PkeyPtr;
using detail::X509Ptr;
using ExtPtr = std::unique_ptr<X509_EXTENSION, detail::Deleter<X509_EXTENSION, X509_EXTENSION_free>>;

Error internal(const std::string& what) {
  return Error{base::make_error_code(base::errc::internal), detail::openssl_error(what)};
}

// Fixed validity: any date in the certificate would change the device ID if it moved. Nobody checks
// it (Syncthing and kith pin the certificate's hash); 9999-12-31 is RFC 5280's "no expiry".
constexpr const char* NOT_BEFORE = "20000101000000Z";
constexpr const char* NOT_AFTER = "99991231235959Z";
constexpr const char* NAME = "syncthing";
constexpr std::string_view ALPN_ARG = BEP_ALPN;  // select_alpn's argument: it must outlive every context

}  // namespace

class BepKey {
 public:
  static PkeyPtr private_key(const SigningKey& k) {
    return PkeyPtr(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, k.m_secret.data(), 32));
  }
};

namespace {

Result<X509Ptr> build_certificate(EVP_PKEY* key) {
  X509Ptr cert(X509_new());
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  if (ASN1_TIME_set_string(X509_getm_notBefore(cert.get()), NOT_BEFORE) != 1 ||
      ASN1_TIME_set_string(X509_getm_notAfter(cert.get()), NOT_AFTER) != 1)
    return tl::unexpected(internal("BEP certificate validity"));
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(NAME), -1, -1,
                             0);
  X509_set_issuer_name(cert.get(), name);
  ExtPtr san(X509V3_EXT_conf_nid(nullptr, nullptr, NID_subject_alt_name, "DNS:syncthing"));
  if (!san || X509_add_ext(cert.get(), san.get(), -1) != 1 || X509_sign(cert.get(), key, nullptr) == 0)
    return tl::unexpected(internal("building the BEP certificate"));
  return cert;
}

std::string der_of(X509* cert) {
  unsigned char* der = nullptr;
  const int len = i2d_X509(cert, &der);
  if (len <= 0) return {};
  std::string out(reinterpret_cast<const char*>(der), static_cast<std::size_t>(len));
  OPENSSL_free(der);
  return out;
}

}  // namespace

Result<std::string> bep_certificate(const SigningKey& device) {
  PkeyPtr key = BepKey::private_key(device);
  if (!key) return tl::unexpected(internal("device key for TLS"));
  auto cert = build_certificate(key.get());
  if (!cert) return tl::unexpected(cert.error());
  auto der = der_of(cert->get());
  if (der.empty()) return tl::unexpected(internal("encoding the BEP certificate"));
  return der;
}

Result<std::shared_ptr<boost::asio::ssl::context>> make_bep_context(const SigningKey& device, TlsRole role) {
  auto ctx = std::make_shared<boost::asio::ssl::context>(role == TlsRole::server
                                                             ? boost::asio::ssl::context::tls_server
                                                             : boost::asio::ssl::context::tls_client);
  SSL_CTX* c = ctx->native_handle();
  SSL_CTX_set_min_proto_version(c, TLS1_3_VERSION);
  SSL_CTX_set_options(c, SSL_OP_NO_TICKET);
  SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
  PkeyPtr key = BepKey::private_key(device);
  if (!key) return tl::unexpected(internal("device key for TLS"));
  auto cert = build_certificate(key.get());
  if (!cert) return tl::unexpected(cert.error());
  if (SSL_CTX_use_certificate(c, cert->get()) != 1 || SSL_CTX_use_PrivateKey(c, key.get()) != 1)
    return tl::unexpected(internal("loading the BEP certificate"));
  SSL_CTX_set_verify(c, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, detail::accept_self_signed);
  if (role == TlsRole::server) {
    SSL_CTX_set_alpn_select_cb(c, detail::select_alpn, const_cast<std::string_view*>(&ALPN_ARG));
  } else {
    std::string protos(1, static_cast<char>(BEP_ALPN.size()));
    protos += BEP_ALPN;
    SSL_CTX_set_alpn_protos(c, reinterpret_cast<const unsigned char*>(protos.data()),
                            static_cast<unsigned>(protos.size()));
  }
  return ctx;
}

Result<std::string> bep_peer_certificate(SSL* ssl) {
  const unsigned char* alpn = nullptr;
  unsigned alpn_len = 0;
  SSL_get0_alpn_selected(ssl, &alpn, &alpn_len);
  if (std::string_view(reinterpret_cast<const char*>(alpn), alpn ? alpn_len : 0) != BEP_ALPN)
    return tl::unexpected(bad("the peer did not negotiate ALPN bep/1.0"));
  X509Ptr cert(SSL_get1_peer_certificate(ssl));
  if (!cert) return tl::unexpected(bad("the peer sent no certificate"));
  auto der = der_of(cert.get());
  if (der.empty()) return tl::unexpected(bad("the peer's certificate cannot be encoded"));
  return der;
}

}  // namespace kith::crypto
