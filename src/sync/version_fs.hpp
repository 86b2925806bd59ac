#pragma once
// File versioning, the disk half (blocking: worker threads only). Everything happens beneath the
// folder's root through directories opened one component at a time with O_NOFOLLOW (folder_fs.hpp), so
// a symlink planted at .stversions, at a directory inside it, or on the way to the file never takes a
// version (or a restore) out of the folder: such a link fails the operation instead. Versions are
// renamed, never copied: .stversions is inside the folder, on the same file system.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "sync/versioner.hpp"

namespace kith::sync {

// Moves the regular file ROOT/name into ROOT/.stversions (tagged with `now`, or under its own name for
// the trash can, whose copy is then dated `now`), then lets go what the policy says of that file's
// versions. Nothing there (or not a regular file): nothing to do. Fails, leaving the file where it
// is, when it cannot be moved: the caller must then not replace or delete it.
Status archive_version(const std::filesystem::path& root, const std::string& name, const Versioning& v,
                       std::int64_t now);

// Every version kept in ROOT/.stversions (or those of one file when `name` is given), by name then
// time; none when there is no .stversions.
Result<std::vector<KeptVersion>> list_versions(const std::filesystem::path& root,
                                               const std::optional<std::string>& name = {});

// Deletes what the policy lets go at `now` (versions_to_remove), and directories of .stversions left
// empty by that. Returns how many versions went.
Result<std::size_t> clean_versions(const std::filesystem::path& root, const Versioning& v, std::int64_t now);

// Puts a kept version of `name` back: the one whose tag is `tag` (YYYYMMDD-HHMMSS), else the newest.
// A file now at `name` is archived first (by `v`'s naming, as a replaced file would be); a directory or
// symlink there refuses (errc::bad_input). Returns the version restored. errc::not_found (base) when
// there is no such version.
Result<KeptVersion> restore_version(const std::filesystem::path& root, const std::string& name,
                                    const std::optional<std::string>& tag, const Versioning& v,
                                    std::int64_t now);

}  // namespace kith::sync
