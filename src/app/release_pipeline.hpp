#pragma once
// The path every download takes out of staging: scan (while it downloads, file by file: complete files
// from disk, the first incomplete one through a swarm::FileReader as its pieces arrive), then release
// into its destination or hold it in quarantine (release_machine.hpp has the states; docs/safety.md the
// rules). Also the quarantine commands.
//
// Threading (docs/architecture.md § Concurrency model): all state lives on m_strand; public methods
// post there. Scans run on the scan pool (libclamav, blocking), moves on the worker pool; both post
// their results back. The transfer service is asked to take a transfer out of libtorrent and put it
// back (TransferService::detach/reattach) around each move.
//
// Markers in the kv table (fail closed across crashes):
//   early-scan:<id>  written before the first scan of a download that is not complete yet. Found at
//                    start: scans of that download wait until it is complete (a scanner crash during
//                    the download cannot repeat itself in a loop).
//   scanning:<id>    written when the download is complete and its verdict is pending, removed once the
//                    verdict is recorded. Found at start: the scan never finished (killed, or the scanner
//                    crashed the process): quarantined without a second try. If it cannot be written,
//                    no verdict is taken: the download is held and retried.
#include <boost/asio/thread_pool.hpp>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "app/events.hpp"
#include "app/home.hpp"
#include "app/model.hpp"
#include "app/release_machine.hpp"
#include "base/async.hpp"
#include "safety/inspector.hpp"
#include "store/quarantine_store.hpp"
#include "store/transfer_store.hpp"
#include "swarm/file_reader.hpp"
#include "swarm/session_host.hpp"

namespace kith::app {

class TransferService;

class ReleasePipeline {
 public:
  struct Deps {
    boost::asio::io_context& io;
    boost::asio::thread_pool& scan_pool;  // libclamav scans (block while they run)
    boost::asio::thread_pool& workers;    // moves, folder removal
    Home home;
    std::shared_ptr<const safety::Inspector> inspector;
    swarm::SessionHost& swarm;
    TransferService& transfers;
    store::TransferStore& markers;  // the kv table
    store::QuarantineStore& quarantine;
    EventSink sink;
    int max_scans = 2;  // scans running at once, over every download
  };
  explicit ReleasePipeline(Deps deps);
  ReleasePipeline(const ReleasePipeline&) = delete;
  ReleasePipeline& operator=(const ReleasePipeline&) = delete;

  // Reads which downloads are held in quarantine. Call before the io_context runs.
  Status start();
  // Call after the io_context stopped running: scan results still coming are then dropped.
  void stop();

  // A download not yet released (added, or restored at start) is now in libtorrent.
  void track(store::TransferRecord record);
  // It was removed (deleted: its data went with it); scans of it are dropped.
  void forget(std::string id, bool deleted);
  // A held download (a failed move) is tried again.
  void retry(std::string id);
  // Its file selection changed.
  void selection_changed(std::string id);
  // libtorrent's events, from the session host's strand (posted here).
  void on_swarm_event(swarm::SwarmEvent event);

  // The quarantine (ids may be unique prefixes).
  void quarantine_list(bool include_resolved, base::Done<Result<std::vector<QuarantineItem>>> done);
  void quarantine_show(std::string id, base::Done<Result<QuarantineItem>> done);
  // Moves the data to the transfer's destination (the user's explicit decision) and seeds it again.
  void quarantine_release(std::string id, base::Done<Status> done);
  // Deletes the data and the transfer; the record stays as history, state "deleted".
  void quarantine_delete(std::string id, base::Done<Status> done);
  // The full id of a quarantine item (also one released or deleted).
  void resolve_quarantine(std::string id, base::Done<Result<store::QuarantineRecord>> done);

 private:
  struct Tracked {
    store::TransferRecord record;
    ReleaseMachine machine;
    std::string save_path;
    std::string finished_state;  // libtorrent's last state ("finished"/"seeding" once all is there)
    std::int64_t total_wanted = 0;
    std::int64_t total_done = 0;
    bool early_scans = true;                 // false after an early-scan marker was found at start
    bool early_marker = false;               // early-scan:<id> written
    bool scanning_marker = false;            // scanning:<id> written
    bool announced_scan = false;             // transfer.scanning sent
    bool from_quarantine = false;            // the move under way is the user's release from quarantine
    std::uint64_t generation = 0;            // scan results of an older generation are dropped
    std::string error;                       // why it is held
    std::optional<safety::Decision> forced;  // a verdict found at start (a scan that never finished)
    base::Done<Status> release_done;         // the user's release from quarantine waits for the move
  };

  // quarantine_release, waiting (up to 10 s) while libtorrent still checks the data after a restore.
  void release_from_quarantine(std::string id, base::Done<Status> done, int tries);
  void advance(const std::string& id);
  void refresh_files(Tracked& t, const std::string& id);
  void start_scan(const std::string& id, Tracked& t, const ScanJob& job);
  // A scan while the download runs, through a swarm::FileReader that hands out only verified and
  // written pieces: a file still downloading as they arrive, or one whose pieces all passed.
  void start_reader_scan(const std::string& id, Tracked& t, const ScanJob& job);
  void scan_finished(const std::string& id, std::uint64_t generation, int index, safety::Decision verdict);
  // A reader scan ended without a verdict (the download stalled, was paused or removed).
  void reader_gave_up(const std::string& id, std::uint64_t generation, int index);
  // A scan slot is free: downloads waiting for one may start scans.
  void free_slot(const std::string& id);
  void release(const std::string& id, Tracked& t);
  void released(const std::string& id, const std::string& from, std::vector<std::uint8_t> resume);
  void release_failed(const std::string& id, const std::string& from, std::vector<std::uint8_t> resume,
                      const Error& why);
  void quarantine(const std::string& id, Tracked& t);
  void hold(const std::string& id, Tracked& t, std::string why);
  void publish_view(const std::string& id, const Tracked& t);
  Status put_marker(const std::string& key);
  void drop_marker(const std::string& key);
  Result<std::string> resolve(const std::string& prefix);
  void emit(Event e) const;

  Deps m_deps;
  base::Strand m_strand;
  bool m_stopped = false;
  int m_scans = 0;  // running now, over every download
  // Readers of scans running now (download id + file index). A reader's own cancel() may be
  // called from any thread: stop() cancels them so that no scan-pool thread keeps waiting for bytes.
  std::map<std::pair<std::string, int>, std::shared_ptr<swarm::FileReader>> m_readers;
  std::uint64_t m_next_generation = 1;
  std::set<std::string> m_held;  // in quarantine (state "held") at start
  std::map<std::string, Tracked> m_tracked;
};

}  // namespace kith::app
