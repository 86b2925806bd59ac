#include "crypto/init.hpp"

#include <sodium.h>

namespace kith::crypto {

Status ensure_sodium() {
  static const int rc = sodium_init();  // 0: initialised now, 1: already; -1: failure
  if (rc < 0) return fail(base::make_error_code(base::errc::internal), "libsodium failed to initialise");
  return {};
}

}  // namespace kith::crypto
