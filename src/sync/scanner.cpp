#include "sync/scanner.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <string_view>
#include <system_error>
#include <unordered_map>

#include "sync/blocks.hpp"
#include "sync/errors.hpp"
#include "sync/folder_fs.hpp"
#include "sync/names.hpp"
#include "sync/version.hpp"

namespace kith::sync {
namespace {

constexpr int TYPE_FILE = 0, TYPE_DIRECTORY = 1, TYPE_SYMLINK = 4;  // BEP's FileInfoType

Error errno_error(int err, const std::string& what) {
  return Error{std::error_code(err, std::generic_category()), what + ": " + std::strerror(err)};
}

Error cancelled_error() { return Error{make_error_code(errc::cancelled), "the scan was cancelled"}; }

// An entry the walk found, with what lstat said of it then.
struct Found {
  std::string name;
  int type = TYPE_FILE;
  struct stat st {};
  std::string target;  // symlinks
};

// The walk: every directory is opened relative to its parent without following symlinks, so the
// walk stays inside the folder however it changes meanwhile. One descriptor is open per level.
class Walker {
 public:
  Walker(const ScanOptions& options, std::vector<ScanError>& errors) : m_options(options), m_errors(errors) {}

  // Fails only when cancelled; everything else is a ScanError and the walk goes on.
  Status walk(int dir_fd, const std::string& prefix) {
    auto names = list(dir_fd, prefix);
    for (const auto& name : names) {
      if (m_options.cancel && m_options.cancel->load(std::memory_order_relaxed))
        return tl::unexpected(cancelled_error());
      const std::string rel = prefix.empty() ? name : prefix + "/" + name;
      if (!valid_utf8(name)) {
        // Syncthing refuses such names too ("item is not in UTF8 encoding"): BEP's names are UTF-8.
        m_errors.push_back({rel, Error{base::make_error_code(base::errc::bad_input),
                                       "the name is not valid UTF-8, so it is not synced"}});
        continue;
      }
      if (is_temp_name(name)) {
        remove_if_stale(dir_fd, name);
        continue;
      }
      if (is_internal(rel)) continue;
      const bool ignored = m_options.ignored && m_options.ignored(rel);
      if (ignored && !m_options.look_inside_ignored) continue;

      Found f;
      f.name = rel;
      if (::fstatat(dir_fd, name.c_str(), &f.st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno != ENOENT) m_errors.push_back({rel, errno_error(errno, "cannot look at " + rel)});
        continue;  // ENOENT: gone since the listing; the deletion check sees to it
      }
      if (ignored && !S_ISDIR(f.st.st_mode)) continue;
      if (S_ISLNK(f.st.st_mode)) {
        f.type = TYPE_SYMLINK;
        auto target = read_link(dir_fd, name, rel);
        if (!target) {
          m_errors.push_back({rel, target.error()});
          continue;
        }
        f.target = std::move(*target);
        found.push_back(std::move(f));
      } else if (S_ISDIR(f.st.st_mode)) {
        f.type = TYPE_DIRECTORY;
        if (!ignored) found.push_back(std::move(f));  // ignored: only looked inside
        const int sub = ::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub < 0) {
          // The directory itself is recorded; what is in it stays as the index has it.
          if (!ignored) m_errors.push_back({rel, errno_error(errno, "cannot read directory " + rel)});
          continue;
        }
        UniqueFd owned(sub);
        if (auto ok = walk(sub, rel); !ok) return ok;
      } else if (S_ISREG(f.st.st_mode)) {
        f.type = TYPE_FILE;
        found.push_back(std::move(f));
      }
      // Sockets, FIFOs and devices are not synced (Syncthing skips them too).
    }
    return {};
  }

  std::vector<Found> found;

 private:
  // A pull's temporary file not touched for remove_temps_older_than_s: removed (unlinkat removes a
  // symlink itself, never its target). Scans never run beside a pull of the same folder.
  void remove_if_stale(int dir_fd, const std::string& name) const {
    if (m_options.remove_temps_older_than_s <= 0) return;
    struct stat st {};
    if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) return;
    const auto age = static_cast<std::int64_t>(std::time(nullptr)) - static_cast<std::int64_t>(st.st_mtime);
    if (age > m_options.remove_temps_older_than_s) ::unlinkat(dir_fd, name.c_str(), 0);
  }

  std::vector<std::string> list(int dir_fd, const std::string& prefix) {
    std::vector<std::string> names;
    const int fd = ::dup(dir_fd);  // fdopendir takes the descriptor; the walk keeps using dir_fd
    DIR* dir = fd < 0 ? nullptr : ::fdopendir(fd);
    if (!dir) {
      const int err = errno;
      if (fd >= 0) ::close(fd);
      m_errors.push_back({prefix, errno_error(err, "cannot read directory " + shown(prefix))});
      return names;
    }
    ::rewinddir(dir);
    for (;;) {
      errno = 0;
      const dirent* e = ::readdir(dir);
      if (!e) {
        if (errno != 0)
          m_errors.push_back({prefix, errno_error(errno, "cannot read directory " + shown(prefix))});
        break;
      }
      const std::string_view n(e->d_name);
      if (n != "." && n != "..") names.emplace_back(n);
    }
    ::closedir(dir);
    return names;
  }

  static Result<std::string> read_link(int dir_fd, const std::string& name, const std::string& rel) {
    std::string target(256, '\0');
    for (;;) {
      const ssize_t n = ::readlinkat(dir_fd, name.c_str(), target.data(), target.size());
      if (n < 0) return tl::unexpected(errno_error(errno, "cannot read link " + rel));
      if (static_cast<std::size_t>(n) < target.size()) {
        target.resize(static_cast<std::size_t>(n));
        return target;
      }
      target.resize(target.size() * 2);  // it may have been cut short: try again with more room
    }
  }

  static std::string shown(const std::string& prefix) { return prefix.empty() ? "(the folder)" : prefix; }

  const ScanOptions& m_options;
  std::vector<ScanError>& m_errors;
};

bool same_permissions(const store::SyncFile& prev, const store::SyncFile& now, const ScanOptions& options) {
  // Syncthing's isEquivalent: permissions do not count when either side has none to compare.
  return options.ignore_permissions || prev.no_permissions || now.no_permissions ||
         (prev.permissions & 0777) == (now.permissions & 0777);
}

// The entry as the walk found it, its version moved on from the previous one's.
store::SyncFile entry_for(const Found& f, const store::SyncFile* prev, const ScanOptions& options) {
  store::SyncFile e;
  if (prev) e.folder = prev->folder;
  e.name = f.name;
  e.type = f.type;
  e.inode = static_cast<std::uint64_t>(f.st.st_ino);
  if (f.type == TYPE_SYMLINK) {
    // A symlink has no permissions or times of its own to sync (Syncthing's CreateFileInfo).
    e.no_permissions = true;
    e.symlink_target = f.target;
  } else {
    e.permissions = static_cast<std::uint32_t>(f.st.st_mode) & 0777;
    e.no_permissions = options.ignore_permissions;
    e.modified_s = f.st.st_mtim.tv_sec;
    e.modified_ns = static_cast<std::int32_t>(f.st.st_mtim.tv_nsec);
  }
  if (f.type == TYPE_FILE) {
    e.size = f.st.st_size;
    // Any previous entry counts, as Syncthing's walker has it (FileInfo.BlockSize() is at least 128 KiB).
    e.block_size = block_size_for(e.size, prev ? std::max(prev->block_size, MIN_BLOCK_SIZE) : 0);
  }
  e.modified_by = options.short_id;
  if (prev) e.version = prev->version;
  update(e.version, options.short_id);
  return e;
}

enum class Verdict { unchanged, changed, inode_only };

Verdict compare_with(const store::SyncFile& e, const store::SyncFile* prev, const ScanOptions& options) {
  if (!prev || prev->deleted || prev->invalid || prev->type != e.type) return Verdict::changed;
  switch (e.type) {
    case TYPE_DIRECTORY:
      return same_permissions(*prev, e, options) ? Verdict::unchanged : Verdict::changed;
    case TYPE_SYMLINK:
      return prev->symlink_target == e.symlink_target ? Verdict::unchanged : Verdict::changed;
    default:
      if (prev->size != e.size || prev->modified_s != e.modified_s || prev->modified_ns != e.modified_ns ||
          !same_permissions(*prev, e, options))
        return Verdict::changed;
      return prev->inode == e.inode ? Verdict::unchanged : Verdict::inode_only;
  }
}

// A file to hash: the entry to complete, the walk's lstat to check it against, and the previous
// entry when only the inode differed.
struct ToHash {
  store::SyncFile entry;
  struct stat st {};
  const store::SyncFile* inode_only_prev = nullptr;
};

bool same_stat(const struct stat& a, const struct stat& b) {
  return a.st_ino == b.st_ino && a.st_dev == b.st_dev && a.st_size == b.st_size &&
         a.st_mtim.tv_sec == b.st_mtim.tv_sec && a.st_mtim.tv_nsec == b.st_mtim.tv_nsec;
}

}  // namespace

Result<ScanResult> scan_folder(const std::filesystem::path& root,
                               const std::vector<store::SyncFile>& previous, const ScanOptions& options) {
  if (options.short_id == 0)
    return fail(base::make_error_code(base::errc::invalid_argument), "scan_folder: short_id must not be 0");
  struct stat root_st {};
  if (::stat(root.c_str(), &root_st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR)
      return fail(make_error_code(errc::folder_missing), "folder path " + root.string() + " is missing");
    return tl::unexpected(errno_error(errno, "cannot look at folder " + root.string()));
  }
  if (!S_ISDIR(root_st.st_mode))
    return fail(make_error_code(errc::folder_missing),
                "folder path " + root.string() + " is not a directory");
  auto root_fd = open_root(root);
  if (!root_fd) return tl::unexpected(root_fd.error());
  // The marker is what tells "every file was deleted" from "the disk is not mounted" (or the folder
  // was moved): without it, nothing may be marked deleted, so nothing is scanned. Any kind of entry
  // will do, followed if a symlink, as Syncthing's CheckPath has it.
  struct stat marker {};
  const std::string marker_name(FOLDER_MARKER);
  if (::fstatat(root_fd->get(), marker_name.c_str(), &marker, 0) != 0) {
    if (errno == ENOENT)
      return fail(make_error_code(errc::marker_missing),
                  "folder marker " + (root / marker_name).string() +
                      " is missing: is the disk mounted? Not scanning, so nothing is marked deleted");
    return tl::unexpected(
        errno_error(errno, "cannot look at folder marker " + (root / marker_name).string()));
  }

  ScanResult result;
  Walker walker(options, result.errors);
  if (auto ok = walker.walk(root_fd->get(), ""); !ok) return tl::unexpected(ok.error());

  std::unordered_map<std::string_view, const store::SyncFile*> by_name;
  by_name.reserve(previous.size());
  for (const auto& p : previous) by_name[p.name] = &p;
  std::unordered_map<std::string_view, bool> seen;  // name -> still counts as present
  seen.reserve(walker.found.size());

  std::vector<ToHash> to_hash;
  std::uint64_t to_hash_bytes = 0;
  for (const auto& f : walker.found) {
    seen[f.name] = true;
    auto it = by_name.find(f.name);
    const store::SyncFile* prev = it == by_name.end() ? nullptr : it->second;
    auto entry = entry_for(f, prev, options);
    const auto verdict = compare_with(entry, prev, options);
    if (verdict == Verdict::unchanged) {
      ++result.unchanged;
    } else if (entry.type == TYPE_FILE) {
      to_hash_bytes += static_cast<std::uint64_t>(entry.size);
      to_hash.push_back({std::move(entry), f.st, verdict == Verdict::inode_only ? prev : nullptr});
    } else {
      result.changed.push_back(std::move(entry));
    }
  }

  // Hash what needs it, after the walk so that progress can say "of how much".
  if (options.progress) options.progress(0, to_hash_bytes);
  std::uint64_t hashed = 0;
  auto on_block = [&](std::uint64_t bytes) {
    hashed += bytes;
    if (options.progress) options.progress(hashed, to_hash_bytes);
  };
  for (auto& job : to_hash) {
    auto& e = job.entry;
    auto fd = open_beneath(root_fd->get(), e.name, O_RDONLY | O_NONBLOCK);
    if (!fd) {
      if (fd.error().code == std::errc::no_such_file_or_directory) {
        seen.find(e.name)->second = false;  // gone since the walk: the deletion check below decides
        continue;
      }
      result.errors.push_back({e.name, fd.error()});
      continue;
    }
    auto blocks = hash_fd(fd->get(), e.name, e.block_size, options.cancel, on_block);
    if (!blocks) {
      if (blocks.error().code == make_error_code(errc::cancelled)) return tl::unexpected(cancelled_error());
      result.errors.push_back({e.name, blocks.error()});
      continue;
    }
    // Written to between the walk and the end of hashing: what was hashed may not match the size
    // and mtime the walk saw, so record nothing this round.
    struct stat now {};
    if (::fstat(fd->get(), &now) != 0 || !same_stat(now, job.st)) {
      result.errors.push_back({e.name, Error{make_error_code(errc::changed_while_hashing),
                                             e.name + " changed while it was hashed"}});
      continue;
    }
    result.hashed_bytes += static_cast<std::uint64_t>(e.size);
    e.blocks = std::move(*blocks);
    e.blocks_hash = blocks_hash(e.blocks);
    // `previous` may come without block lists (store::Blocks::without): their hash says as much.
    if (job.inode_only_prev && job.inode_only_prev->block_size == e.block_size &&
        !job.inode_only_prev->blocks_hash.empty() && job.inode_only_prev->blocks_hash == e.blocks_hash) {
      auto same = *job.inode_only_prev;
      same.inode = e.inode;
      result.refreshed.push_back(std::move(same));
      continue;
    }
    result.changed.push_back(std::move(e));
  }

  // What the index has but the walk did not see: deleted if positively gone, invalid if now ignored.
  const auto now_s = static_cast<std::int64_t>(std::time(nullptr));
  auto ignored_here = [&](const std::string& name) {
    if (!options.ignored) return false;
    if (options.look_inside_ignored) return options.ignored(name);  // each name decides for itself
    for (auto slash = name.find('/'); slash != std::string::npos; slash = name.find('/', slash + 1))
      if (options.ignored(name.substr(0, slash))) return true;
    return options.ignored(name);
  };
  for (const auto& p : previous) {
    if (options.cancel && options.cancel->load(std::memory_order_relaxed))
      return tl::unexpected(cancelled_error());
    if (p.deleted) continue;
    if (auto it = seen.find(p.name); it != seen.end() && it->second) continue;
    if (is_internal(p.name) || is_temp_name(p.name)) continue;
    if (ignored_here(p.name)) {
      if (p.invalid) continue;
      // Syncthing's ConvertToIgnoredFileInfo: the content is no longer ours to offer; not a new
      // version of the file.
      auto e = p;
      e.invalid = true;
      e.blocks.clear();
      e.blocks_hash.clear();
      e.size = 0;
      e.sequence = 0;
      result.changed.push_back(std::move(e));
      continue;
    }
    if (presence_beneath(root_fd->get(), p.name) != Presence::gone) continue;
    // Syncthing's SetDeleted.
    auto e = p;
    e.deleted = true;
    e.invalid = false;
    e.blocks.clear();
    e.blocks_hash.clear();
    e.size = 0;
    e.inode = 0;
    e.modified_s = now_s;
    e.modified_ns = 0;
    e.modified_by = options.short_id;
    e.sequence = 0;
    update(e.version, options.short_id);
    result.changed.push_back(std::move(e));
  }

  auto by = [](const auto& a, const auto& b) { return a.name < b.name; };
  std::sort(result.changed.begin(), result.changed.end(), by);
  std::sort(result.refreshed.begin(), result.refreshed.end(), by);
  std::sort(result.errors.begin(), result.errors.end(), by);
  return result;
}

Status make_folder_marker(const std::filesystem::path& root) {
  std::error_code ec;
  std::filesystem::create_directories(root, ec);
  if (ec) return fail(ec, "cannot create folder " + root.string() + ": " + ec.message());
  const auto marker = root / std::string(FOLDER_MARKER);
  if (::mkdir(marker.c_str(), 0777) != 0 && errno != EEXIST)
    return tl::unexpected(errno_error(errno, "cannot create folder marker " + marker.string()));
  // Make the new entry durable before anything relies on it (Syncthing syncs the folder, too).
  auto dir = open_root(root);
  if (dir) (void)::fsync(dir->get());  // best effort, as Syncthing's
  return {};
}

}  // namespace kith::sync
