#pragma once
// Certificates for one private transfer to a contact (`kith send`), as libtorrent's SSL torrents want
// them: a root CA whose certificate goes into the torrent's info dict, and leaf certificates signed by
// it for the sender and the recipient. libtorrent accepts a peer on an SSL torrent only over TLS with a
// certificate that chains to that root, so whoever lacks a leaf (anyone who merely learnt the
// info-hash) is refused. The root's key signs the two leaves and is then thrown away: nobody can issue
// a third one. Keys are ECDSA P-256 (every TLS version libtorrent's OpenSSL context may pick takes them).
#include <string>
#include <string_view>

#include "base/error.hpp"

namespace kith::crypto {

struct TransferCerts {
  std::string root_cert;  // PEM: what the torrent carries (create_torrent::set_root_cert)
  std::string sender_cert;
  std::string sender_key;  // PEM, unencrypted PKCS#8
  std::string recipient_cert;
  std::string recipient_key;
};

// Fresh keys and certificates. Leaves have common name "*": libtorrent also checks that a peer
// certificate names the torrent (or "*"), and the torrent's name is the user's file name.
Result<TransferCerts> make_transfer_certs();

// True if `cert_pem` is a certificate signed by the key of `root_pem` (for tests and for checking an
// offer before adding it).
bool cert_signed_by(std::string_view cert_pem, std::string_view root_pem);

// True if `pem` is exactly one X.509 certificate in PEM that OpenSSL can read (text before its BEGIN
// line is allowed, as in PEM; anything but white space after its END line is not). What swarm checks
// a torrent's `ssl-cert` with before handing it to libtorrent, which would otherwise fail the transfer
// only once it is added.
bool is_one_certificate(std::string_view pem);

}  // namespace kith::crypto
