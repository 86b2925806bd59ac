#pragma once
#include "base/error.hpp"

namespace kith::crypto {

// sodium_init() once per process (thread-safe); every function of this module calls it first.
Status ensure_sodium();

}  // namespace kith::crypto
