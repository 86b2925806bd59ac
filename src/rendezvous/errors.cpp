#include "rendezvous/errors.hpp"

namespace kith::rendezvous {

const std::error_category& category() {
  static const char* const NAMES[] = {"",          "bad_record", "stale",  "replayed",
                                      "not_found", "dht_failed", "bad_key"};
  static const base::NamedCategory instance("kith.rendezvous", "rendezvous", NAMES);
  return instance;
}

}  // namespace kith::rendezvous
