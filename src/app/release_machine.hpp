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
// downloaded may be scanned while its bytes arrive (a "stream" scan). Until the download ends every
// scan reads through the swarm's reader (only written pieces); one that gives up (the download
// stalled, was paused) is no verdict: the file is scanned again once the download is complete. Only a
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
  // Read through the swarm's reader, which hands out only pieces that are verified AND written. Set for
  // every scan while the download runs: "complete" then means every piece passed its hash check, which
  // libtorrent reports before the last blocks are written (the file may be missing, or have holes of
  // zeros where malware is still to be written). After the download every piece is written.
  bool through_reader = false;
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
  // file (the first in torrent order) only while `downloading` and no stream scan runs. While
  // `downloading`, every job reads through the reader (ScanJob::through_reader). Nothing in a phase
  // where scanning makes no sense.
  std::vector<ScanJob> take_scans(int slots, bool downloading);
  int running_scans() const { return static_cast<int>(m_running.size()); }
  // A verdict for one file (a complete scan, streamed or not).
  void scan_done(int index, safety::Decision verdict);
  // A scan through the reader that ended without a verdict; the file waits until the download is done.
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
  std::set<int> m_after_download;              // reader scans that gave up: wait for the end
};

// Combines per-file verdicts into one decision: infected beats not-fully-scanned beats no database
// beats held-runnable beats clean; reasons and signatures come from the first file with that outcome.
safety::Decision combine(const std::vector<safety::Decision>& verdicts);

}  // namespace kith::app
