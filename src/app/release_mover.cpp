#include "app/release_mover.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <stdio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>

#include "base/hex.hpp"
#include "crypto/random.hpp"

namespace kith::app {
namespace {

namespace fs = std::filesystem;

Error io_error(const std::string& what, int err) {
  return Error{std::error_code(err, std::generic_category()), what + ": " + std::strerror(err)};
}

// rename(2) that fails with EEXIST instead of replacing.
int rename_noreplace(const fs::path& from, const fs::path& to) {
  return ::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0 ? 0 : errno;
}

Status fsync_path(const fs::path& p, int flags) {
  int fd = ::open(p.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return tl::unexpected(io_error("cannot open " + p.string(), errno));
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return tl::unexpected(io_error("cannot sync " + p.string(), err));
  return {};
}

// Another file system: copy to a hidden sibling, sync it, link it into place (link fails rather than
// replace), then drop the temporary name and the source.
Status copy_across(const fs::path& from, const fs::path& to) {
  const auto tmp =
      to.parent_path() / ("." + to.filename().string() + ".kith-" + base::to_hex(crypto::random_bytes(4)));
  std::error_code ec;
  fs::copy_file(from, tmp, fs::copy_options::none, ec);
  if (ec) {
    fs::remove(tmp, ec);
    return tl::unexpected(
        io_error("cannot copy " + from.string() + " to " + to.parent_path().string(), ec.value()));
  }
  if (auto r = fsync_path(tmp, O_RDONLY); !r) {
    fs::remove(tmp, ec);
    return r;
  }
  if (::link(tmp.c_str(), to.c_str()) != 0) {
    int err = errno;
    fs::remove(tmp, ec);
    return tl::unexpected(
        io_error(err == EEXIST ? to.string() + " already exists" : "cannot create " + to.string(), err));
  }
  fs::remove(tmp, ec);
  fs::remove(from, ec);
  return {};
}

Status move_one(const fs::path& from, const fs::path& to) {
  int err = rename_noreplace(from, to);
  if (err == 0) return {};
  if (err == EEXIST)
    return fail(std::error_code(EEXIST, std::generic_category()),
                to.string() + " already exists; it was not replaced");
  if (err == EXDEV) return copy_across(from, to);
  return tl::unexpected(io_error("cannot move " + from.string() + " to " + to.string(), err));
}

}  // namespace

Status move_files(const fs::path& from, const fs::path& to, const std::vector<std::string>& files) {
  std::vector<std::pair<fs::path, fs::path>> moved;  // (source, target), to undo
  std::vector<fs::path> made;                        // folders created, deepest last
  auto undo = [&] {
    std::error_code ec;
    for (auto it = moved.rbegin(); it != moved.rend(); ++it)
      if (!move_one(it->second, it->first))
        spdlog::error("release: could not move {} back to {}", it->second.string(), it->first.string());
    for (auto it = made.rbegin(); it != made.rend(); ++it) fs::remove(*it, ec);  // only if empty
  };
  for (const auto& rel : files) {
    const fs::path source = from / rel;
    const fs::path target = to / rel;
    // Folders of the target, outermost first; remember the ones that did not exist.
    std::vector<fs::path> missing;
    for (auto dir = target.parent_path(); !dir.empty() && dir != dir.parent_path(); dir = dir.parent_path()) {
      std::error_code ec;
      if (fs::exists(dir, ec)) break;
      missing.push_back(dir);
    }
    for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
      std::error_code ec;
      if (!fs::create_directory(*it, ec) && ec) {
        undo();
        return tl::unexpected(io_error("cannot create " + it->string(), ec.value()));
      }
      made.push_back(*it);
    }
    if (auto r = move_one(source, target); !r) {
      undo();
      return r;
    }
    moved.emplace_back(source, target);
  }
  // The new folder entries must survive a crash too. The files are in place already: a folder that
  // cannot be synced is worth a log line, not an undo.
  std::set<fs::path> parents;
  for (const auto& [source, target] : moved) parents.insert(target.parent_path());
  for (const auto& dir : parents)
    if (auto r = fsync_path(dir, O_RDONLY | O_DIRECTORY); !r) spdlog::warn("release: {}", r.error().message);
  return {};
}

}  // namespace kith::app
