#include "identity/device.hpp"

#include <algorithm>

namespace kith::identity {
namespace {

std::string message(const crypto::PublicKey& user, const crypto::PublicKey& device) {
  std::string m = "kith-device-v1\n";
  m.append(reinterpret_cast<const char*>(user.data()), user.size());
  m.append(reinterpret_cast<const char*>(device.data()), device.size());
  return m;
}

}  // namespace

DeviceCert certify_device(const crypto::SigningKey& user, const crypto::PublicKey& device) {
  DeviceCert c;
  c.user = user.public_key();
  c.device = device;
  c.signature = user.sign(message(c.user, c.device));
  return c;
}

bool verify_device_cert(const DeviceCert& cert) {
  return crypto::verify(cert.user, message(cert.user, cert.device), cert.signature);
}

std::string encode_device_cert(const DeviceCert& cert) {
  std::string out;
  out.reserve(DEVICE_CERT_SIZE);
  out.append(reinterpret_cast<const char*>(cert.user.data()), cert.user.size());
  out.append(reinterpret_cast<const char*>(cert.device.data()), cert.device.size());
  out.append(reinterpret_cast<const char*>(cert.signature.data()), cert.signature.size());
  return out;
}

Result<DeviceCert> decode_device_cert(std::string_view bytes) {
  if (bytes.size() != DEVICE_CERT_SIZE)
    return fail(base::make_error_code(base::errc::bad_input),
                "a device certificate is " + std::to_string(DEVICE_CERT_SIZE) + " bytes, not " +
                    std::to_string(bytes.size()));
  DeviceCert c;
  std::copy_n(bytes.data(), 32, c.user.begin());
  std::copy_n(bytes.data() + 32, 32, c.device.begin());
  std::copy_n(bytes.data() + 64, 64, c.signature.begin());
  return c;
}

}  // namespace kith::identity
