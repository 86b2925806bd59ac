#pragma once
// The node's transfers: adding downloads and shares, their records (state.sqlite), what libtorrent
// says about them, and the user's controls (pause, resume, remove, file selection).
//
// Threading (docs/architecture.md § Concurrency model): every member below lives on m_strand. Public
// methods may be called from any thread: they post there and answer through their Done, on m_strand.
// Slow work runs on the worker pool and posts back: parsing a .torrent, hashing a share (with
// progress, cancellable), creating folders and deleting data. libtorrent's own adds run on its
// thread (SessionHost::add_async). Statuses come from libtorrent's post_torrent_updates once a second,
// never by asking each torrent.
#include <atomic>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "app/events.hpp"
#include "app/home.hpp"
#include "app/model.hpp"
#include "app/settings_store.hpp"
#include "base/async.hpp"
#include "crypto/sign.hpp"
#include "store/file_offer_store.hpp"
#include "store/transfer_store.hpp"
#include "swarm/session_host.hpp"
#include "swarm/torrent_maker.hpp"

namespace kith::app {

class ReleasePipeline;

struct ShareRequest {
  std::string path;
  swarm::TorrentFormat format = swarm::TorrentFormat::hybrid;
  std::vector<std::string> trackers;
  std::string comment;
  bool sign = false;  // add the user's publisher signature to the link
  // An SSL torrent (files to contacts): its root certificate, this node's certificate and key, and a
  // cap on the piece count that keeps the .torrent small enough for a FileOffer frame.
  std::string root_cert;
  std::string ssl_cert;
  std::string ssl_key;
  int max_pieces = 0;
  // Called once hashing has ended, on the transfer service's strand: the shared transfer (or the one
  // the node already had), or why not (cancelled: swarm::errc::cancelled).
  base::Done<Result<Transfer>> on_hashed;
};

struct GetRequest {
  std::string link;           // magnet link or a .torrent path readable by the node
  std::string torrent_bytes;  // or the .torrent itself (from the API)
  std::string to;             // destination folder; empty: the download.dir setting
  std::string only_glob;
  bool sequential = false;
  std::vector<std::string> peers;  // "host:port" peers to dial, besides the link's own hints
  std::string ssl_cert;            // for an SSL torrent: our certificate and key (PEM)
  std::string ssl_key;
  std::string source_label;  // shown as the transfer's source instead of the link
};

// Rates and counts over every transfer, for the node's status.
struct TransferTotals {
  std::size_t transfers = 0;
  std::int64_t download_rate = 0;
  std::int64_t upload_rate = 0;
};

class TransferService {
 public:
  struct Deps {
    boost::asio::io_context& io;
    boost::asio::thread_pool& workers;
    Home home;
    const SettingsStore& settings;
    swarm::SessionHost& swarm;
    store::TransferStore& store;
    store::FileOfferStore& offers;  // certificates of files sent to and from contacts
    const crypto::SigningKey& user_key;
    std::string user_id;
    EventSink sink;
    // Whether an info-hash may be fetched or shared (the block list); any thread.
    std::function<Status(const swarm::InfoHashes&)> check_allowed;
  };
  explicit TransferService(Deps deps);
  ~TransferService();
  TransferService(const TransferService&) = delete;
  TransferService& operator=(const TransferService&) = delete;

  // Wiring, before start(): downloads not yet released are handed to the pipeline.
  void set_pipeline(ReleasePipeline* pipeline) { m_pipeline = pipeline; }
  // Restores every stored transfer (asynchronously: each joins the list as libtorrent adds it) and
  // starts the once-a-second tick. `done` once every restore has been answered.
  void start(base::Done<Status> done);
  // Stops the tick and cancels hashing; then the owner shuts the session down. Call after the io_context
  // stopped running (it touches the strand's state directly, so that hashing stops before the pool is
  // joined).
  void stop();

  // Adds a download; a transfer the node already has is returned with `existing`.
  void get(GetRequest request, base::Done<Result<Added>> done);
  // Answers at once with the share in state "hashing" (its id is the hashing job's); hashing runs on
  // the worker pool with transfer.progress events, and the share joins as a transfer when it ends
  // (transfer.hashed {job, id}; request.on_hashed). `remove` of the job's id cancels it.
  void share(ShareRequest request, base::Done<Result<Transfer>> done);
  void list(base::Done<std::vector<Transfer>> done);
  // `id`: a unique prefix of a transfer id, or a hashing job's id (also after it ended: then the
  // transfer it became).
  void show(std::string id, base::Done<Result<Transfer>> done);
  void torrent_file(std::string id, base::Done<Result<std::string>> done);
  void peers(std::string id, base::Done<Result<std::vector<swarm::PeerStatus>>> done);
  void pause(std::string id, base::Done<Status> done);
  void resume(std::string id, base::Done<Status> done);
  // A download never released always loses its data (staging or quarantine); `delete_data` also
  // deletes a share's or a released download's files.
  void remove(std::string id, bool delete_data, base::Done<Status> done);
  void select_files(std::string id, std::vector<int> wanted, base::Done<Status> done);
  void totals(base::Done<TransferTotals> done);
  // Removes every transfer of this info-hash (it was blocked); answers the removed ids.
  void remove_blocked(std::string hash, base::Done<std::vector<std::string>> done);
  // This node's address hints for magnet links ("host:port").
  std::vector<std::string> peer_hints() const;

  // For the release pipeline (any thread; answers on this strand).
  void set_release(std::string id, ReleaseView view);
  // Takes the transfer out of libtorrent (its files stay) for the pipeline to move them.
  void detach(std::string id, base::Done<Result<std::vector<std::uint8_t>>> done);
  // Puts it back, from `resume`, with its data now at `save_path`; `paused`: it stays paused (held in
  // quarantine); `released`: it is in its destination now (it never fetches or seeds a piece shared
  // with an unwanted file: AddOptions::whole_pieces_only).
  void reattach(std::string id, std::vector<std::uint8_t> resume, std::string save_path, bool paused,
                bool released, base::Done<Status> done);
  // The data reached its destination: stored as released. An error here is returned to the pipeline,
  // which logs it; the data is safe either way (remove() never deletes data outside staging and
  // quarantine).
  void mark_released(std::string id, std::string runnable_json, base::Done<Status> done);
  // What the scan found runnable (a JSON array of paths), kept with a transfer that is held.
  void set_runnable(std::string id, std::string runnable_json, base::Done<Status> done);

  // libtorrent's events, from the session host's strand (posted here).
  void on_swarm_event(swarm::SwarmEvent event);

 private:
  struct HashJob {
    std::string id;  // "h-" + 16 hex digits
    std::string path;
    std::string name;
    std::chrono::steady_clock::time_point started;
    std::shared_ptr<std::atomic<std::uint64_t>> done;  // written by the hashing thread
    std::shared_ptr<std::atomic<std::uint64_t>> total;
    std::shared_ptr<std::atomic<bool>> cancel;
  };
  struct Entry {
    store::TransferRecord record;
    swarm::TransferStatus status;  // last update from libtorrent
    std::optional<ReleaseView> release;
    bool attached = false;  // in libtorrent's session now (not being added, moved or removed)
    std::string last_state;
    // The last error libtorrent reported: one full disk raises dozens of alerts a second, each one
    // logged and announced only when it says something new. Cleared when the state leaves "error".
    std::string last_error;
  };

  // transfer_intake.cpp
  void add_download(GetRequest request, swarm::Source source, base::Done<Result<Added>> done);
  void run_hash_job(HashJob job, ShareRequest request);
  void hashed(HashJob job, ShareRequest request, Result<swarm::MadeTorrent> made);
  void restore_all(base::Done<Status> done);
  swarm::AddOptions ssl_options(const store::TransferRecord& record);
  Result<std::string> check_publisher(const std::string& link, const swarm::Source& source) const;
  std::filesystem::path destination_for(const std::string& to) const;

  // transfer_service.cpp
  Result<std::string> resolve(const std::string& id_or_prefix) const;
  Transfer view(const Entry& e) const;
  Transfer job_view(const HashJob& job) const;
  Result<Transfer> detailed(const std::string& id);
  void forget(const std::string& id);
  // Deletes what is left of HOME/staging/<id> and HOME/quarantine/<id> (worker pool).
  // Deletes HOME/staging/<id> and HOME/quarantine/<id> on the worker pool, then calls `deleted` there.
  void delete_unreleased_data(const std::string& id, std::function<void()> deleted = {});
  void tick();
  void emit(Event e) const;

  Deps m_deps;
  base::Strand m_strand;
  boost::asio::steady_timer m_timer;
  ReleasePipeline* m_pipeline = nullptr;
  bool m_stopped = false;
  int m_ticks = 0;
  std::map<std::string, Entry> m_entries;  // by transfer id
  std::set<std::string> m_adding;          // ids whose add is in flight
  std::map<std::string, HashJob> m_jobs;   // by job id
  // Hashing jobs that ended: the transfer each became, or why not (so that following a job by its id
  // always ends in an answer).
  std::map<std::string, Result<std::string>> m_job_outcome;
};

}  // namespace kith::app
