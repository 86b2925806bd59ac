#include "crypto/random.hpp"

#include <sodium.h>

#include "crypto/init.hpp"

namespace kith::crypto {

std::string random_bytes(std::size_t n) {
  (void)ensure_sodium();
  std::string out(n, '\0');
  randombytes_buf(out.data(), n);
  return out;
}

}  // namespace kith::crypto
