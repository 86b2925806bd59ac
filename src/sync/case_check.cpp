#include "sync/case_check.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <locale.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wctype.h>

#include <cstdint>

#include "sync/errors.hpp"
#include "sync/folder_fs.hpp"

namespace kith::sync {
namespace {

// Whether the directory `dir_fd` lists an entry spelt exactly `part`. When not (the file system matched
// `part` to another spelling), `other` gets the first entry that folds to the same ASCII name, if any.
// Reads the whole directory: only on case-insensitive folders, and only for components that exist.
bool listed_exactly(int dir_fd, const std::string& part, std::string& other) {
  const int fd = ::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return true;  // cannot look: leave it to the operation
  DIR* dir = ::fdopendir(fd);
  if (!dir) {
    ::close(fd);
    return true;
  }
  const auto folded = fold_case(part);
  bool exact = false;
  while (const dirent* e = ::readdir(dir)) {
    const std::string_view n(e->d_name);
    if (n == part) {
      exact = true;
      break;
    }
    if (other.empty() && fold_case(n) == folded) other = n;
  }
  ::closedir(dir);
  return exact;
}

}  // namespace

Error case_conflict(std::string_view name, std::string_view other, std::string_view where) {
  return Error{
      make_error_code(errc::case_conflict),
      "\"" + std::string(name) + "\" and \"" + std::string(other) + "\" (" + std::string(where) +
          ") are one name on this file system, which does not tell upper from lower case; rename one "
          "of them on a device that has both (or sync this folder to a case-sensitive file system)"};
}

std::string fold_case(std::string_view name) {
  // Each UTF-8 character lowered by the C library's Unicode tables (C.UTF-8) and written back as
  // UTF-8; bytes that are not valid UTF-8 stay as they are. Simple case mapping only (one character
  // to one), as exFAT's up-case table. wchar_t holds a code point on Linux.
  static const locale_t utf8 = ::newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(nullptr));
  std::string out;
  out.reserve(name.size());
  for (std::size_t i = 0; i < name.size();) {
    const auto c = static_cast<unsigned char>(name[i]);
    const std::size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    std::uint32_t cp = n == 1 ? c : n == 2 ? c & 0x1f : n == 3 ? c & 0x0f : c & 0x07;
    bool valid = n != 0 && i + n <= name.size();
    for (std::size_t k = 1; valid && k < n; ++k) {
      const auto cont = static_cast<unsigned char>(name[i + k]);
      valid = (cont >> 6) == 0x2;
      cp = (cp << 6) | (cont & 0x3f);
    }
    if (!valid) {
      out += name[i++];
      continue;
    }
    if (cp >= 'A' && cp <= 'Z')
      cp += 'a' - 'A';
    else if (cp >= 0x80 && utf8)
      cp = static_cast<std::uint32_t>(::towlower_l(static_cast<wint_t>(cp), utf8));
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xc0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xe0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
      out += static_cast<char>(0xf0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    }
    i += n;
  }
  return out;
}

bool case_insensitive(const std::filesystem::path& root) {
  auto dir = open_root(root);
  if (!dir) return false;
  struct stat st {};
  if (::fstatat(dir->get(), ".STFOLDER", &st, AT_SYMLINK_NOFOLLOW) != 0) return false;
  std::string other;
  return !listed_exactly(dir->get(), ".STFOLDER", other);
}

Status check_case(const std::filesystem::path& root, std::string_view name) {
  auto root_fd = open_root(root);
  if (!root_fd) return {};  // the operation itself will say why
  UniqueFd held;
  int dir = root_fd->get();
  std::size_t start = 0;
  while (start <= name.size()) {
    const auto slash = name.find('/', start);
    const auto end = slash == std::string_view::npos ? name.size() : slash;
    const std::string part(name.substr(start, end - start));
    struct stat st {};
    if (part.empty() || ::fstatat(dir, part.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
      return {};  // missing (or unreadable): nothing on disk it could be mistaken for
    std::string other;
    if (!listed_exactly(dir, part, other)) {
      // Found under another spelling. When none is listed either, the kernel's lookup cache still
      // held an entry just deleted (FUSE keeps one up to a second): it is missing.
      if (other.empty()) return {};
      return tl::unexpected(
          case_conflict(name.substr(0, end), std::string(name.substr(0, start)) + other, "on disk"));
    }
    if (slash == std::string_view::npos || !S_ISDIR(st.st_mode)) return {};
    const int next = ::openat(dir, part.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (next < 0) return {};
    held = UniqueFd(next);
    dir = held.get();
    start = slash + 1;
  }
  return {};
}

}  // namespace kith::sync
