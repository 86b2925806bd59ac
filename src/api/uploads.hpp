#pragma once
// Files a browser uploads to share them (the web UI's drag and drop): a browser cannot tell the
// daemon a path, so it sends the bytes. Each upload is a folder HOME/uploads/<id>/ that receives the
// dropped files under their relative paths; the node then shares that content from there.
//
// Thread-safe: the server streams into paths from prepare_file() on the io thread; the routes create
// and share uploads there too (share_path moves files, so two shares of one upload must not run at
// once). Nothing here holds state besides the folder itself.
#include <filesystem>
#include <string>
#include <string_view>

#include "base/error.hpp"

namespace kith::api {

class Uploads {
 public:
  explicit Uploads(std::filesystem::path root) : m_root(std::move(root)) {}

  // Makes HOME/uploads/<id>/ (mode 0700) with a new random id (32 hex digits).
  Result<std::string> create();

  // The file for `relative` ("album/cd1/01.flac") in upload `id`, its parent folders created.
  // Refused (base::errc::bad_input): an id that is not 32 hex digits, a path that is empty, absolute,
  // has empty, "." or ".." segments, backslashes or control characters, or is longer than 4096 bytes
  // (255 per segment). base::errc::not_found: no such upload.
  Result<std::filesystem::path> prepare_file(std::string_view id, std::string_view relative) const;

  // What to share for upload `id`: its one top-level entry (the dropped folder or file). Several
  // entries side by side (loose files chosen together) are first moved into one new folder named
  // `name`, which becomes the share's name; without a name: the first entry's name (sorted, without
  // its extension) and "and N more". `name` is trimmed of spaces; refused (bad_input): a name that
  // is then empty (but was not), starts with '.', or is not one safe path segment (see prepare_file). Ignored
  // when there is one entry. Calling it again shares the same folder. base::errc::not_found if the
  // upload is missing or empty.
  Result<std::filesystem::path> share_path(std::string_view id, std::string_view name = {}) const;

  const std::filesystem::path& root() const { return m_root; }

 private:
  Result<std::filesystem::path> folder(std::string_view id) const;
  std::filesystem::path m_root;
};

// The checks of prepare_file() on their own: `relative` as a safe relative path, or bad_input.
Result<std::filesystem::path> safe_relative_path(std::string_view relative);

}  // namespace kith::api
