#pragma once
// The sync module's own error codes (base::errc covers the rest: bad_input for a malformed device ID
// or path, io_error for the disk).
#include <system_error>

#include "base/error.hpp"

namespace kith::sync {

enum class errc {
  folder_missing = 1,     // the folder's root does not exist or is not a directory
  marker_missing,         // ROOT/.stfolder is missing: the disk may not be mounted, so nothing is scanned
  bad_name,               // a file name from a peer is not one this node will use (names.hpp)
  changed_while_hashing,  // the file's size or mtime changed while it was read: hash it again later
  cancelled,              // the caller's cancel flag was set
  unknown_folder,         // no folder has this id
  unknown_device,         // this device ID was not added (`kith sync device add`)
  folder_exists,          // a folder with this id or path is already synced
  not_offered,            // accept: no device offered a folder with this id
  bad_ignores,            // .stignore (or a file it includes) cannot be used: says the file, line and why
  disk_full,              // ENOSPC or EDQUOT writing the folder: pulling stops until there is room
  case_conflict,          // on a case-insensitive file system, a name the disk holds spelt otherwise
  not_releasable,         // a held file cannot go into its folder (a newer version came, the folder or
                          // the held copy is gone or changed): the message says what to do
};
const std::error_category& category();
inline std::error_code make_error_code(errc e) { return {static_cast<int>(e), category()}; }

// The code for an errno from writing the folder: ENOSPC and EDQUOT are errc::disk_full (the folder stops
// pulling until there is room, docs/sync.md § A full disk), anything else base::errc::io_error.
std::error_code io_code(int err);

}  // namespace kith::sync

template <>
struct std::is_error_code_enum<kith::sync::errc> : std::true_type {};
