#include "api/uploads.hpp"

#include <sys/random.h>

#include <array>

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
  std::array<char, 16> bytes{};
  if (::getrandom(bytes.data(), bytes.size(), 0) != static_cast<ssize_t>(bytes.size())) {
    return fail(base::errc::io_error, "no randomness for an upload id");
  }
  auto id = base::to_hex(std::string_view(bytes.data(), bytes.size()));
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

Result<std::filesystem::path> Uploads::share_path(std::string_view id) const {
  auto dir = folder(id);
  if (!dir) return dir;
  std::error_code ec;
  std::filesystem::path only;
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(*dir, ec)) {
    only = entry.path();
    ++count;
  }
  if (ec || count == 0) return fail(base::errc::not_found, "upload '" + std::string(id) + "' has no files");
  return count == 1 ? only : *dir;
}

}  // namespace kith::api
