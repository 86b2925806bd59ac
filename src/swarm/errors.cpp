#include "swarm/types.hpp"

namespace kith::swarm {

const std::error_category& category() {
  static const char* const NAMES[] = {"",
                                      "bad_link",
                                      "bad_torrent",
                                      "unknown_transfer",
                                      "ambiguous_id",
                                      "duplicate",
                                      "create_failed",
                                      "session_error",
                                      "dht_failed",
                                      "dht_not_found",
                                      "nothing_selected",
                                      "cancelled",
                                      "timed_out"};
  static const base::NamedCategory instance("kith.swarm", "swarm", NAMES);
  return instance;
}

}  // namespace kith::swarm
