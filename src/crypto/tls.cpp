#include "crypto/tls.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>

#include "crypto/openssl_util.hpp"

namespace kith::crypto {
namespace {

using detail::accept_self_signed;
using detail::bad;
using detail::openssl_error;
using detail::PkeyPtr;
using detail::X509Ptr;
using ObjPtr = std::unique_ptr<ASN1_OBJECT, detail::Deleter<ASN1_OBJECT, ASN1_OBJECT_free>>;
using OctetPtr =
    std::unique_ptr<ASN1_OCTET_STRING, detail::Deleter<ASN1_OCTET_STRING, ASN1_OCTET_STRING_free>>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, detail::Deleter<X509_EXTENSION, X509_EXTENSION_free>>;
constexpr std::string_view CHANNEL_ALPN = ALPN;  // select_alpn's argument: it must outlive every context

}  // namespace

class TlsIdentityBuilder {
 public:
  static PkeyPtr private_key(const SigningKey& k) {
    return PkeyPtr(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, k.m_secret.data(), 32));
  }
};

Result<std::shared_ptr<boost::asio::ssl::context>> make_channel_context(const SigningKey& device,
                                                                        std::string_view extension,
                                                                        TlsRole role) {
  auto ctx = std::make_shared<boost::asio::ssl::context>(role == TlsRole::server
                                                             ? boost::asio::ssl::context::tls_server
                                                             : boost::asio::ssl::context::tls_client);
  SSL_CTX* c = ctx->native_handle();
  SSL_CTX_set_min_proto_version(c, TLS1_3_VERSION);
  SSL_CTX_set_options(c, SSL_OP_NO_TICKET);
  SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);

  PkeyPtr key = TlsIdentityBuilder::private_key(device);
  if (!key) return fail(base::make_error_code(base::errc::internal), openssl_error("device key for TLS"));
  X509Ptr cert(X509_new());
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -24 * 3600);         // tolerate clocks a day behind
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 100L * 365 * 86400);  // validity is not what we check
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("kith device"),
                             -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  ObjPtr oid(OBJ_txt2obj(CHANNEL_CERT_OID, 1));
  OctetPtr data(ASN1_OCTET_STRING_new());
  ASN1_OCTET_STRING_set(data.get(), reinterpret_cast<const unsigned char*>(extension.data()),
                        static_cast<int>(extension.size()));
  ExtPtr ext(X509_EXTENSION_create_by_OBJ(nullptr, oid.get(), 0, data.get()));
  if (!oid || !ext || X509_add_ext(cert.get(), ext.get(), -1) != 1 ||
      X509_sign(cert.get(), key.get(), nullptr) == 0)
    return fail(base::make_error_code(base::errc::internal),
                openssl_error("building the channel certificate"));
  if (SSL_CTX_use_certificate(c, cert.get()) != 1 || SSL_CTX_use_PrivateKey(c, key.get()) != 1)
    return fail(base::make_error_code(base::errc::internal),
                openssl_error("loading the channel certificate"));

  SSL_CTX_set_verify(c, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, accept_self_signed);
  if (role == TlsRole::server) {
    SSL_CTX_set_alpn_select_cb(c, detail::select_alpn, const_cast<std::string_view*>(&CHANNEL_ALPN));
  } else {
    std::string protos(1, static_cast<char>(ALPN.size()));
    protos += ALPN;
    SSL_CTX_set_alpn_protos(c, reinterpret_cast<const unsigned char*>(protos.data()),
                            static_cast<unsigned>(protos.size()));
  }
  return ctx;
}

Result<TlsPeer> peer_identity(SSL* ssl) {
  const unsigned char* alpn = nullptr;
  unsigned alpn_len = 0;
  SSL_get0_alpn_selected(ssl, &alpn, &alpn_len);
  if (std::string_view(reinterpret_cast<const char*>(alpn), alpn ? alpn_len : 0) != ALPN)
    return tl::unexpected(bad("the peer did not negotiate ALPN kith/1"));
  X509Ptr cert(SSL_get1_peer_certificate(ssl));
  if (!cert) return tl::unexpected(bad("the peer sent no certificate"));
  EVP_PKEY* pk = X509_get0_pubkey(cert.get());
  if (!pk || EVP_PKEY_id(pk) != EVP_PKEY_ED25519)
    return tl::unexpected(bad("the peer's certificate key is not Ed25519"));
  if (X509_verify(cert.get(), pk) != 1)
    return tl::unexpected(bad("the peer's certificate is not signed by its own key"));
  TlsPeer out;
  std::size_t len = out.key.size();
  if (EVP_PKEY_get_raw_public_key(pk, out.key.data(), &len) != 1 || len != out.key.size())
    return tl::unexpected(bad("the peer's Ed25519 key cannot be read"));
  ObjPtr oid(OBJ_txt2obj(CHANNEL_CERT_OID, 1));
  const int at = X509_get_ext_by_OBJ(cert.get(), oid.get(), -1);
  if (at < 0) return tl::unexpected(bad("the peer's certificate carries no kith device certificate"));
  const ASN1_OCTET_STRING* d = X509_EXTENSION_get_data(X509_get_ext(cert.get(), at));
  out.extension.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(d)), ASN1_STRING_length(d));
  return out;
}

}  // namespace kith::crypto
