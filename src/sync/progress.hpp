#pragma once
// DownloadProgress (BEP's "temporary index"; docs/sync.md § Download progress), sans-IO.
//
// Sending, as Syncthing 1.19's progress emitter: every PROGRESS_INTERVAL_S the engine lists the files
// each folder is pulling (PullingFile: the blocks now in each one's temporary file, in the order they
// got there) and SentProgress, one per device and folder, says what to send that device: APPEND with
// the indexes it was not told yet, FORGET for a file no longer being pulled (done or abandoned), and
// FORGET + APPEND of everything when a file's pull started again (a new version, or a new try).
//
// Receiving: to_updates() reads a peer's message and ReceivedProgress keeps, bounded, what each file's
// temporary file holds by its word (kith does not request from others' temporary files yet).
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "bep/bep.pb.h"
#include "store/sync_store.hpp"

namespace kith::sync {

// Syncthing's progressUpdateIntervalS default: seconds between two DownloadProgress messages to a device
// (the setting sync.progress_interval_s).
constexpr int PROGRESS_INTERVAL_S = 5;
// Syncthing's tempIndexMinBlocks default: a file of this many blocks or fewer is not announced (it is
// pulled in moments; telling others about it costs more than it helps).
constexpr std::size_t TEMP_INDEX_MIN_BLOCKS = 10;

// A file being pulled, as the progress sent about it sees it.
struct PullingFile {
  std::string name;
  std::vector<store::SyncCounter> version;  // the version being pulled
  std::int32_t block_size = 0;
  std::uint64_t serial = 0;             // this try of the pull (a new try is announced afresh)
  std::vector<std::int32_t> available;  // block indexes in the temporary file, in the order they came
};

struct ProgressUpdate {
  bool forget = false;  // FORGET, else APPEND
  std::string name;
  std::vector<store::SyncCounter> version;
  std::int32_t block_size = 0;        // APPEND only
  std::vector<std::int32_t> indexes;  // APPEND only
  bool operator==(const ProgressUpdate&) const = default;
};

// What one device has been told about one folder's pulls.
class SentProgress {
 public:
  // The updates that bring the device from what it was told to `now` (a file with no blocks yet is not
  // announced); records them as told.
  std::vector<ProgressUpdate> update(const std::vector<PullingFile>& now);
  // FORGET for everything told (the folder stops being shared with the device); then empty.
  std::vector<ProgressUpdate> forget_all();
  bool empty() const { return m_told.empty(); }

 private:
  struct Told {
    std::vector<store::SyncCounter> version;
    std::uint64_t serial = 0;
    std::size_t blocks = 0;  // how many of the file's `available` were sent
  };
  std::map<std::string, Told> m_told;  // by name; at most what the folder pulls at once
};

bep::pb::DownloadProgress to_wire(const std::string& folder, const std::vector<ProgressUpdate>& updates);

// --- receiving ---

struct ReceivedLimits {
  std::size_t updates_per_message = 10'000;  // a message with more is ignored whole
  std::size_t files = 1'000;                 // files kept per device (over every folder)
  std::size_t indexes = 1'000'000;           // block indexes kept per device (4 MiB)
  std::int32_t max_index = 1 << 24;          // 2 PiB of 128 KiB blocks
};

struct Received {
  std::vector<ProgressUpdate> updates;  // the acceptable ones
  std::size_t refused = 0;
  std::string problem;  // why the first refused one was (or the whole message), printable
};
// A peer's message, checked: names check_name() accepts, a known update type, well-formed versions;
// APPEND with a block size of 128 KiB-16 MiB and indexes from 0 to max_index.
Received to_updates(const bep::pb::DownloadProgress& msg, const ReceivedLimits& limits = {});

// What one device says its temporary files hold, bounded by ReceivedLimits (what does not fit is dropped
// and counted).
class ReceivedProgress {
 public:
  explicit ReceivedProgress(ReceivedLimits limits = {}) : m_limits(limits) {}
  // Returns how many updates did not fit the limits.
  std::size_t apply(const std::string& folder, const std::vector<ProgressUpdate>& updates);
  void forget_folder(const std::string& folder);
  // The blocks the device has of `name` at `version` in its temporary file, or nullptr.
  const std::vector<std::int32_t>* blocks(const std::string& folder, const std::string& name,
                                          const std::vector<store::SyncCounter>& version) const;
  std::size_t files() const { return m_files; }
  std::size_t indexes() const { return m_indexes; }

 private:
  struct File {
    std::vector<store::SyncCounter> version;
    std::int32_t block_size = 0;
    std::vector<std::int32_t> indexes;  // sorted, unique
  };
  void erase(std::map<std::string, File>& files, std::map<std::string, File>::iterator it);
  ReceivedLimits m_limits;
  std::map<std::string, std::map<std::string, File>> m_folders;
  std::size_t m_files = 0, m_indexes = 0;
};

}  // namespace kith::sync
