#pragma once
// Moving a download's wanted files out of staging (or out of quarantine) into their destination, file
// by file, so that nothing else in the save path — libtorrent's .parts file with bytes of unwanted files
// that share a piece with wanted ones, leftovers — ever reaches the user's folder. Blocking: the
// release pipeline runs it on the worker pool.
#include <filesystem>
#include <string>
#include <vector>

#include "base/error.hpp"

namespace kith::app {

// Moves each of `files` (paths relative to `from`) to the same relative path under `to`, creating
// folders as needed and never replacing anything that exists there (error naming the file). Across
// file systems a file is copied to a hidden temporary name beside its target, synced, linked into
// place without replacing, and its source removed. All or nothing: when one file fails, the ones
// already moved go back (and folders it created are removed) before the error is returned.
Status move_files(const std::filesystem::path& from, const std::filesystem::path& to,
                  const std::vector<std::string>& files);

}  // namespace kith::app
