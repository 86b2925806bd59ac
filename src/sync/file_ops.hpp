#pragma once
// The disk side of pulling (blocking: worker threads only). ENOSPC and EDQUOT come back as
// sync::errc::disk_full, and leave the temporary file where it is (its verified blocks are kept). Every path
// is the folder's root joined with a name that passed check_name(), and no directory on the way may be a
// symlink: a peer's entries can never make kith write outside the folder (docs/sync.md § Safety).
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "store/sync_store.hpp"
#include "sync/global.hpp"
#include "sync/ignore.hpp"
#include "sync/versioner.hpp"

namespace kith::sync {

// Deletions, directories, symlinks, empty files and metadata-only changes. Returns this node's new entry.
// Refuses (errc::io_error, says why) to delete or replace something changed on disk since the last scan.
// A regular file deleted or replaced goes to .stversions first when `versioning` says so (version_fs.hpp);
// if it cannot, nothing changes and the error says why. A directory to delete that still holds names
// `ignores` ignores is kept (io_error, saying so), unless they are all (?d) ones or temporary files:
// those go with it (Syncthing's rule).
Result<store::SyncFile> apply_without_data(const std::filesystem::path& root, const Need& need,
                                           std::uint64_t short_id, const Versioning& versioning = {},
                                           const Ignores* ignores = nullptr);

struct PreparedTemp {
  std::filesystem::path temp;  // the temporary file beside the target, open for writing
  int fd = -1;
  std::vector<store::SyncBlock> missing;  // blocks no local file could give
  ~PreparedTemp();
  PreparedTemp() = default;
  PreparedTemp(PreparedTemp&& o) noexcept
      : temp(std::move(o.temp)), fd(std::exchange(o.fd, -1)), missing(std::move(o.missing)) {}
  PreparedTemp& operator=(PreparedTemp&&) = delete;
};
using FindBlock = std::function<Result<std::optional<store::BlockLocation>>(const store::SyncBlock&)>;
// Opens the temporary file an earlier try left (keeping each block in it whose SHA-256 is right) or
// creates it, sizes it, and copies into it each other block a local file holds (checked by hash).
Result<PreparedTemp> prepare_temp(const std::filesystem::path& root, const store::SyncFile& global,
                                  const FindBlock& find);

// The bytes the temporary file of `name` (left by an earlier try) already takes on disk; 0 if none.
std::uint64_t temp_allocated(const std::filesystem::path& root, const std::string& name);

// Checks `data` against the block's size and SHA-256, then writes it at the block's offset.
Status write_block(int fd, const store::SyncBlock& block, const std::string& data);

// A file held back by the safety check and released by the user (engine_held.cpp): writes the
// temporary file of `global` beside its target from `held` (the copy in the quarantine, opened without
// following a symlink), checking its size and each block's SHA-256 against `global`'s block list as it
// goes, then fsyncs it. The copy sat on disk since its pull checked it: bytes that differ now are
// errc bad_input (saying where) and leave no temporary file; so does any other failure. For place_file.
Result<std::filesystem::path> temp_from_held(const std::filesystem::path& root, const store::SyncFile& global,
                                             const std::filesystem::path& held);

// Puts the complete, scanned temporary file in place: the old file kept as a conflict copy when `need`
// says so, else archived by `versioning` (failing, the old file stays and the temporary goes, unless
// the disk is full: then it stays for the next try),
// permissions and modification time set, renamed over the target, the directory synced.
Result<store::SyncFile> place_file(const std::filesystem::path& root, const Need& need,
                                   const std::filesystem::path& temp, std::uint64_t short_id,
                                   const Versioning& versioning = {});

// The directory of `name` under root, created if missing; errc::bad_input if any part is not a directory.
Result<std::filesystem::path> parent_dir(const std::filesystem::path& root, const std::string& name);

}  // namespace kith::sync
