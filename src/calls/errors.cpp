#include "calls/errors.hpp"

namespace kith::calls {

const std::error_category& category() {
  static const char* const NAMES[] = {"", "unknown_call", "busy", "wrong_state", "not_reachable"};
  static const base::NamedCategory instance("kith.calls", "calls", NAMES);
  return instance;
}

}  // namespace kith::calls
