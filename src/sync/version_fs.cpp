#include "sync/version_fs.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>

#include "sync/errors.hpp"
#include "sync/folder_fs.hpp"
#include "sync/names.hpp"

namespace kith::sync {
namespace {

Error io(const std::string& what, int err = errno) {
  return Error{io_code(err), what + ": " + std::strerror(err)};
}
Error refused(const std::string& why) { return Error{base::make_error_code(base::errc::bad_input), why}; }

std::string parent_of(const std::string& name) {
  const auto slash = name.rfind('/');
  return slash == std::string::npos ? std::string() : name.substr(0, slash);
}
std::string base_of(const std::string& name) {
  const auto slash = name.rfind('/');
  return slash == std::string::npos ? name : name.substr(slash + 1);
}
std::string joined(const std::string& dir, const std::string& name) {
  return dir.empty() ? name : dir + "/" + name;
}

// The directory `rel` ('/'-separated, "" for the root) beneath root_fd as an O_PATH descriptor, every
// component opened with O_NOFOLLOW (and made, 0755, when `create` and missing). A component that is a
// symlink or a file fails: nothing is ever created or moved through it. ENOENT (not `create`) is
// base's not_found.
Result<UniqueFd> open_dir(int root_fd, const std::string& rel, bool create) {
  UniqueFd dir(::openat(root_fd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!dir) return tl::unexpected(io("cannot open the folder"));
  std::size_t start = 0;
  while (start < rel.size()) {
    auto slash = rel.find('/', start);
    if (slash == std::string::npos) slash = rel.size();
    const std::string part = rel.substr(start, slash - start);
    const std::string so_far = rel.substr(0, slash);
    if (part.empty() || part == "." || part == "..")
      return tl::unexpected(refused("not a folder path: " + rel));
    int fd = ::openat(dir.get(), part.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && create) {
      if (::mkdirat(dir.get(), part.c_str(), 0755) != 0 && errno != EEXIST)
        return tl::unexpected(io("cannot create " + so_far));
      fd = ::openat(dir.get(), part.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
    if (fd < 0) {
      if (errno == ENOENT)
        return fail(base::make_error_code(base::errc::not_found), so_far + " does not exist");
      if (errno == ENOTDIR || errno == ELOOP)
        return tl::unexpected(
            refused(so_far + " is not a directory (a symlink or a file): not going through it"));
      return tl::unexpected(io("cannot open " + so_far));
    }
    dir = UniqueFd(fd);
    start = slash + 1;
  }
  return dir;
}

struct Entry {
  std::string name;
  struct stat st {};
};
// The entries of a directory (lstat'ed: a symlink is reported as one).
Result<std::vector<Entry>> entries(int dir_fd, const std::string& what) {
  const int fd = ::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return tl::unexpected(io("cannot read " + what));
  DIR* d = ::fdopendir(fd);
  if (!d) {
    ::close(fd);
    return tl::unexpected(io("cannot read " + what));
  }
  std::vector<Entry> out;
  while (const dirent* e = ::readdir(d)) {
    const std::string n = e->d_name;
    if (n == "." || n == "..") continue;
    Entry entry{n, {}};
    if (::fstatat(dir_fd, n.c_str(), &entry.st, AT_SYMLINK_NOFOLLOW) == 0) out.push_back(std::move(entry));
  }
  ::closedir(d);
  return out;
}

KeptVersion kept(const std::string& path, const struct stat& st) {
  KeptVersion k;
  k.path = path;
  k.size = st.st_size;
  if (auto u = untag_name(path); u && parse_version_tag(u->tag)) {
    k.name = u->name;
    k.time = *parse_version_tag(u->tag);
    k.tagged = true;
  } else {  // the trash can's: its own name, dated by its mtime
    k.name = path;
    k.time = st.st_mtim.tv_sec;
  }
  return k;
}

// The versions of the files in .stversions/`rel` (and below when `recurse`); symlinks and others skipped.
Status collect(int root_fd, const std::string& rel, bool recurse, std::vector<KeptVersion>& out) {
  auto dir = open_dir(root_fd, joined(std::string(VERSIONS_DIR), rel), false);
  if (!dir)
    return dir.error().code == base::make_error_code(base::errc::not_found)
               ? Status{}
               : Status(tl::unexpected(dir.error()));
  auto list = entries(dir->get(), joined(std::string(VERSIONS_DIR), rel));
  if (!list) return tl::unexpected(list.error());
  for (const auto& e : *list) {
    const std::string path = joined(rel, e.name);
    if (S_ISREG(e.st.st_mode))
      out.push_back(kept(path, e.st));
    else if (S_ISDIR(e.st.st_mode) && recurse)
      if (auto ok = collect(root_fd, path, true, out); !ok) return ok;
  }
  return {};
}

void sort_versions(std::vector<KeptVersion>& v) {
  std::sort(v.begin(), v.end(), [](const KeptVersion& a, const KeptVersion& b) {
    return a.name != b.name ? a.name < b.name : a.time != b.time ? a.time < b.time : a.path < b.path;
  });
}

// Deletes the given versions (paths relative to .stversions), then their directories if left empty.
std::size_t remove_versions(int root_fd, const std::vector<std::string>& paths) {
  std::size_t removed = 0;
  for (const auto& p : paths) {
    auto dir = open_dir(root_fd, joined(std::string(VERSIONS_DIR), parent_of(p)), false);
    if (!dir || ::unlinkat(dir->get(), base_of(p).c_str(), 0) != 0) continue;
    ++removed;
    // Empty directories go, deepest first; one still holding something refuses (ENOTEMPTY) and stops it.
    for (std::string d = parent_of(p); !d.empty(); d = parent_of(d)) {
      auto up = open_dir(root_fd, joined(std::string(VERSIONS_DIR), parent_of(d)), false);
      if (!up || ::unlinkat(up->get(), base_of(d).c_str(), AT_REMOVEDIR) != 0) break;
    }
  }
  return removed;
}

Result<std::vector<KeptVersion>> versions_of(int root_fd, const std::string& name) {
  std::vector<KeptVersion> all;
  if (auto ok = collect(root_fd, parent_of(name), false, all); !ok) return tl::unexpected(ok.error());
  std::vector<KeptVersion> out;
  for (auto& k : all)
    if (k.name == name) out.push_back(std::move(k));
  sort_versions(out);
  return out;
}

}  // namespace

Status archive_version(const std::filesystem::path& root, const std::string& name, const Versioning& v,
                       std::int64_t now) {
  if (auto ok = check_name(name); !ok) return ok;
  auto root_fd = open_root(root);
  if (!root_fd) return tl::unexpected(root_fd.error());
  auto from = open_dir(root_fd->get(), parent_of(name), false);
  if (!from) return tl::unexpected(from.error());
  const std::string base = base_of(name);
  struct stat st {};
  if (::fstatat(from->get(), base.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return {};
    return tl::unexpected(io("cannot look at " + name));
  }
  if (!S_ISREG(st.st_mode)) return {};  // directories and symlinks are not versioned (as in Syncthing)
  const std::string why = "cannot keep the old version of " + name + " in " + std::string(VERSIONS_DIR) +
                          " (it stays as it is; the change waits until this is fixed)";
  auto to = open_dir(root_fd->get(), joined(std::string(VERSIONS_DIR), parent_of(name)), true);
  if (!to) return fail(to.error().code, why + ": " + to.error().message);
  const bool trashcan = v.type == "trashcan";
  const std::string kept_as = trashcan ? base : tagged_name(base, version_tag(now));
  if (::renameat(from->get(), base.c_str(), to->get(), kept_as.c_str()) != 0) return tl::unexpected(io(why));
  if (trashcan) {
    // The trash can's copy carries no tag: its mtime says when it was thrown away (for the cleanout).
    struct timespec times[2] = {{now, 0}, {now, 0}};
    (void)::utimensat(to->get(), kept_as.c_str(), times, AT_SYMLINK_NOFOLLOW);
    return {};
  }
  if (v.type == "simple" || v.type == "staggered") {  // as Syncthing: this file's versions, at once
    auto mine = versions_of(root_fd->get(), name);
    if (mine) remove_versions(root_fd->get(), versions_to_remove(v, *mine, now));
  }
  return {};
}

Result<std::vector<KeptVersion>> list_versions(const std::filesystem::path& root,
                                               const std::optional<std::string>& name) {
  auto root_fd = open_root(root);
  if (!root_fd) return tl::unexpected(root_fd.error());
  if (name) {
    if (auto ok = check_name(*name); !ok) return tl::unexpected(ok.error());
    return versions_of(root_fd->get(), *name);
  }
  std::vector<KeptVersion> out;
  if (auto ok = collect(root_fd->get(), "", true, out); !ok) return tl::unexpected(ok.error());
  sort_versions(out);
  return out;
}

Result<std::size_t> clean_versions(const std::filesystem::path& root, const Versioning& v, std::int64_t now) {
  auto all = list_versions(root);
  if (!all) return tl::unexpected(all.error());
  auto root_fd = open_root(root);
  if (!root_fd) return tl::unexpected(root_fd.error());
  return remove_versions(root_fd->get(), versions_to_remove(v, *all, now));
}

Result<KeptVersion> restore_version(const std::filesystem::path& root, const std::string& name,
                                    const std::optional<std::string>& tag, const Versioning& v,
                                    std::int64_t now) {
  if (auto ok = check_name(name); !ok) return tl::unexpected(ok.error());
  auto root_fd = open_root(root);
  if (!root_fd) return tl::unexpected(root_fd.error());
  auto mine = versions_of(root_fd->get(), name);
  if (!mine) return tl::unexpected(mine.error());
  const KeptVersion* chosen = mine->empty() ? nullptr : &mine->back();  // the newest
  if (tag) {
    chosen = nullptr;
    for (const auto& k : *mine)
      if (version_tag(k.time) == *tag) chosen = &k;
  }
  if (!chosen)
    return fail(base::make_error_code(base::errc::not_found),
                "no kept version of " + name + (tag ? " from " + *tag : std::string()) +
                    " (`kith sync versions FOLDER " + name + "` lists them)");
  const KeptVersion version = *chosen;
  auto from = open_dir(root_fd->get(), joined(std::string(VERSIONS_DIR), parent_of(version.path)), false);
  if (!from) return tl::unexpected(from.error());
  auto to = open_dir(root_fd->get(), parent_of(name), true);
  if (!to) return tl::unexpected(to.error());
  const std::string base = base_of(name);
  struct stat st {};
  const bool exists = ::fstatat(to->get(), base.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
  if (exists && !S_ISREG(st.st_mode))
    return tl::unexpected(refused(name + " is a directory or a symlink here: move it away, then restore"));
  // The version first goes beside its destination under a temporary name (which scans skip), so that
  // archiving the current file cannot land on it (both may carry this second's tag, or the trash can's
  // plain name). The files in .stversions were scanned for malware when they arrived: putting one back
  // needs no new scan.
  const std::string temp = temp_name(base);
  if (::renameat(from->get(), base_of(version.path).c_str(), to->get(), temp.c_str()) != 0)
    return tl::unexpected(io("cannot take " + version.path + " out of " + std::string(VERSIONS_DIR)));
  auto put_back = [&] { ::renameat(to->get(), temp.c_str(), from->get(), base_of(version.path).c_str()); };
  if (exists)
    if (auto ok = archive_version(root, name, v, now); !ok) {
      put_back();
      return tl::unexpected(ok.error());
    }
  if (::renameat(to->get(), temp.c_str(), to->get(), base.c_str()) != 0) {
    const int err = errno;
    put_back();
    return tl::unexpected(io("cannot put " + name + " back in place", err));
  }
  return version;
}

}  // namespace kith::sync
