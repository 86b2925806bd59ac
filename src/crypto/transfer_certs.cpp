#include "crypto/transfer_certs.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cctype>
#include <climits>
#include <memory>

namespace kith::crypto {
namespace {

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;

Error failure(const std::string& what) {
  char buf[256] = {};
  ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
  return Error{base::make_error_code(base::errc::internal), what + ": " + buf};
}

PkeyPtr new_key() { return PkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")); }

std::string bio_string(BIO* bio) {
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(len));
}

bool add_ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (!ext) return false;
  const bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

// A certificate for `key` named `cn`, signed by `issuer_key` (issuer == nullptr: self-signed root).
X509Ptr issue(EVP_PKEY* key, const char* cn, X509* issuer, EVP_PKEY* issuer_key, long serial) {
  X509Ptr cert(X509_new());
  if (!cert) return nullptr;
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -24 * 3600);  // tolerate clocks a day behind
  X509_gmtime_adj(X509_getm_notAfter(cert.get()),
                  10L * 365 * 86400);  // a transfer may wait long for a contact
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn), -1, -1, 0);
  X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : name);
  X509* ctx_issuer = issuer ? issuer : cert.get();
  const bool ok = issuer ? add_ext(cert.get(), ctx_issuer, NID_basic_constraints, "critical,CA:FALSE")
                         : add_ext(cert.get(), ctx_issuer, NID_basic_constraints, "critical,CA:TRUE") &&
                               add_ext(cert.get(), ctx_issuer, NID_key_usage, "critical,keyCertSign,cRLSign");
  if (!ok || X509_sign(cert.get(), issuer_key, EVP_sha256()) == 0) return nullptr;
  return cert;
}

std::string cert_pem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert);
  return bio_string(bio.get());
}

std::string key_pem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  return bio_string(bio.get());
}

X509Ptr read_cert(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return X509Ptr(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
}

}  // namespace

Result<TransferCerts> make_transfer_certs() {
  PkeyPtr root_key = new_key(), sender_key = new_key(), recipient_key = new_key();
  if (!root_key || !sender_key || !recipient_key) return tl::unexpected(failure("generating transfer keys"));
  X509Ptr root = issue(root_key.get(), "kith transfer", nullptr, root_key.get(), 1);
  if (!root) return tl::unexpected(failure("making the transfer's root certificate"));
  X509Ptr sender = issue(sender_key.get(), "*", root.get(), root_key.get(), 2);
  X509Ptr recipient = issue(recipient_key.get(), "*", root.get(), root_key.get(), 3);
  if (!sender || !recipient) return tl::unexpected(failure("making the transfer's peer certificates"));
  return TransferCerts{cert_pem(root.get()), cert_pem(sender.get()), key_pem(sender_key.get()),
                       cert_pem(recipient.get()), key_pem(recipient_key.get())};
}

bool cert_signed_by(std::string_view cert, std::string_view root) {
  auto c = read_cert(cert), r = read_cert(root);
  if (!c || !r) return false;
  EVP_PKEY* root_key = X509_get0_pubkey(r.get());
  const bool ok = root_key && X509_verify(c.get(), root_key) == 1;
  ERR_clear_error();
  return ok;
}

bool is_one_certificate(std::string_view pem) {
  if (pem.empty() || pem.size() > static_cast<std::size_t>(INT_MAX)) return false;
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return false;
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  bool ok = cert != nullptr;
  // What is left in the buffer follows the END line: a second certificate or garbage is refused.
  char c;
  while (ok && BIO_read(bio.get(), &c, 1) == 1) ok = std::isspace(static_cast<unsigned char>(c)) != 0;
  ERR_clear_error();
  return ok;
}

}  // namespace kith::crypto
