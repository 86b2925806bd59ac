#pragma once
#include <system_error>

#include "base/error.hpp"

namespace kith::safety {

enum class errc {
  no_database = 1,  // no ClamAV signature database could be loaded
  scanner_failed,   // libclamav failed to initialise, load or compile its engine
  unknown_item,     // no quarantine item with that id
  bad_list,         // a block list or IP filter file could not be parsed
  blocked,          // the content or peer is on a block list
  quarantined,      // the transfer is in quarantine: only `kith quarantine release|delete` act on it
  scan_aborted,     // a scan of a file still arriving gave up (its source failed or ran out of time):
                    // not a verdict; the complete file must be scanned instead
};
const std::error_category& category();
inline std::error_code make_error_code(errc e) { return {static_cast<int>(e), category()}; }

}  // namespace kith::safety

template <>
struct std::is_error_code_enum<kith::safety::errc> : std::true_type {};
