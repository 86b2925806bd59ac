#include "safety/errors.hpp"

namespace kith::safety {

const std::error_category& category() {
  static const char* const NAMES[] = {"",         "no_database", "scanner_failed", "unknown_item",
                                      "bad_list", "blocked",     "quarantined",    "scan_aborted"};
  static const base::NamedCategory instance("kith.safety", "safety", NAMES);
  return instance;
}

}  // namespace kith::safety
