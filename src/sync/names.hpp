#pragma once
// File names in a sync folder: which names from a peer this node will use, Syncthing's own names
// (the folder marker, ignore file, versions folder, temporary files, conflict copies), all as
// Syncthing 1.19 spells them so that both sides skip and recognise the same files.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/error.hpp"

namespace kith::sync {

inline constexpr std::string_view FOLDER_MARKER = ".stfolder";
inline constexpr std::string_view TEMP_PREFIX = ".syncthing.";          // Syncthing on Unix
inline constexpr std::string_view WINDOWS_TEMP_PREFIX = "~syncthing~";  // Syncthing on Windows
inline constexpr std::string_view CONFLICT_MARK = ".sync-conflict-";

// Whether a name from a peer's index may name a file here: relative, '/'-separated, non-empty
// components none of which is "." or "..", no NUL, valid UTF-8, not one of Syncthing's own names at
// the top (.stfolder, .stignore, .stversions and what is in them), not a temporary file's name. This
// is Syncthing's checkFilename (the name must already be in clean form: "a//b", "a/" and "./a" are
// refused, not cleaned) plus what its scanner never sends. A backslash is an ordinary byte here, as it
// is to Syncthing on Linux. Error: sync.bad_name, saying why.
Status check_name(std::string_view name);

// .stfolder, .stignore, .stversions, or a name inside one of them (Syncthing's fs.IsInternal).
bool is_internal(std::string_view name);

// Where a file being pulled is written before it is renamed into place: ".syncthing.BASE.tmp" in the
// same directory; when BASE is longer than 145 bytes, ".syncthing.<SHA-256 of BASE, hex>.tmp" so
// that the temporary name stays under 160 bytes (Syncthing's fs.TempName).
std::string temp_name(std::string_view name);
// Whether the last component of `name` starts with a temporary prefix (either platform's).
bool is_temp_name(std::string_view name);

// The name a conflicting local copy is moved to: "NAME.sync-conflict-YYYYMMDD-HHMMSS-SHORT.EXT",
// EXT being the last component's extension ("" when it has none; ".bashrc" is all extension, as in
// Go's filepath.Ext), the time local like Syncthing's time.Now().Format, SHORT the first 7 characters
// of the device ID text of who made the change that lost (its ShortID's String()).
std::string conflict_name(std::string_view name, std::int64_t unix_time, std::string_view device_id_text);
// Whether the last component of `name` holds ".sync-conflict-" (Syncthing's isConflict).
bool is_conflict_name(std::string_view name);
// A conflict copy's parts: "dir/song.sync-conflict-20231114-221320-ABCDEFG.txt" is the copy of
// "dir/song.txt" made at 2023-11-14 22:13:20 (local time), of the change by device ABCDEFG... Names
// that hold the mark but not the stamp after it (hand-made) give nullopt.
struct ConflictCopy {
  std::string original, stamp, device;  // stamp "YYYYMMDD-HHMMSS", device its first 7 characters
};
std::optional<ConflictCopy> parse_conflict_name(std::string_view name);

// Valid UTF-8 (no overlong forms, surrogates or code points over U+10FFFF), as Go's utf8.ValidString.
bool valid_utf8(std::string_view text);

}  // namespace kith::sync
