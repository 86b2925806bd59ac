#include "api/uploads.hpp"

#include <sys/random.h>

#include <algorithm>
#include <array>
#include <vector>

#include "base/fs.hpp"
#include "base/hex.hpp"

namespace kith::api {
namespace {

constexpr std::size_t MAX_PATH_BYTES = 4096;
constexpr std::size_t MAX_SEGMENT_BYTES = 255;

Error bad(std::string message) {
  return Error{base::make_error_code(base::errc::bad_input), std::move(message)};
}

bool is_hex_id(std::string_view id) {
  if (id.size() != 32) return false;
  for (char c : id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::string trim(std::string_view text) {
  auto b = text.find_first_not_of(' ');
  if (b == std::string_view::npos) return {};
  auto e = text.find_last_not_of(' ');
  return std::string(text.substr(b, e - b + 1));
}

// Hex of `bytes` random bytes ("" if the kernel gives none, which getrandom does not do once booted).
std::string random_hex(std::size_t bytes) {
  std::array<char, 32> buf{};
  bytes = std::min(bytes, buf.size());
  if (::getrandom(buf.data(), bytes, 0) != static_cast<ssize_t>(bytes)) return {};
  return base::to_hex(std::string_view(buf.data(), bytes));
}

}  // namespace

Result<std::filesystem::path> safe_relative_path(std::string_view relative) {
  if (relative.empty()) return tl::unexpected(bad("the upload's file path is empty"));
  if (relative.size() > MAX_PATH_BYTES) return tl::unexpected(bad("the upload's file path is too long"));
  std::filesystem::path out;
  std::string_view rest = relative;
  for (;;) {
    auto slash = rest.find('/');
    auto segment = rest.substr(0, slash);
    if (segment.empty() || segment == "." || segment == "..") {
      return tl::unexpected(bad("file path '" + std::string(relative) +
                                "' must be relative, without empty, '.' or '..' parts"));
    }
    if (segment.size() > MAX_SEGMENT_BYTES) return tl::unexpected(bad("a file or folder name is too long"));
    for (unsigned char c : segment) {
      if (c < 0x20 || c == 0x7f || c == '\\') {
        return tl::unexpected(
            bad("file path '" + std::string(relative) + "' contains a control character or a backslash"));
      }
    }
    out /= std::string(segment);
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  return out;
}

Result<std::string> Uploads::create() {
  auto id = random_hex(16);
  if (id.empty()) return fail(base::errc::io_error, "no randomness for an upload id");
  if (auto r = base::ensure_dir(m_root, 0700); !r) return tl::unexpected(r.error());
  if (auto r = base::ensure_dir(m_root / id, 0700); !r) return tl::unexpected(r.error());
  return id;
}

Result<std::filesystem::path> Uploads::folder(std::string_view id) const {
  if (!is_hex_id(id)) return tl::unexpected(bad("'" + std::string(id) + "' is not an upload id"));
  auto dir = m_root / std::string(id);
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return fail(base::errc::not_found, "no upload with id '" + std::string(id) + "'");
  }
  return dir;
}

Result<std::filesystem::path> Uploads::prepare_file(std::string_view id, std::string_view relative) const {
  auto dir = folder(id);
  if (!dir) return dir;
  auto rel = safe_relative_path(relative);
  if (!rel) return rel;
  auto file = *dir / *rel;
  if (auto r = base::ensure_dir(file.parent_path(), 0700); !r) return tl::unexpected(r.error());
  return file;
}

Result<std::filesystem::path> Uploads::share_path(std::string_view id, std::string_view name) const {
  auto dir = folder(id);
  if (!dir) return dir;
  std::error_code ec;
  std::vector<std::filesystem::path> entries;
  for (const auto& entry : std::filesystem::directory_iterator(*dir, ec)) entries.push_back(entry.path());
  if (ec || entries.empty())
    return fail(base::errc::not_found, "upload '" + std::string(id) + "' has no files");
  if (entries.size() == 1) return entries.front();
  std::sort(entries.begin(), entries.end());

  // Several entries: gather them in one folder, so that the torrent is named after it and not after
  // the upload's random id.
  std::string folder_name = trim(name);
  if (folder_name.empty() && !name.empty()) return tl::unexpected(bad("the share's name is empty"));
  if (folder_name.empty()) {
    folder_name = entries.front().filename().string();
    if (auto dot = folder_name.rfind('.'); dot != std::string::npos && dot > 0) folder_name.resize(dot);
    folder_name += " and " + std::to_string(entries.size() - 1) + " more";
  }
  if (folder_name.front() == '.' || folder_name.find('/') != std::string::npos)
    return tl::unexpected(
        bad("the share's name '" + folder_name + "' must not start with '.' or contain '/'"));
  if (auto r = safe_relative_path(folder_name); !r) return tl::unexpected(r.error());
  // Into a fresh folder first, then renamed: a name equal to one of the entries cannot collide.
  auto gather = *dir / (".gather-" + random_hex(8));
  if (!std::filesystem::create_directory(gather, ec) || ec)
    return fail(base::errc::io_error, "cannot create " + gather.string() + ": " + ec.message());
  for (const auto& e : entries) {
    std::filesystem::rename(e, gather / e.filename(), ec);
    if (ec) return fail(base::errc::io_error, "cannot move " + e.string() + ": " + ec.message());
  }
  auto target = *dir / folder_name;
  std::filesystem::rename(gather, target, ec);
  if (ec) return fail(base::errc::io_error, "cannot create " + target.string() + ": " + ec.message());
  return target;
}

}  // namespace kith::api
