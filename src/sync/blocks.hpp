#pragma once
// A file's content as BEP names it: fixed-size blocks, each with its SHA-256 and its Adler-32 ("weak
// hash"), hashed the way Syncthing 1.19 hashes them so that both sides describe the same bytes with
// the same block list (and the same blocks_hash).
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "store/sync_store.hpp"

namespace kith::sync {

inline constexpr std::int32_t MIN_BLOCK_SIZE = 128 << 10;
inline constexpr std::int32_t MAX_BLOCK_SIZE = 16 << 20;
inline constexpr std::int64_t DESIRED_BLOCKS_PER_FILE = 2000;

// Syncthing's protocol.BlockSize: the smallest power of two from 128 KiB to 16 MiB that cuts the file
// into fewer than 2000 blocks; 16 MiB for anything bigger.
std::int32_t block_size_for(std::int64_t file_size);
// As Syncthing's scanner picks it for a file it indexed before with `previous` (0: it did not): the
// previous block size stays while it is within a factor of two of the new one, so a file that grows
// a little is not re-cut into blocks that all differ from the ones peers have.
std::int32_t block_size_for(std::int64_t file_size, std::int32_t previous);

// Hashes the regular file at `path` (not following a symlink) in blocks of `block_size`. An empty
// file has one block: offset 0, size 0, the SHA-256 of nothing, weak hash 0 (Syncthing 1.19 sends
// that, and refuses an index entry for a file that is not deleted but has no blocks). `progress`, if
// given, gets the byte count of each block as it is hashed. Errors: the file's (errno codes),
// sync.cancelled once `cancel` is set, sync.changed_while_hashing when its size or mtime at the end
// differ from the start (it is being written: hash it again later).
Result<std::vector<store::SyncBlock>> hash_file(const std::filesystem::path& path, std::int32_t block_size,
                                                const std::atomic<bool>* cancel = nullptr,
                                                const std::function<void(std::uint64_t)>& progress = {});
// The same on a file already open for reading (read with pread from offset 0; `what` names it in
// errors). The scanner opens files below the folder root without following symlinks (folder_fs.hpp).
Result<std::vector<store::SyncBlock>> hash_fd(int fd, const std::string& what, std::int32_t block_size,
                                              const std::atomic<bool>* cancel = nullptr,
                                              const std::function<void(std::uint64_t)>& progress = {});

// The file's blocks_hash as Syncthing 1.19 computes it (protocol.BlocksHash): SHA-256 over each
// block's hash followed by its weak hash (4 bytes, big-endian); 32 raw bytes. Syncthing 2 hashes only
// the hashes; both compare block lists one by one when blocks_hash differs, so this is an
// optimisation for them, never a correctness matter.
std::string blocks_hash(const std::vector<store::SyncBlock>& blocks);

// Adler-32 (zlib's, as Go's hash/adler32): the weak hash of a block.
std::uint32_t adler32(std::string_view data);

}  // namespace kith::sync
