#pragma once
// Virus scanning with libclamav (the only user of it). One engine per node, loaded once from the
// signature folders and then shared by every scan: a compiled cl_engine is read-only and may be used
// by several threads at once. Loading the official databases takes seconds and hundreds of MiB, so
// the node loads it on a worker thread at start.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "safety/byte_source.hpp"

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
  // scan_source() waits for bytes at most until this share (percent) of max_scan_ms has passed since the
  // scan began, then gives up (aborted, not a verdict), so that waiting for a slow download cannot run
  // into libclamav's time limit and turn into a "not fully scanned" verdict.
  std::uint32_t stream_wait_percent = 75;
};

// What libclamav said about one file. `names` is every detection (all-match mode), including
// libclamav's heuristic alerts (encrypted archive, limits exceeded, macros), which Inspector sorts.
//
// Three kinds of result: a verdict with `ok` (libclamav finished: clean, or detections in `names`); a
// verdict without `ok` (libclamav failed: `error`; the file counts as not fully scanned); and, from
// scan_source() only, `aborted`: the source gave up before libclamav was done. An aborted scan is NOT
// a verdict: `names` is empty whatever was seen before, and the caller must scan the complete file.
struct FileScan {
  bool ok = false;       // libclamav finished the scan (CL_CLEAN or CL_VIRUS)
  bool aborted = false;  // scan_source(): the source failed or the wait ran out; `error` says why
  std::string error;     // cl_strerror text, or why the stream scan was aborted
  std::vector<std::string> names;
  std::uint64_t bytes = 0;  // size of the file
  std::string head;         // scan_source(): the file's first bytes (up to 4), for runnable_kind()
  std::chrono::milliseconds waited{0};   // scan_source(): time spent waiting in ByteSource::read
  std::chrono::milliseconds elapsed{0};  // wall time of the whole scan
  bool verdict() const { return !aborted; }
};

class Scanner {
 public:
  static Result<std::unique_ptr<Scanner>> open(const ScannerOptions& options);
  ~Scanner();
  Scanner(const Scanner&) = delete;
  Scanner& operator=(const Scanner&) = delete;

  // Thread-safe. Archives are unpacked (within the limits); every detection is collected.
  FileScan scan(const std::filesystem::path& file) const;
  // The same scan (engine, options, limits, all-match mode, heuristics) of a file read through
  // `source`, whose bytes may still be arriving: libclamav reads it through a handle map whose reads
  // wait for the bytes (stream_scan.cpp). Gives `aborted` (never a verdict) when a read fails, when the
  // source has not delivered within the wait budget (ScannerOptions::stream_wait_percent), or when
  // libclamav's time limit is reached (time spent waiting counts there). Thread-safe; blocks.
  FileScan scan_source(const ByteSource& source) const;

  unsigned signature_count() const { return m_signatures; }
  // "name (N signatures)" per loaded source, for `kith status` and the start-up log.
  const std::vector<std::string>& sources() const { return m_sources; }

 private:
  Scanner() = default;
  cl_engine* m_engine = nullptr;
  unsigned m_signatures = 0;
  std::vector<std::string> m_sources;
  std::chrono::milliseconds m_max_scan{0};     // 0: no time limit
  std::chrono::milliseconds m_stream_wait{0};  // how long scan_source() may wait for bytes in all
};

// The system's ClamAV database folder (libclamav's compiled-in default, /var/lib/clamav on Debian).
std::filesystem::path system_database_dir();

}  // namespace kith::safety
