#pragma once
// One download's way out of staging, as a state machine with no I/O: the release pipeline
// (release_pipeline.hpp) feeds it what happened and runs the steps it asks for. Unit-tested on its own.
//
//   staging ──every wanted piece downloaded──▶ verifying ──every wanted byte passed its hash──▶ scanning
//   scanning ──every wanted file scanned clean──▶ releasing ──moved──▶ released
//   staging | verifying | scanning ──a file not clean──▶ quarantining ──moved──▶ quarantined
//   releasing ──move failed──▶ held ──retry──▶ verifying
//   quarantined ──the user releases it──▶ releasing
//
// Scans start early: a file is scanned as soon as it is complete (several at once), and the file being
// downloaded may be scanned while its bytes arrive (a "stream" scan). A stream scan that gives up
// (the download stalled, was paused) is no verdict: the file is scanned again once complete. Only a
// clean verdict for every wanted file releases; the first verdict that is not clean quarantines at
// once, even mid-download (fail closed).
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "safety/inspector.hpp"

namespace kith::app {

enum class ReleasePhase {
  staging,
  verifying,
  scanning,
  releasing,
  released,
  quarantining,
  quarantined,
  held
};
const char* to_string(ReleasePhase phase);

struct WantedFile {
  int index = 0;     // the file's index in the torrent
  std::string path;  // relative to the save path
  std::uint64_t size = 0;
  bool complete = false;  // every piece of it downloaded and hash-verified
};

struct ScanJob {
  WantedFile file;
  bool stream = false;  // the file is not complete: read its bytes as they arrive
};

class ReleaseMachine {
 public:
  explicit ReleaseMachine(ReleasePhase phase = ReleasePhase::staging) : m_phase(phase) {}

  ReleasePhase phase() const { return m_phase; }

  // The wanted files (when the metadata arrives, and again when the selection changes). Verdicts of
  // files still wanted are kept; a newly wanted file will be scanned. Returns the files no longer
  // wanted whose scans were running: they are no longer waited for, and the caller cancels them.
  std::vector<int> set_files(std::vector<WantedFile> files);
  bool has_files() const { return m_files_known; }
  const std::vector<WantedFile>& files() const { return m_files; }
  void file_complete(int index);

  // Up to `slots` scans to start now (they are then running): complete files first; an incomplete
  // file (the first in torrent order) only when `stream` is set and no stream scan runs. Nothing in
  // a phase where scanning makes no sense.
  std::vector<ScanJob> take_scans(int slots, bool stream);
  int running_scans() const { return static_cast<int>(m_running.size()); }
  // A verdict for one file (a complete scan, streamed or not).
  void scan_done(int index, safety::Decision verdict);
  // A stream scan that ended without a verdict; the file waits until it is complete.
  void scan_gave_up(int index);

  // libtorrent says every wanted piece is there: staging -> verifying; every wanted file is complete.
  void all_downloaded();
  // The pipeline checked that every wanted byte passed its hash check: verifying -> scanning.
  void verified();

  enum class Next { wait, release, quarantine };
  // What the pipeline should do now: quarantine as soon as a verdict is not clean (in staging,
  // verifying or scanning); release in `scanning` once every wanted file has a clean verdict.
  Next next() const;
  // Every verdict so far, combined (the worst outcome wins; findings and runnable files of all).
  safety::Decision decision() const;
  // Bytes scanned so far and bytes to scan (every wanted file), for progress displays.
  std::pair<std::uint64_t, std::uint64_t> scan_progress() const;

  // -> releasing | quarantining; also quarantined -> releasing, the user's release from quarantine.
  void moving(bool to_quarantine);
  void moved();        // -> released | quarantined
  void move_failed();  // releasing -> held (a quarantine move failing stays quarantined)
  void retry();        // held -> verifying

 private:
  ReleasePhase m_phase;
  bool m_files_known = false;
  std::vector<WantedFile> m_files;             // in torrent order
  std::map<int, safety::Decision> m_verdicts;  // by file index
  std::map<int, bool> m_running;               // file index -> is a stream scan
  std::set<int> m_no_stream;                   // stream scans that gave up: wait until complete
};

// Combines per-file verdicts into one decision: infected beats not-fully-scanned beats no database
// beats held-runnable beats clean; reasons and signatures come from the first file with that outcome.
safety::Decision combine(const std::vector<safety::Decision>& verdicts);

}  // namespace kith::app
