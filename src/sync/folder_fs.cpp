#include "sync/folder_fs.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>

namespace kith::sync {
namespace {

Error errno_error(int err, std::string what) {
  return Error{std::error_code(err, std::generic_category()), std::move(what) + ": " + std::strerror(err)};
}

// Walks the parents of `name` from `root_fd` (refusing "", "." and "..": never up, never around):
// returns an O_PATH descriptor of the last parent (none,
// with `parent_is_root` set, when `name` has one component) and the last component in `leaf`.
// Errors carry the errno of the component that failed.
Result<UniqueFd> open_parent(int root_fd, std::string_view name, std::string_view& leaf,
                             bool& parent_is_root) {
  parent_is_root = true;
  UniqueFd dir;
  std::size_t start = 0;
  for (;;) {
    const auto slash = name.find('/', start);
    if (slash == std::string_view::npos) break;
    const std::string part(name.substr(start, slash - start));
    if (part.empty() || part == "." || part == "..")
      return tl::unexpected(errno_error(EINVAL, "cannot open \"" + std::string(name) + "\" in a folder"));
    const int at = parent_is_root ? root_fd : dir.get();
    const int fd = ::openat(at, part.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
      return tl::unexpected(errno_error(errno, "cannot open " + std::string(name.substr(0, slash))));
    dir = UniqueFd(fd);
    parent_is_root = false;
    start = slash + 1;
  }
  leaf = name.substr(start);
  return dir;
}

}  // namespace

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) {
    if (m_fd >= 0) ::close(m_fd);
    m_fd = std::exchange(other.m_fd, -1);
  }
  return *this;
}

UniqueFd::~UniqueFd() {
  if (m_fd >= 0) ::close(m_fd);
}

Result<UniqueFd> open_root(const std::filesystem::path& root) {
  const int fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return tl::unexpected(errno_error(errno, "cannot open folder " + root.string()));
  return UniqueFd(fd);
}

Result<UniqueFd> open_beneath(int root_fd, std::string_view name, int flags, mode_t mode) {
  if (name.empty() || name.front() == '/')
    return tl::unexpected(errno_error(EINVAL, "cannot open \"" + std::string(name) + "\" in a folder"));
  std::string_view leaf;
  bool at_root = true;
  auto parent = open_parent(root_fd, name, leaf, at_root);
  if (!parent) return tl::unexpected(parent.error());
  const std::string last(leaf);
  if (last.empty() || last == "." || last == "..")
    return tl::unexpected(errno_error(EINVAL, "cannot open \"" + std::string(name) + "\" in a folder"));
  const int fd =
      ::openat(at_root ? root_fd : parent->get(), last.c_str(), flags | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0) return tl::unexpected(errno_error(errno, "cannot open " + std::string(name)));
  return UniqueFd(fd);
}

Presence presence_beneath(int root_fd, std::string_view name) {
  if (name.empty() || name.front() == '/') return Presence::unknown;
  std::string_view leaf;
  bool at_root = true;
  auto parent = open_parent(root_fd, name, leaf, at_root);
  if (!parent) {
    const int err = parent.error().code.value();
    // ENOTDIR and ELOOP: a parent is now a file or a symlink, so nothing below it is in the folder.
    return err == ENOENT || err == ENOTDIR || err == ELOOP ? Presence::gone : Presence::unknown;
  }
  if (leaf.empty() || leaf == "." || leaf == "..") return Presence::unknown;
  struct stat st {};
  if (::fstatat(at_root ? root_fd : parent->get(), std::string(leaf).c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0)
    return Presence::present;
  return errno == ENOENT || errno == ENOTDIR ? Presence::gone : Presence::unknown;
}

}  // namespace kith::sync
