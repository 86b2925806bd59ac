#pragma once
// The verdict on a finished download: scan every file, sort libclamav's detections into "infected",
// "not fully scanned" and "runs code", and decide release or quarantine. Fail closed: only a
// complete, clean scan of every file releases.
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

 private:
  InspectorOptions m_options;
  mutable std::mutex m_mutex;
  mutable std::condition_variable m_ready;
  bool m_loaded = false;
  std::shared_ptr<const Scanner> m_scanner;
  std::string m_unavailable_why;
};

// Sorts one libclamav detection: true when it only says the file was not fully scanned.
bool is_incomplete_alert(const std::string& detection);

}  // namespace kith::safety
