#pragma once
// Virus scanning with libclamav (the only user of it). One engine per node, loaded once from the
// signature folders and then shared by every scan: a compiled cl_engine is read-only and may be used
// by several threads at once. Loading the official databases takes seconds and hundreds of MiB, so
// the node loads it on a worker thread at start.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "base/error.hpp"

struct cl_engine;

namespace kith::safety {

struct ScannerOptions {
  static constexpr std::uint64_t MAX_FILE_SIZE = (2ull << 30) - 1;
  // Folders (or single .cvd/.cld/.cud/.hdb/.ndb/... files) to load signatures from. Missing ones are
  // skipped with a log line; loading fails only when no signature at all was loaded.
  std::vector<std::filesystem::path> databases;
  // Files and archive members over these limits are not scanned completely, and say so (fail closed).
  // libclamav 1.4 cannot scan a file of 2 GiB or more ("not supported"); larger limits are capped.
  std::uint64_t max_file_size = MAX_FILE_SIZE;
  std::uint64_t max_scan_size = MAX_FILE_SIZE;  // bytes read per top-level file, archives unpacked
  std::uint32_t max_recursion = 17;             // archive nesting
  std::uint32_t max_files = 10000;              // members per archive
  std::uint32_t max_scan_ms = 600000;           // per top-level file
};

// What libclamav said about one file. `names` is every detection (all-match mode), including
// libclamav's heuristic alerts (encrypted archive, limits exceeded, macros), which classify() sorts.
struct FileScan {
  bool ok = false;    // false: libclamav returned an error; `error` says which
  std::string error;  // cl_strerror text
  std::vector<std::string> names;
  std::uint64_t bytes = 0;  // size of the file on disk
};

class Scanner {
 public:
  static Result<std::unique_ptr<Scanner>> open(const ScannerOptions& options);
  ~Scanner();
  Scanner(const Scanner&) = delete;
  Scanner& operator=(const Scanner&) = delete;

  // Thread-safe. Archives are unpacked (within the limits); every detection is collected.
  FileScan scan(const std::filesystem::path& file) const;

  unsigned signature_count() const { return m_signatures; }
  // "name (N signatures)" per loaded source, for `kith status` and the start-up log.
  const std::vector<std::string>& sources() const { return m_sources; }

 private:
  Scanner() = default;
  cl_engine* m_engine = nullptr;
  unsigned m_signatures = 0;
  std::vector<std::string> m_sources;
};

// The system's ClamAV database folder (libclamav's compiled-in default, /var/lib/clamav on Debian).
std::filesystem::path system_database_dir();

}  // namespace kith::safety
