#pragma once
// File versioning, the sans-IO half (docs/sync.md § Versioning): how a kept version is named, and which
// versions a folder's policy lets go. As Syncthing 1.19's lib/versioner: when a pull replaces or deletes
// a file, the old one moves to FOLDER/.stversions/ (same relative path), named `dir/name~TAG.ext` where
// TAG is the local time YYYYMMDD-HHMMSS (the trash can keeps the plain name, newest wins, and dates
// it by its mtime, set to the moment it was archived). The disk half is version_fs.hpp.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "store/sync_store.hpp"

namespace kith::sync {

// type none | trashcan | simple | staggered, and its parameters (store::SyncVersioning has the defaults:
// Syncthing's keep 5, maxAge 365 days, cleanoutDays 0 = never).
using Versioning = store::SyncVersioning;

inline constexpr std::string_view VERSIONS_DIR = ".stversions";

// A versioning policy as given by a user: the type is known, the numbers in range, and only the
// parameters the type uses differ from their defaults. errc::bad_input says which one is wrong.
Status check_versioning(const Versioning& v);

// The tag of a moment: its local time as YYYYMMDD-HHMMSS (Syncthing's TimeFormat, time.Local).
std::string version_tag(std::int64_t unix_s);
// The moment of a tag (read as local time); nullopt if it is not YYYYMMDD-HHMMSS.
std::optional<std::int64_t> parse_version_tag(std::string_view tag);

// "dir/name.ext" -> "dir/name~TAG.ext" (the extension is what follows the last '.' of the last
// component, as Go's filepath.Ext: ".bashrc" -> "~TAG.bashrc", "a.tar.gz" -> "a.tar~TAG.gz").
std::string tagged_name(std::string_view name, std::string_view tag);
struct Untagged {
  std::string name;  // the original name
  std::string tag;   // YYYYMMDD-HHMMSS
};
// The inverse of tagged_name; nullopt when the last component holds no valid "~TAG".
std::optional<Untagged> untag_name(std::string_view tagged);

// One kept version: `path` relative to .stversions, `name` the file it was, `time` its version time
// (the tag's; an untagged one, the trash can's, its mtime), `size` in bytes.
struct KeptVersion {
  std::string path, name;
  std::int64_t time = 0, size = 0;
  bool tagged = false;
  bool operator==(const KeptVersion&) const = default;
};

// The versions the policy lets go at `now`, as paths relative to .stversions (Syncthing's toRemove):
//   trashcan   cleanout_days > 0: whatever has been kept longer than that
//   simple     per file, all but the newest `keep`; with cleanout_days > 0 also older ones
//   staggered  per file: older than max_age_days (0: no limit) goes; else, oldest first, a version
//              closer than the interval of its age to the last one kept goes: 30 s apart in the
//              first hour, 1 h in the first day, 1 day in the first 30 days, 1 week after
// Untagged versions are only ever cleaned by the trash can's age rule (they carry no tag to order).
std::vector<std::string> versions_to_remove(const Versioning& v, const std::vector<KeptVersion>& versions,
                                            std::int64_t now);

}  // namespace kith::sync
