#pragma once
// The verdict on a finished download: scan every file, sort libclamav's detections into "infected",
// "not fully scanned" and "runs code", and decide release or quarantine. Fail closed: only a
// complete, clean scan of every file releases.
//
// Two ways to use it. inspect() scans a finished download's files one after the other and decides.
// The release pipeline instead collects one FileVerdict per wanted file as each file is done (from
// inspect_file() on the complete file, or inspect_stream() while it downloads) and then calls decide(),
// which gives the same Decision inspect() would: inspect() is built on exactly these three calls.
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "safety/scanner.hpp"

namespace kith::safety {

enum class Outcome {
  clean,          // every file scanned completely, nothing found: release
  infected,       // a signature matched
  incomplete,     // something could not be scanned completely (encrypted, over a limit, scan error)
  no_database,    // no signatures loaded: nothing can be called clean
  held_runnable,  // clean, but runs code and the safety.hold_runnable setting holds such files
};
const char* to_string(Outcome o);

struct FileFinding {
  std::string path;                     // relative to the download's folder
  std::vector<std::string> detections;  // signature / heuristic names from libclamav
  std::string problem;                  // why it was not fully scanned, if it was not
  std::string runnable;                 // why it can run code, if it can
};

struct Decision {
  Outcome outcome = Outcome::no_database;
  std::string signature;              // first malware signature, when infected
  std::string reason;                 // one line for people: "infected: Eicar-Signature in a/b.com"
  std::vector<FileFinding> findings;  // only files with something to say
  std::vector<std::string> runnable;  // relative paths of files that can run code
  std::uint64_t bytes_scanned = 0;
  bool release() const { return outcome == Outcome::clean; }
};
// The verdict on one file, from one complete scan of it (or from the lack of a scanner). Never made from
// an aborted stream scan.
struct FileVerdict {
  FileFinding finding;      // path, detections, problem (not fully scanned), runnable
  std::string signature;    // first malware signature (not a heuristic alert), if any
  std::string not_scanned;  // non-empty: no scanner (no database), and why; finding has no detections
  std::uint64_t bytes = 0;  // bytes scanned
  bool infected() const { return !signature.empty(); }
  bool incomplete() const { return !finding.problem.empty(); }
};

nlohmann::json to_json(const FileFinding& f);
nlohmann::json to_json(const Decision& d);

struct InspectorOptions {
  bool hold_runnable = false;  // quarantine clean files that can run code
};

// Called after each file with (bytes scanned so far, total bytes).
using ScanProgress = std::function<void(std::uint64_t, std::uint64_t)>;

class Inspector {
 public:
  explicit Inspector(InspectorOptions options) : m_options(options) {}

  // The scanner loads on another thread; until set_scanner() is called, inspect() waits for it.
  // `scanner` null with `why`: no database (everything is held with that reason).
  void set_scanner(std::shared_ptr<const Scanner> scanner, std::string why);
  // "loading", "ready", or "unavailable" (+ why), for status displays.
  nlohmann::json state() const;

  // Thread-safe; blocks while scanning. `root` is the download's folder, `files` relative to it.
  Decision inspect(const std::filesystem::path& root, const std::vector<std::filesystem::path>& files,
                   const ScanProgress& progress = {}) const;

  // Per file (thread-safe; several may run at once on a pool; each waits for the scanner to load):
  // The verdict on the complete file root/rel.
  FileVerdict inspect_file(const std::filesystem::path& root, const std::filesystem::path& rel) const;
  // The verdict on `rel`, scanned through `source` while it arrives (Scanner::scan_source). Error
  // safety::errc::scan_aborted when the stream scan gave up: that is no verdict, and the caller must
  // get one from inspect_file() once the file is complete. With no scanner, the no-database verdict.
  Result<FileVerdict> inspect_stream(const std::filesystem::path& rel, const ByteSource& source) const;
  // The decision on a download whose wanted files are `files` (relative paths, in their order), from
  // the verdicts collected for them (matched by path). A wanted file without a verdict is "not fully
  // scanned", so only a complete, clean verdict on every wanted file releases. Verdicts for other
  // paths are ignored.
  Decision decide(const std::vector<std::filesystem::path>& files,
                  const std::vector<FileVerdict>& verdicts) const;

 private:
  // Waits for set_scanner(); null when unavailable (`why` says why).
  std::shared_ptr<const Scanner> wait_scanner(std::string& why) const;

  InspectorOptions m_options;
  mutable std::mutex m_mutex;
  mutable std::condition_variable m_ready;
  bool m_loaded = false;
  std::shared_ptr<const Scanner> m_scanner;
  std::string m_unavailable_why;
};

// Sorts one libclamav detection: true when it only says the file was not fully scanned.
bool is_incomplete_alert(const std::string& detection);

// Sorts a finished (not aborted) scan of `rel` into a verdict; `runnable` is runnable_kind()'s answer.
FileVerdict judge(const std::filesystem::path& rel, const FileScan& scan,
                  std::optional<std::string> runnable);

}  // namespace kith::safety
