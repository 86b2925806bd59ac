#pragma once
// Internal to crypto (not part of its interface): what tls.cpp and bep_tls.cpp both need of OpenSSL.
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <memory>
#include <string>
#include <string_view>

#include "base/error.hpp"

namespace kith::crypto::detail {

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;

inline Error bad(const std::string& why) { return Error{base::make_error_code(base::errc::bad_input), why}; }

// `what` and OpenSSL's last error.
inline std::string openssl_error(const std::string& what) {
  char buf[256] = {};
  ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
  return what + ": " + buf;
}

// Server side: picks the protocol `arg` points to (a std::string_view) or ends the handshake.
inline int select_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                       unsigned int inlen, void* arg) {
  const auto wanted = *static_cast<const std::string_view*>(arg);
  for (unsigned int i = 0; i < inlen;) {
    const unsigned len = in[i];
    if (i + 1 + len > inlen) break;
    if (std::string_view(reinterpret_cast<const char*>(in + i + 1), len) == wanted) {
      *out = in + i + 1;
      *outlen = static_cast<unsigned char>(len);
      return SSL_TLSEXT_ERR_OK;
    }
    i += 1 + len;
  }
  return SSL_TLSEXT_ERR_ALERT_FATAL;
}

// Chain verification is replaced by pinning: peers' certificates are self-signed, OpenSSL's verdict is
// ignored and the caller checks the key or the certificate's hash after the handshake.
inline int accept_self_signed(int, X509_STORE_CTX*) { return 1; }

}  // namespace kith::crypto::detail
