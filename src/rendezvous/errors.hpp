#pragma once
#include <system_error>

#include "base/error.hpp"

namespace kith::rendezvous {

enum class errc {
  bad_record = 1,  // a DHT value is not a presence record sealed for us (size, version, key, content)
  stale,           // a record older than Options::max_age, or dated in the future
  replayed,        // a record older than one already seen from that contact
  not_found,       // no record for us under that contact's pseudonym (offline, or not our contact)
  dht_failed,      // the DHT could not store or look up
  bad_key,         // a contact's key cannot make a pair secret (not a valid curve point)
};
const std::error_category& category();
inline std::error_code make_error_code(errc e) { return {static_cast<int>(e), category()}; }

}  // namespace kith::rendezvous

template <>
struct std::is_error_code_enum<kith::rendezvous::errc> : std::true_type {};
