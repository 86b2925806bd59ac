#include "sync/file_ops.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "base/base32.hpp"
#include "base/clock.hpp"
#include "crypto/hash.hpp"
#include "sync/errors.hpp"
#include "sync/folder_fs.hpp"
#include "sync/names.hpp"
#include "sync/version_fs.hpp"

namespace kith::sync {
namespace fs = std::filesystem;

namespace {
// ENOSPC and EDQUOT come out as errc::disk_full (io_code): the engine stops the folder instead of
// retrying the item.
Error io(const std::string& what, int err = errno) {
  return Error{io_code(err), what + ": " + std::strerror(err)};
}
bool disk_full(const Error& e) { return e.code == make_error_code(errc::disk_full); }

// pwrite until all of `data` is written: a full disk can first write part of it (a short count, no
// errno), then fail with ENOSPC. False with errno set.
bool pwrite_all(int fd, const char* data, std::size_t size, off_t offset) {
  while (size > 0) {
    const ssize_t n = ::pwrite(fd, data, size, offset);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) {
      errno = ENOSPC;
      return false;
    }
    data += n;
    size -= static_cast<std::size_t>(n);
    offset += n;
  }
  return true;
}
Error refused(const std::string& why) { return Error{base::make_error_code(base::errc::bad_input), why}; }

// Syncthing's short device ID text: the first 7 base32 characters of the ID.
std::string short_text(std::uint64_t id) {
  std::string bytes(8, '\0');
  for (int i = 7; i >= 0; --i, id >>= 8) bytes[static_cast<std::size_t>(i)] = static_cast<char>(id & 0xff);
  std::string text = base::base32_encode(bytes).substr(0, 7);
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::toupper(c); });
  return text;
}

// Is what is on disk at `path` what this node's index last saw there? (So that a pull never silently
// replaces or deletes a change made here since the last scan.)
bool as_indexed(const fs::path& path, const std::optional<store::SyncFile>& local) {
  struct stat st {};
  const bool exists = ::lstat(path.c_str(), &st) == 0;
  if (!local || local->deleted) return !exists;
  if (!exists) return true;  // gone already: nothing of ours to lose
  if (local->type == 1) return S_ISDIR(st.st_mode);
  if (local->type == 4) return S_ISLNK(st.st_mode);
  return S_ISREG(st.st_mode) && st.st_size == local->size && st.st_mtim.tv_sec == local->modified_s &&
         st.st_mtim.tv_nsec == local->modified_ns;
}

Status set_times(const fs::path& path, const store::SyncFile& f, bool symlink) {
  struct timespec times[2];
  times[0].tv_sec = f.modified_s;
  times[0].tv_nsec = f.modified_ns;
  times[1] = times[0];
  if (::utimensat(AT_FDCWD, path.c_str(), times, symlink ? AT_SYMLINK_NOFOLLOW : 0) != 0)
    return tl::unexpected(io("cannot set the time of " + path.string()));
  return {};
}

// The entry this node records once the change is on disk: the global one, as ours, with what the next
// scan compares (inode, and the times and mode actually on disk).
Result<store::SyncFile> recorded(const fs::path& path, const store::SyncFile& global) {
  store::SyncFile out = global;
  out.device.clear();
  out.sequence = 0;
  if (global.deleted) {
    out.blocks.clear();
    out.inode = 0;
    return out;
  }
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return tl::unexpected(io("cannot stat " + path.string()));
  out.inode = st.st_ino;
  out.modified_s = st.st_mtim.tv_sec;
  out.modified_ns = static_cast<std::int32_t>(st.st_mtim.tv_nsec);
  if (global.type != 4) out.permissions = st.st_mode & 0777;
  return out;
}

// The directory `name` is in, opened component by component from the root without following a
// symlink: what is created, renamed or removed through it cannot land outside the folder, even if a
// directory on the way is swapped for a link after parent_dir() looked.
Result<UniqueFd> dir_of(const fs::path& root, const std::string& name) {
  auto root_fd = open_root(root);
  if (!root_fd) return tl::unexpected(root_fd.error());
  const auto parent = fs::path(name).parent_path().generic_string();
  if (parent.empty()) {
    const int fd = ::openat(root_fd->get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return tl::unexpected(io("cannot open " + root.string()));
    return UniqueFd(fd);
  }
  return open_beneath(root_fd->get(), parent, O_RDONLY | O_DIRECTORY);
}

void sync_dir(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}
}  // namespace

PreparedTemp::~PreparedTemp() {
  if (fd >= 0) ::close(fd);
}

Result<fs::path> parent_dir(const fs::path& root, const std::string& name) {
  if (auto ok = check_name(name); !ok) return tl::unexpected(ok.error());
  fs::path dir = root;
  const fs::path parent = fs::path(name).parent_path();
  for (const auto& part : parent) {
    dir /= part;
    struct stat st {};
    if (::lstat(dir.c_str(), &st) != 0) {
      if (errno != ENOENT) return tl::unexpected(io("cannot stat " + dir.string()));
      if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
        return tl::unexpected(io("cannot create " + dir.string()));
      continue;
    }
    if (!S_ISDIR(st.st_mode))
      return tl::unexpected(
          refused(dir.string() + " is not a directory (a symlink or a file): not writing through it"));
  }
  return dir;
}

// What a directory a peer deleted still holds that no index has: the ignored names. Temporary files
// and (?d) ones are removed with it, but only when nothing else is there (as Syncthing's
// deleteDirOnDiskHandleChildren); any other ignored name keeps the directory, and says so.
static Status clear_ignored(const fs::path& path, const std::string& name, const Ignores* ignores) {
  if (!ignores || ignores->empty()) return {};
  std::vector<fs::path> deletable;
  bool kept = false, other = false;
  std::error_code ec;
  for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
    const auto base = it->path().filename().string();
    const auto rel = name + "/" + base;
    const auto m = ignores->match(rel);
    if (is_temp_name(base) || m.deletable)
      deletable.push_back(it->path());
    else if (m.ignored)
      kept = true;
    else
      other = true;
  }
  if (kept)
    return fail(base::make_error_code(base::errc::io_error),
                name +
                    " was deleted on another device but holds files ignored here, so it is kept (a (?d) "
                    "pattern lets ignored files be deleted with their directory)");
  if (other) return {};  // rmdir says it is not empty; the next scan sees what is there
  for (const auto& p : deletable) fs::remove_all(p, ec);  // links are removed, never followed
  return {};
}

Result<store::SyncFile> apply_without_data(const fs::path& root, const Need& need, std::uint64_t short_id,
                                           const Versioning& versioning, const Ignores* ignores) {
  (void)short_id;
  const store::SyncFile& g = need.global;
  auto dir = parent_dir(root, g.name);
  if (!dir) return tl::unexpected(dir.error());
  const fs::path path = *dir / fs::path(g.name).filename();
  if (!need.metadata_only && !as_indexed(path, need.local))
    return fail(base::make_error_code(base::errc::io_error),
                g.name + " changed here since the last scan: kept, and rescanned before it is synced");
  std::error_code ec;
  struct stat st {};
  bool exists = ::lstat(path.c_str(), &st) == 0;
  // A regular file about to be deleted or replaced by a directory or symlink is versioned first (not for
  // a metadata-only change: the file stays; an empty file replacing it is versioned by place_file).
  if (exists && S_ISREG(st.st_mode) && versioning.type != "none" && !need.metadata_only &&
      (g.deleted || g.type != 0)) {
    if (auto kept = archive_version(root, g.name, versioning, base::unix_seconds()); !kept)
      return tl::unexpected(kept.error());
    exists = ::lstat(path.c_str(), &st) == 0;
  }
  if (g.deleted) {
    if (exists) {
      if (S_ISDIR(st.st_mode)) {
        if (auto ok = clear_ignored(path, g.name, ignores); !ok) return tl::unexpected(ok.error());
        if (::rmdir(path.c_str()) != 0)
          return tl::unexpected(io("cannot remove the directory " + path.string()));
      } else if (::unlink(path.c_str()) != 0) {
        return tl::unexpected(io("cannot delete " + path.string()));
      }
      sync_dir(*dir);
    }
    return recorded(path, g);
  }
  if (need.metadata_only) {
    if (g.type == 0 && !g.no_permissions && ::chmod(path.c_str(), g.permissions & 0777) != 0)
      return tl::unexpected(io("cannot set the permissions of " + path.string()));
    if (g.type != 1)
      if (auto t = set_times(path, g, g.type == 4); !t) return tl::unexpected(t.error());
    return recorded(path, g);
  }
  if (g.type == 1) {
    if (exists && !S_ISDIR(st.st_mode)) {
      if (::unlink(path.c_str()) != 0) return tl::unexpected(io("cannot replace " + path.string()));
    }
    if (::mkdir(path.c_str(), g.no_permissions ? 0755 : (g.permissions & 0777) | 0700) != 0 &&
        errno != EEXIST)
      return tl::unexpected(io("cannot create the directory " + path.string()));
    if (!g.no_permissions) ::chmod(path.c_str(), (g.permissions & 0777) | 0700);
    return recorded(path, g);
  }
  if (g.type == 4) {
    // A symlink is recorded as it is; nothing here ever follows it (parent_dir refuses symlinks).
    const fs::path temp = *dir / temp_name(fs::path(g.name).filename().string());
    fs::remove(temp, ec);
    if (::symlink(g.symlink_target.c_str(), temp.c_str()) != 0)
      return tl::unexpected(io("cannot create the symlink " + path.string()));
    if (exists && S_ISDIR(st.st_mode)) fs::remove(path, ec);
    if (::rename(temp.c_str(), path.c_str()) != 0) {
      fs::remove(temp, ec);
      return tl::unexpected(io("cannot put the symlink " + path.string() + " in place"));
    }
    (void)set_times(path, g, true);
    return recorded(path, g);
  }
  // An empty file: no data to fetch, but it is scanned like any other on its way in (it is empty).
  const std::string temp_base = temp_name(fs::path(g.name).filename().string());
  const fs::path temp = *dir / temp_base;
  auto dir_fd = dir_of(root, g.name);
  if (!dir_fd) return tl::unexpected(dir_fd.error());
  const int fd =
      ::openat(dir_fd->get(), temp_base.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return tl::unexpected(io("cannot create " + temp.string()));
  ::fsync(fd);
  ::close(fd);
  return place_file(root, need, temp, short_id, versioning);
}

std::uint64_t temp_allocated(const fs::path& root, const std::string& name) {
  const fs::path rel(name);
  const fs::path temp = root / rel.parent_path() / temp_name(rel.filename().string());
  struct stat st {};
  if (::lstat(temp.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return 0;
  return static_cast<std::uint64_t>(st.st_blocks) * 512;
}

Result<PreparedTemp> prepare_temp(const fs::path& root, const store::SyncFile& g, const FindBlock& find) {
  auto dir = parent_dir(root, g.name);
  if (!dir) return tl::unexpected(dir.error());
  PreparedTemp out;
  const std::string temp_base = temp_name(fs::path(g.name).filename().string());
  out.temp = *dir / temp_base;
  auto dir_fd = dir_of(root, g.name);
  if (!dir_fd) return tl::unexpected(dir_fd.error());
  // A temporary file left by an earlier try (the node was killed or stopped, a device went away): the
  // blocks in it that already have the right SHA-256 are kept, so the pull goes on where it stopped
  // instead of fetching everything again (Syncthing reuses its temporary files the same way).
  std::vector<bool> kept(g.blocks.size(), false);
  std::string buf;
  out.fd = ::openat(dir_fd->get(), temp_base.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC);
  struct stat st {};
  if (out.fd >= 0 && (::fstat(out.fd, &st) != 0 || !S_ISREG(st.st_mode))) ::close(std::exchange(out.fd, -1));
  if (out.fd >= 0) {
    for (std::size_t i = 0; i < g.blocks.size(); ++i) {
      const auto& b = g.blocks[i];
      if (b.offset + b.size > st.st_size) continue;
      buf.resize(static_cast<std::size_t>(b.size));
      kept[i] = ::pread(out.fd, buf.data(), buf.size(), b.offset) == b.size && crypto::sha256(buf) == b.hash;
    }
  } else {
    ::unlinkat(dir_fd->get(), temp_base.c_str(), 0);  // a symlink or other non-file under that name
    out.fd =
        ::openat(dir_fd->get(), temp_base.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (out.fd < 0) return tl::unexpected(io("cannot create " + out.temp.string()));
  }
  if (::ftruncate(out.fd, g.size) != 0) return tl::unexpected(io("cannot size " + out.temp.string()));
  for (std::size_t i = 0; i < g.blocks.size(); ++i) {
    const auto& b = g.blocks[i];
    if (kept[i]) continue;
    auto at = find(b);
    if (!at || !*at) {
      out.missing.push_back(b);
      continue;
    }
    // Read it from the local file that has it, and check it is still that block.
    auto from = parent_dir(root, (*at)->name);
    bool copied = false;
    if (from) {
      const fs::path src = *from / fs::path((*at)->name).filename();
      const int in = ::open(src.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
      if (in >= 0) {
        buf.resize(static_cast<std::size_t>(b.size));
        const ssize_t n = ::pread(in, buf.data(), buf.size(), (*at)->offset);
        ::close(in);
        if (n == b.size && crypto::sha256(buf) == b.hash) {
          if (pwrite_all(out.fd, buf.data(), buf.size(), b.offset))
            copied = true;
          else if (errno == ENOSPC || errno == EDQUOT)  // the temporary file stays, as it is
            return tl::unexpected(io("cannot write " + out.temp.string()));
        }
      }
    }
    if (!copied) out.missing.push_back(b);
  }
  return out;
}

Status write_block(int fd, const store::SyncBlock& block, const std::string& data) {
  if (static_cast<std::int64_t>(data.size()) != block.size)
    return fail(
        base::make_error_code(base::errc::bad_input),
        "a block came with " + std::to_string(data.size()) + " bytes, not " + std::to_string(block.size));
  if (crypto::sha256(data) != block.hash)
    return fail(base::make_error_code(base::errc::bad_input),
                "a block failed its SHA-256 check (refused, fetched again later)");
  if (!pwrite_all(fd, data.data(), data.size(), block.offset))
    return tl::unexpected(io("cannot write a block"));
  return {};
}

Result<fs::path> temp_from_held(const fs::path& root, const store::SyncFile& g, const fs::path& held) {
  const int in = ::open(held.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (in < 0) return tl::unexpected(io("cannot open the held copy " + held.string()));
  const UniqueFd in_fd(in);
  struct stat st {};
  if (::fstat(in, &st) != 0) return tl::unexpected(io("cannot read " + held.string()));
  if (!S_ISREG(st.st_mode) || st.st_size != g.size)
    return tl::unexpected(refused(held.string() +
                                  " is not the file that was held: " + std::to_string(st.st_size) +
                                  " bytes, the version held has " + std::to_string(g.size)));
  auto dir = parent_dir(root, g.name);
  if (!dir) return tl::unexpected(dir.error());
  auto dir_fd = dir_of(root, g.name);
  if (!dir_fd) return tl::unexpected(dir_fd.error());
  const std::string temp_base = temp_name(fs::path(g.name).filename().string());
  const fs::path temp = *dir / temp_base;
  ::unlinkat(dir_fd->get(), temp_base.c_str(), 0);  // whatever an earlier try left under that name
  const int out =
      ::openat(dir_fd->get(), temp_base.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (out < 0) return tl::unexpected(io("cannot create " + temp.string()));
  UniqueFd out_fd(out);
  auto failed = [&](Error e) -> Result<fs::path> {
    out_fd = UniqueFd();
    ::unlinkat(dir_fd->get(), temp_base.c_str(), 0);
    return tl::unexpected(std::move(e));
  };
  std::string buf;
  for (const auto& b : g.blocks) {
    buf.resize(static_cast<std::size_t>(b.size));
    const ssize_t n = b.size == 0 ? 0 : ::pread(in, buf.data(), buf.size(), b.offset);
    if (n < 0) return failed(io("cannot read " + held.string()));
    if (n != b.size || crypto::sha256(buf) != b.hash)
      return failed(refused(held.string() + " differs from the version that was held (the block at byte " +
                            std::to_string(b.offset) + ")"));
    if (!pwrite_all(out, buf.data(), buf.size(), b.offset))
      return failed(io("cannot write " + temp.string()));
  }
  if (::fsync(out) != 0) return failed(io("cannot flush " + temp.string()));
  return temp;
}

Result<store::SyncFile> place_file(const fs::path& root, const Need& need, const fs::path& temp,
                                   std::uint64_t short_id, const Versioning& versioning) {
  (void)short_id;
  const store::SyncFile& g = need.global;
  std::error_code ec;
  auto dir = parent_dir(root, g.name);
  if (!dir) {
    fs::remove(temp, ec);
    return tl::unexpected(dir.error());
  }
  const fs::path path = *dir / fs::path(g.name).filename();
  if (!as_indexed(path, need.local)) {
    fs::remove(temp, ec);
    return fail(base::make_error_code(base::errc::io_error),
                g.name + " changed here since the last scan: kept, and rescanned before it is synced");
  }
  // Everything below goes through the directory opened without following links (dir_of).
  auto dir_fd = dir_of(root, g.name);
  const std::string base = fs::path(g.name).filename().string();
  const std::string temp_base = temp.filename().string();
  if (!dir_fd) {
    fs::remove(temp, ec);
    return tl::unexpected(dir_fd.error());
  }
  const int at = dir_fd->get();
  struct stat st {};
  if (need.conflict && ::fstatat(at, base.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
    // The losing side of a conflict is kept beside the winner, named after the device that made it.
    const std::string loser =
        conflict_name(base, base::unix_seconds(), short_text(need.local ? need.local->modified_by : 0));
    if (::renameat(at, base.c_str(), at, loser.c_str()) != 0) {
      const auto e = io("cannot keep the conflicting copy of " + path.string());
      if (!disk_full(e)) ::unlinkat(at, temp_base.c_str(), 0);  // a full disk keeps it for the next try
      return tl::unexpected(e);
    }
  }
  struct timespec times[2];
  times[0].tv_sec = g.modified_s;
  times[0].tv_nsec = g.modified_ns;
  times[1] = times[0];
  if (::fchmodat(at, temp_base.c_str(), g.no_permissions ? 0644 : (g.permissions & 0777), 0) != 0 ||
      ::utimensat(at, temp_base.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) {
    ::unlinkat(at, temp_base.c_str(), 0);
    return tl::unexpected(io("cannot set the permissions or time of " + temp.string()));
  }
  // The file replaced is kept first (a conflict's loser was kept above, as Syncthing does, not versioned).
  if (!need.conflict && versioning.type != "none")
    if (auto kept = archive_version(root, g.name, versioning, base::unix_seconds()); !kept) {
      if (!disk_full(kept.error())) ::unlinkat(at, temp_base.c_str(), 0);
      return tl::unexpected(kept.error());
    }
  if (::renameat(at, temp_base.c_str(), at, base.c_str()) != 0) {
    const auto e = io("cannot rename " + temp.string() + " into place");
    if (!disk_full(e)) ::unlinkat(at, temp_base.c_str(), 0);  // a full disk keeps it for the next try
    return tl::unexpected(e);
  }
  ::fsync(at);
  return recorded(path, g);
}

}  // namespace kith::sync
