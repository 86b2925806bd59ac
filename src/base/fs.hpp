#pragma once
// Small file system helpers with the durability guarantees kith relies on.
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "base/error.hpp"

namespace kith::base {

// Writes `data` to `path` so that a crash at any moment leaves either the old file or the new one,
// never a mix: write to a temporary sibling, fsync it, rename over `path`, fsync the directory.
Status atomic_write_file(const std::filesystem::path& path, std::string_view data, int mode = 0644);

// Reads a whole file (up to `max_bytes`; larger files are an error, so hostile input cannot exhaust
// memory).
Result<std::string> read_file(const std::filesystem::path& path, std::uintmax_t max_bytes = 64u << 20);

// Creates `dir` and its parents with the given mode if missing.
Status ensure_dir(const std::filesystem::path& dir, int mode = 0755);

}  // namespace kith::base
