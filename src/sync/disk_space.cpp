#include "sync/disk_space.hpp"

#include <sys/statvfs.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace kith::sync {

namespace {
std::string mib(std::uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return buf;
}
}  // namespace

std::uint64_t min_disk_free(std::uint64_t total, int percent) {
  return static_cast<std::uint64_t>(static_cast<double>(total) * std::clamp(percent, 0, 100) / 100.0);
}

std::uint64_t still_to_write(std::uint64_t size, std::uint64_t allocated) {
  return allocated >= size ? 0 : size - allocated;
}

bool fits(const DiskSpace& space, std::uint64_t to_write, std::uint64_t reserved) {
  if (space.total_inodes > 0 && space.free_inodes == 0) return false;
  const std::uint64_t keep = min_disk_free(space.total, space.keep_percent);
  // free >= reserved + to_write + keep, without overflow
  if (space.free < reserved) return false;
  const std::uint64_t left = space.free - reserved;
  return left >= keep && left - keep >= to_write;
}

std::string disk_full_message(const std::string& root, const std::string& name, const DiskSpace& space,
                              std::uint64_t to_write, std::uint64_t reserved, const std::string& why) {
  std::string out =
      "disk full: " + (why.empty() ? "" : why + "; ") + root + " has " + mib(space.free) + " MiB free";
  if (reserved > 0) out += " (" + mib(reserved) + " MiB of it for files being pulled now)";
  if (space.total_inodes > 0 && space.free_inodes == 0) {
    out += " but no free inodes, needs one for " + name;
  } else {
    const auto keep = min_disk_free(space.total, space.keep_percent);
    out += ", needs " + mib(to_write + keep) + " MiB for " + name + " (with " +
           std::to_string(space.keep_percent) + " % of the file system, " + mib(keep) +
           " MiB, kept free; the setting sync.min_disk_free_percent)";
  }
  return out + "; free some space there, kith retries by itself";
}

Result<DiskSpace> disk_space(const std::filesystem::path& path, int keep_percent) {
  struct statvfs st {};
  if (::statvfs(path.c_str(), &st) != 0)
    return fail(base::make_error_code(base::errc::io_error),
                "cannot read the free space of " + path.string() + ": " + std::strerror(errno));
  DiskSpace out;
  out.free = static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize;
  out.total = static_cast<std::uint64_t>(st.f_blocks) * st.f_frsize;
  out.free_inodes = st.f_favail;
  out.total_inodes = st.f_files;
  out.keep_percent = keep_percent;
  return out;
}

}  // namespace kith::sync
