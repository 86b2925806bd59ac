#pragma once
// The folder scanner: walks a folder and says what changed since this node's last index of it, the
// way Syncthing 1.19's scanner (lib/scanner/walk.go, lib/model/folder.go scanSubdirs) does, so that
// a kith node and a Syncthing device announce the same changes for the same edits.
//
// Blocking (it reads every new or modified file): run it on a worker thread. It never follows a
// symlink (folder_fs.hpp) and never writes to the folder, except to remove stale temporary files
// (ScanOptions::remove_temps_older_than_s).
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "store/sync_store.hpp"

namespace kith::sync {

struct ScanOptions {
  std::uint64_t short_id = 0;  // this node's short device ID: the version counter it bumps; not 0
  // Permission changes are not changes; entries get no_permissions (Syncthing's ignorePerms).
  bool ignore_permissions = false;
  // Names (relative, '/'-separated) to leave out; an ignored directory is not descended into.
  std::function<bool(const std::string& name)> ignored;
  // Look inside ignored directories for names `ignored` keeps (a `!` pattern that can match below an
  // ignored directory: Ignores::skip_ignored_dirs() false). The directory itself is still left out.
  bool look_inside_ignored = false;
  // Temporary files of pulls (names.hpp temp_name) whose mtime is older than this many seconds are
  // removed as the walk meets them (Syncthing removes those older than a day): a pull that failed keeps
  // its temporary file for the next try (file_ops.hpp prepare_temp), and one never tried again would
  // stay forever. 0: none is removed.
  std::int64_t remove_temps_older_than_s = 0;
  const std::atomic<bool>* cancel = nullptr;  // set: the scan stops with sync.cancelled
  // Called as files are hashed: bytes hashed so far, of `to_hash` bytes the scan found to hash.
  std::function<void(std::uint64_t hashed, std::uint64_t to_hash)> progress;
};

// A file or directory the scan could not look at; it is left as the index has it (not deleted).
struct ScanError {
  std::string name;  // "" for the folder itself
  Error error;       // sync.changed_while_hashing: it is being written, scan again in a while
};

struct ScanResult {
  // New and modified entries (version bumped by short_id, modified_by short_id, blocks and blocks_hash
  // computed), ones
  // gone since (deleted, blocks cleared, size 0, modified_s now, version bumped) and ones now ignored
  // (invalid, blocks cleared, size 0, version as it was). Sorted by name; sequence 0: put_local
  // assigns it.
  std::vector<store::SyncFile> changed;
  // Files whose inode changed but nothing else, content included (replaced by an identical copy, or
  // the file system was mounted again): the previous entry with the new inode, for
  // SyncStore::set_local_inodes. Not a change to announce, so no new version.
  std::vector<store::SyncFile> refreshed;
  std::vector<ScanError> errors;
  std::uint64_t hashed_bytes = 0;
  std::size_t unchanged = 0;  // entries found as the index has them
};

// Walks `root`, compares with this node's last index of it (`previous`, device ""; its block lists are
// not needed: store::Blocks::without, `blocks_hash` is what an inode-only change is compared by), and
// returns the entries that changed (ScanResult). A file whose size, mtime (s+ns), inode and permissions match
// its previous entry is not re-hashed; a directory is unchanged while its permissions are (its mtime moves
// with every change inside it); a symlink while its target is. Internal names (.stfolder, .stignore,
// .stversions), temporary files, names that are not valid UTF-8 (reported) and names `ignored` says
// are skipped; so are sockets, FIFOs and devices. A file being written while hashed (size or mtime
// changed between the walk and the end of hashing) is skipped this round and reported, not recorded
// half-written. An entry is marked deleted only when it is positively gone (presence_beneath):
// one below a directory that could not be read stays as it was. Errors: sync.folder_missing,
// sync.marker_missing (nothing is marked deleted then), sync.cancelled, base.invalid_argument
// (short_id 0).
Result<ScanResult> scan_folder(const std::filesystem::path& root,
                               const std::vector<store::SyncFile>& previous, const ScanOptions& options);

// Creates ROOT (and its parents) if missing, then ROOT/.stfolder (a directory, as Syncthing 1.19
// makes it) if missing. Call it when a folder is added, never before a scan of an existing folder: a
// missing marker is how a scan tells an unmounted disk from a folder whose files were all deleted.
Status make_folder_marker(const std::filesystem::path& root);

}  // namespace kith::sync
