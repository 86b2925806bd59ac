#pragma once
// The sync service's own error codes (base::errc covers the rest: bad_input for a malformed device ID
// or path, io_error for the disk, unavailable when a folder's marker is missing).
#include <system_error>

#include "base/error.hpp"

namespace kith::sync {

enum class errc {
  unknown_folder = 1,  // no folder has this id
  unknown_device,      // this device ID was not added (`kith sync device add`)
  folder_exists,       // a folder with this id or path is already synced
  not_offered,         // accept: no device offered a folder with this id
};
const std::error_category& category();
inline std::error_code make_error_code(errc e) { return {static_cast<int>(e), category()}; }

}  // namespace kith::sync

template <>
struct std::is_error_code_enum<kith::sync::errc> : std::true_type {};
