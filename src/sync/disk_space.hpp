#pragma once
// Free space for pulls (docs/sync.md § A full disk). Sans-IO: does a file fit, and the message when it
// does not; `disk_space` alone looks at the disk (statvfs: cheap, but still a system call on a file
// system that may hang, so worker threads only).
#include <cstdint>
#include <filesystem>
#include <string>

#include "base/error.hpp"

namespace kith::sync {

// Syncthing's minDiskFree default: 1 % of the folder's file system stays free. A pull that would leave
// less is not started (Syncthing's CheckAvailableSpace). The setting sync.min_disk_free_percent.
constexpr int DEFAULT_MIN_DISK_FREE_PERCENT = 1;

// How often a folder stopped by a full disk looks at its free space again (besides every scan).
constexpr int DISK_RECHECK_INTERVAL_S = 10;

struct DiskSpace {
  std::uint64_t free = 0;   // bytes this process may still write (f_bavail × f_frsize)
  std::uint64_t total = 0;  // the file system's size
  std::uint64_t free_inodes = 0, total_inodes = 0;   // total 0: the file system does not count them
  int keep_percent = DEFAULT_MIN_DISK_FREE_PERCENT;  // of `total`, to stay free (the folder's minimum)
};

// The bytes that must stay free on a file system of `total` bytes.
std::uint64_t min_disk_free(std::uint64_t total, int percent = DEFAULT_MIN_DISK_FREE_PERCENT);

// What a file of `size` bytes still needs to write when its temporary file already holds `allocated`
// bytes (kept from an earlier try: prepare_temp reuses them).
std::uint64_t still_to_write(std::uint64_t size, std::uint64_t allocated);

// Do `to_write` more bytes fit, with `reserved` already promised to the files being pulled now and
// min_disk_free kept? A file system out of inodes fits nothing.
bool fits(const DiskSpace& space, std::uint64_t to_write, std::uint64_t reserved = 0);

// "disk full: [WHY; ]ROOT has X MiB free, needs Y MiB for NAME (with P % of the file system, Z MiB, kept
// free); free some space there, kith retries by itself". `why`: the write that failed, if one did.
std::string disk_full_message(const std::string& root, const std::string& name, const DiskSpace& space,
                              std::uint64_t to_write, std::uint64_t reserved = 0,
                              const std::string& why = {});

// statvfs of `path` (blocking), with `keep_percent` of it to stay free.
Result<DiskSpace> disk_space(const std::filesystem::path& path,
                             int keep_percent = DEFAULT_MIN_DISK_FREE_PERCENT);

}  // namespace kith::sync
