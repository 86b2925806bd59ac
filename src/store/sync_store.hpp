#pragma once
// Folder sync's index (migration 10; 11 adds the contact a device was learnt from, 12 each folder's
// versioning, 13 keeps block lists apart and each entry's blocks hash): the folders, the devices they are
// shared with, and each side's index of each folder as Syncthing's Block Exchange Protocol (BEP v1) describes
// files: this node's own (device "") with the sequence numbers it announces, and what every device last told
// us of its own. Also a map from block hash to where this node has that block, so a puller can copy data it
// already has instead of fetching it.
//
// Rows are keyed by small integers (sync_folders.key, sync_devices.key, 0 for this node), not by the
// 63-character device ID on each of a million rows. Version vectors and block lists are BLOBs of
// fixed-size big-endian records (sync_store.cpp). Block lists are kept apart from the rest of an entry
// (migration 13), so that listings without them (Blocks::without: pull planning, scans, views) read
// none: one entry's list is up to 48 bytes per 128 KiB of file. Only this node's files that are neither
// deleted nor invalid have their blocks in sync_blocks.
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "store/database.hpp"

namespace kith::store {

struct SyncBlock {
  std::int64_t offset = 0;
  std::int32_t size = 0;
  std::array<std::uint8_t, 32> hash{};  // SHA-256 of the block's bytes
  // Adler-32 of the block (BEP's weak_hash), or 0 when not known. Syncthing 1.19 sends it and folds
  // it into the file's blocks_hash, so keeping it lets both sides compute the same blocks_hash.
  std::uint32_t weak_hash = 0;
  bool operator==(const SyncBlock&) const = default;
};

struct SyncCounter {
  std::uint64_t id = 0;  // a device's short ID
  std::uint64_t value = 0;
  bool operator==(const SyncCounter&) const = default;
};

// One file's entry in an index, as BEP's FileInfo has it (device "" = this node's own index).
struct SyncFile {
  std::string folder, device, name;  // name: relative, '/'-separated
  int type = 0;                      // BEP FileInfoType: 0 file, 1 directory, 4 symlink
  std::int64_t size = 0;
  std::uint32_t permissions = 0;  // mode & 0777
  std::int64_t modified_s = 0;
  std::int32_t modified_ns = 0;
  std::uint64_t modified_by = 0;  // short device id of who changed it last
  bool deleted = false, invalid = false, no_permissions = false;
  std::vector<SyncCounter> version;  // version vector, sorted by id
  std::int64_t sequence = 0;
  std::int32_t block_size = 0;
  std::vector<SyncBlock> blocks;  // empty in listings without blocks (Blocks::without)
  // The store's hash of `blocks` (its BlocksHasher: Syncthing's blocks_hash), in every listing, blocks or
  // not: equal non-empty hashes are the same content. Computed by the store when it stores the entry
  // (what is given is ignored); empty when there are no blocks, or for an entry stored before
  // migration 13 until fill_blocks_hashes() ran.
  std::string blocks_hash;
  std::string symlink_target;
  std::uint64_t inode = 0;  // local only: with size, mtime and permissions, "unchanged since the last scan"
  bool operator==(const SyncFile&) const = default;
};

// What a folder keeps of files a pull replaces or deletes (migration 12; sync/versioner.hpp).
struct SyncVersioning {
  std::string type = "none";        // none | trashcan | simple | staggered
  std::int64_t keep = 5;            // simple: versions kept per file
  std::int64_t max_age_days = 365;  // staggered: older versions go; 0 keeps them forever
  std::int64_t cleanout_days = 0;   // trashcan, simple: versions kept longer go; 0: never
  bool operator==(const SyncVersioning&) const = default;
};

struct SyncFolderRecord {
  std::string id, label, path, type = "sendreceive";  // type: sendreceive | sendonly | receiveonly
  bool paused = false;
  std::uint64_t index_id = 0;  // our index's ID for this folder (BEP: a new one means "start over")
  std::int64_t created_at = 0;
  SyncVersioning versioning;
  bool operator==(const SyncFolderRecord&) const = default;
};

struct SyncDeviceRecord {
  std::string id, name;  // id: Syncthing's 56-char device ID text
  std::vector<std::string> addresses;
  std::int64_t added_at = 0;
  std::string contact;  // the kith contact (kith ID) whose node told us this device; "" if added by hand
  bool operator==(const SyncDeviceRecord&) const = default;
};

// What the device last told us of its index of the folder.
struct SyncShare {
  std::string folder, device;
  std::uint64_t remote_index_id = 0;
  std::int64_t remote_max_sequence = 0;
  bool operator==(const SyncShare&) const = default;
};

struct BlockLocation {
  std::string name;
  std::int64_t offset = 0;
  std::int32_t size = 0;
  bool operator==(const BlockLocation&) const = default;
};

// Whether a listing carries each entry's block list (`SyncFile::blocks`). Without, it carries the rest,
// `blocks_hash` included: enough to plan, compare and count, not to fetch.
enum class Blocks { with, without };

// Computes SyncFile::blocks_hash from a non-empty block list (the sync module gives Syncthing's).
using BlocksHasher = std::function<std::string(const std::vector<SyncBlock>&)>;

// Every method is one statement or one transaction, so calls from any thread are safe (the
// Database serialises them). Errors: base.not_found for a folder, device or share that is not there
// (where the call needs it), base.invalid_argument for values the schema cannot hold, else store's.
class SyncStore {
 public:
  SyncStore(Database& db, BlocksHasher hasher) : m_db(db), m_hasher(std::move(hasher)) {}

  Status put_folder(const SyncFolderRecord& folder);  // insert or replace
  Result<std::optional<SyncFolderRecord>> folder(const std::string& id);
  Result<std::vector<SyncFolderRecord>> folders();  // by id
  Status remove_folder(const std::string& id);      // and its shares, files, blocks

  Status put_device(const SyncDeviceRecord& device);  // insert or replace; no '\n' in an address
  Result<std::optional<SyncDeviceRecord>> device(const std::string& id);
  Result<std::vector<SyncDeviceRecord>> devices();  // by id
  Status remove_device(const std::string& id);      // and its shares and files

  // Both must exist. No-op if shared.
  Status share(const std::string& folder, const std::string& device);
  Status unshare(const std::string& folder, const std::string& device);  // and that device's files of it
  Result<std::vector<SyncShare>> shares(const std::string& folder);      // by device
  // Fails with not_found when the folder is not shared with the device.
  Status set_remote_index(const std::string& folder, const std::string& device, std::uint64_t index_id,
                          std::int64_t max_sequence);

  // This node's changes: assigns sequence numbers (max+1, in order), sets device "", upserts, keeps
  // the block table in step; one transaction. Returns the records as stored. A name given twice is
  // stored as the later one (the earlier one's sequence number is then skipped).
  Result<std::vector<SyncFile>> put_local(const std::string& folder, std::vector<SyncFile> changed);
  // Stores the inode of each of this node's records named in `files` and nothing else (no new
  // sequence number): for a file the scanner found replaced by an identical copy (scanner.hpp's
  // ScanResult::refreshed). Names not in the index are skipped.
  Status set_local_inodes(const std::string& folder, const std::vector<SyncFile>& files);
  // A device's index entries as it sent them (their sequence numbers are its own): upsert, one
  // transaction. The folder must be shared with the device; device "" is refused.
  Status put_remote(const std::string& folder, const std::string& device, const std::vector<SyncFile>& files);
  // Forgets the device's index of the folder (its index ID changed: it starts over). The share's
  // remote index ID and max sequence are left as they are: set_remote_index() says those.
  Status drop_remote(const std::string& folder, const std::string& device);

  // One entry, with its blocks (what a pull of it needs) unless told otherwise.
  Result<std::optional<SyncFile>> file(const std::string& folder, const std::string& device,
                                       const std::string& name, Blocks blocks = Blocks::with);
  // A device's whole index of the folder, by name. Blocks::without for anything that does not need
  // every block list at once (planning, scans, views): memory then goes with the number of entries,
  // not the size of the files.
  Result<std::vector<SyncFile>> files(const std::string& folder, const std::string& device, Blocks blocks);
  // The entries with sequence > after_sequence, ordered by sequence, with their blocks: at most `limit`
  // of them, and no more than `max_blocks` blocks in all (but always at least one entry, however many
  // blocks it has), so a batch of big files stays a bounded amount of memory.
  Result<std::vector<SyncFile>> since(const std::string& folder, const std::string& device,
                                      std::int64_t after_sequence, std::size_t limit,
                                      std::size_t max_blocks = SIZE_MAX);
  // The highest sequence stored for the device's index of the folder; 0 when empty. This node's
  // never goes down: its records are never removed (a deletion is a record) but with the folder.
  Result<std::int64_t> max_sequence(const std::string& folder, const std::string& device);

  // A local, not deleted file holding a block with this hash (to copy it instead of fetching it).
  Result<std::optional<BlockLocation>> find_block(const std::string& folder,
                                                  const std::array<std::uint8_t, 32>& hash);

  // Computes the blocks hash of entries stored before migration 13 (a few at a time, each batch one
  // transaction; afterwards it finds nothing to do at once). Returns how many it filled.
  Result<std::size_t> fill_blocks_hashes();

 private:
  std::string hash_of(const std::vector<SyncBlock>& blocks) const;  // "" for none

  Database& m_db;
  BlocksHasher m_hasher;
};

}  // namespace kith::store
