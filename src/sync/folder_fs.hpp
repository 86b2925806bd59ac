#pragma once
// Opening files inside a sync folder without ever leaving it. Every component of a name is opened
// relative to its parent with O_NOFOLLOW, so a symlink in the folder (made by the user, or synced
// from a peer) is never followed out of it, not even one swapped in between a check and a use: a
// walk or a read of "a/b" cannot end up in /etc because "a" became a link.
#include <sys/types.h>

#include <filesystem>
#include <string_view>
#include <utility>

#include "base/error.hpp"

namespace kith::sync {

// An owned file descriptor.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : m_fd(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : m_fd(std::exchange(other.m_fd, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd();

  int get() const { return m_fd; }
  explicit operator bool() const { return m_fd >= 0; }

 private:
  int m_fd = -1;
};

// The folder's root directory (a symlinked root is followed: Syncthing allows one). Errors carry
// errno codes (std::generic_category()).
Result<UniqueFd> open_root(const std::filesystem::path& root);

// Opens `name` (relative, '/'-separated, as check_name() accepts) below `root_fd` with `flags`
// (plus O_NOFOLLOW and O_CLOEXEC) and `mode` for O_CREAT; its parents are opened with O_PATH, so
// they need search permission only. A parent that is a symlink or not a directory fails with ENOTDIR
// or ELOOP; the last component, if a symlink, with ELOOP. Errors carry errno codes.
Result<UniqueFd> open_beneath(int root_fd, std::string_view name, int flags, mode_t mode = 0);

// Whether `name` is still there, as Syncthing decides that a file was deleted (osutil.IsDeleted):
// gone when it does not exist, or a parent is a symlink or not a directory; unknown when it cannot
// be told (no permission to look): such a file must not be marked deleted.
enum class Presence { present, gone, unknown };
Presence presence_beneath(int root_fd, std::string_view name);

}  // namespace kith::sync
