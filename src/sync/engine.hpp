#pragma once
// The sync service's state and work (private to the module; SyncService is its face). Split by job:
//   engine.cpp        folders and devices: configuration, views, scans, start and stop
//   engine_net.cpp    listener and dialler, the Hello and device check, ClusterConfig, index exchange,
//                     answering requests
//   engine_discovery.cpp  local discovery: where added devices were announced on the LAN
//   engine_pull.cpp   pulling what the global state says this node needs: blocks fetched or copied,
//                     checked, scanned for malware, renamed into place (or quarantined)
//   engine_versions.cpp  file versioning: the policy changed, versions listed, restored, cleaned
//   engine_held.cpp   files held back by the safety check: kept held across restarts, released into
//                     the folder or deleted by the user
//   engine_store.cpp  files the puller placed, written to the index in batches
//   engine_progress.cpp  DownloadProgress: what files being pulled hold, sent to devices every few
//                     seconds; a peer's checked and kept, bounded
// Threading: everything here runs on m_strand. Disk and database work goes to the worker pool (index
// writes in order, through m_db, a strand on that pool), malware scans to the scan pool.
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "sync/connection.hpp"
#include "sync/disk_space.hpp"
#include "sync/global.hpp"
#include "sync/ignore.hpp"
#include "sync/local_discovery.hpp"
#include "sync/progress.hpp"
#include "sync/recent_changes.hpp"
#include "sync/source_pick.hpp"
#include "sync/sync_service.hpp"
#include "sync/versioner.hpp"
#include "sync/watcher.hpp"

namespace kith::sync {

struct FileJob;     // engine_pull.cpp
struct ReleaseJob;  // engine_held.cpp

// A device ID's first group, for log lines ("MFZWI3D").
inline std::string short_text(const std::string& device) { return device.substr(0, 7); }

class Engine {
 public:
  explicit Engine(SyncService::Deps deps);
  Status start();
  void stop();

  SyncService::Deps m_deps;
  base::Strand m_strand;
  boost::asio::strand<boost::asio::thread_pool::executor_type> m_db;  // index reads and writes, in order
  std::string m_device_id;                                            // ours, Syncthing's text form
  std::uint64_t m_short_id = 0;
  std::uint16_t m_port = 0;
  bool m_stopped = false;

  // --- folders (engine.cpp) ---
  struct Pull;  // engine_pull.cpp
  struct Folder {
    store::SyncFolderRecord record;
    std::set<std::string> devices;                   // shared with
    std::map<std::string, store::SyncShare> remote;  // by device: what it last told us of its index
    std::string state = "idle", error;
    bool scanning = false, scan_again = false;
    bool pulling = false, pull_again = false;
    std::int64_t last_scan = 0;
    GlobalState global;  // as of the last pull planning
    std::int64_t local_files = 0, local_bytes = 0, sequence = 0;
    std::int64_t bytes_fetched = 0, bytes_reused = 0;
    std::map<std::string, std::vector<store::SyncCounter>> held;  // name -> version held back
    std::vector<HeldItem> held_items;
    // Held files the user released, waiting for the folder to be neither scanned nor pulled: a release
    // writes the folder as a pull does, and runs in its place (pull() starts them, engine_held.cpp).
    std::deque<std::shared_ptr<ReleaseJob>> releases;
    RecentChanges changes;  // what was pulled, held back or found changed here lately (in memory)
    // Files placed by the running pull that can run code (name -> why), from the scan's judgement
    // until the pull records the change (and flags it: ItemChanged::runnable).
    std::map<std::string, std::string> placed_runnable;
    std::unique_ptr<boost::asio::steady_timer> rescan_timer;
    std::shared_ptr<Pull> pull;
    // A full disk stopped pulling (engine_pull.cpp; docs/sync.md § A full disk): what the file that did
    // not fit still has to write, and the error shown. Cleared (by check_disk) once that fits again,
    // never by a scan; an error of another cause shown meanwhile stays as it is.
    struct DiskFull {
      std::uint64_t need = 0;
      std::string message;  // empty while the free space is being measured
    };
    std::optional<DiskFull> disk_full;
    bool checking_disk = false;
    std::unique_ptr<boost::asio::steady_timer> disk_timer;  // the next check_disk
    std::shared_ptr<Watcher> watcher;                       // after the first good scan, while not paused
    // Files whose temporary file is open for their pull, by name (engine_pull.cpp): what DownloadProgress
    // tells devices about, and where Requests with from_temporary are served from. At most FILES_AT_ONCE.
    std::map<std::string, std::shared_ptr<FileJob>> in_temp;
    // The last scan found the folder on a file system that does not tell upper from lower case
    // (case_check.hpp): pulls then check each name against the disk, and two names that differ only
    // in case are never pulled at once (`pulling_folded`: fold_case(name) -> name, being pulled).
    bool case_insensitive = false;
    std::map<std::string, std::string> pulling_folded;
    std::vector<PullError> pull_errors;  // of the last pull round (at most MAX_PULL_ERRORS)
    int retry_s = 0;                     // the wait before failed items are tried again (engine_pull.cpp)
    // .stignore as the last scan loaded it (every scan loads it again): what the puller leaves alone.
    std::shared_ptr<const Ignores> ignores = std::make_shared<const Ignores>();
  };
  std::map<std::string, Folder> m_folders;

  void add_folder(FolderSpec spec, base::Done<Result<FolderView>> done);
  void remove_folder(const std::string& id, base::Done<Status> done);
  void share(const std::string& folder, const std::string& device, base::Done<Status> done);
  void unshare(const std::string& folder, const std::string& device, base::Done<Status> done);
  void pause(const std::string& folder, bool paused, base::Done<Status> done);
  FolderView view(const Folder& f) const;
  void watch(Folder& f);  // starts its inotify watcher (changes scanned within a fraction of a second)
  void unwatch(Folder& f);
  // --- held files (engine_held.cpp; docs/sync.md § Pulling) ---
  // Files held back before a restart stay held (their quarantine records), and so do versions whose
  // held copy the user deleted.
  void restore_held();
  // The user's decision on a held file (quarantine item `id`, its full id): released into the folder as
  // the version it was held as (if that is still the folder's), or its copy deleted.
  void release_held(const std::string& id, base::Done<Result<std::string>> done);
  void delete_held(const std::string& id, base::Done<Status> done);
  void release_next(const std::string& folder);  // from pull(): the first of f.releases, as a pull
  // The released file is in the folder (and the index): not held any more, the record resolved, the copy
  // removed, then `finish` with its path.
  void release_done(std::shared_ptr<ReleaseJob> job, std::function<void(Result<std::string>)> finish);
  void fail_releases(Folder& f, const Error& why);  // the folder cannot take them now (or goes)
  std::set<std::string> m_releasing;                // quarantine ids being released (queued or running)
  void scan(const std::string& folder);
  void scan_done(const std::string& folder, Result<std::vector<store::SyncFile>> changed, bool retry_soon);
  void arm_rescan(Folder& f, int seconds);
  void set_state(Folder& f, std::string state, std::string error = {});
  // engine_ignore.cpp: the view of a folder's .stignore; a .stignore that cannot be used (or read).
  void ignores(const std::string& folder, base::Done<Result<IgnoresView>> done);
  void ignores_failed(Folder& f, const Error& e);
  void emit(Event e) const;
  // Into the folder's recent changes: `file` (as stored) was `action` (updated | deleted | held) by
  // `device` (a device ID; ours for a change found here), now.
  void record_change(Folder& f, const store::SyncFile& file, std::string action, std::string device,
                     std::string reason = {}, std::string runnable = {});
  // Who made the change `global` is (a pulled version): the device its modified_by names when this
  // node knows it (ours included), else the device whose index had it, else its first source.
  std::string changed_by(const store::SyncFile& global, const std::vector<std::string>& sources) const;

  // --- devices and connections (engine_net.cpp) ---
  struct Peer {                   // what a connected device told us about one folder
    bool shares = false;          // it listed the folder in its ClusterConfig
    bool index_started = false;   // we are sending it our index
    bool sending = false;         // a batch is being read/sent
    std::int64_t sent_up_to = 0;  // our sequence it has
    bool sent_first = false;      // the first message (Index) went out
    bool more = false;            // changes came while a batch was on its way
  };
  struct Device {
    store::SyncDeviceRecord record;
    std::shared_ptr<Connection> conn;
    std::string client;
    bool dialing = false;
    std::map<std::string, Peer> folders;  // by folder id
    // Its last ClusterConfig: read again when a folder it offered is accepted or shared with it here.
    std::optional<bep::pb::ClusterConfig> last_cc;
    bool index_busy = false;  // an index message of it is being stored
    // At this many waiting, its connection stops reading until one is stored (backpressure).
    static constexpr std::size_t MAX_QUEUED_INDEX_MESSAGES = 2;
    std::vector<bep::Message> index_queue;
    // Block requests in flight: id -> where the answer goes (engine_pull.cpp).
    std::map<std::int32_t, std::function<void(Result<std::string>)>> requests;
    std::int32_t next_request = 1;
    // DownloadProgress (engine_progress.cpp): what it was told of each folder's pulls (by folder), and what
    // it told us of its own (bounded). Both go with the connection.
    std::map<std::string, SentProgress> progress_sent;
    ReceivedProgress progress_received;
    int progress_warnings = 0;  // lines logged about its DownloadProgress (a few per connection)
  };
  std::map<std::string, Device> m_devices;
  std::map<std::string, PendingFolder> m_pending;  // by folder id
  std::shared_ptr<boost::asio::ssl::context> m_server_tls, m_client_tls;
  std::unique_ptr<boost::asio::ip::tcp::acceptor> m_acceptor;
  std::unique_ptr<boost::asio::steady_timer> m_dial_timer;
  std::unique_ptr<LocalDiscovery> m_local;  // when Deps::local_discovery (engine_discovery.cpp)

  // Any form Syncthing accepts -> the canonical text; bad_input says what is wrong.
  Result<std::string> normalise_device(const std::string& id) const;
  void add_device(const std::string& id, std::vector<std::string> addresses, std::string name,
                  base::Done<Result<DeviceView>> done);
  void remove_device(const std::string& id, base::Done<Status> done);
  Status listen();
  void accept();
  void dial_all();
  // --- local discovery (engine_discovery.cpp) ---
  void start_local_discovery();
  void on_announce(const bep::DeviceId& device, bool is_new);
  std::vector<std::string> discovered(const std::string& device) const;
  // The static addresses, then the discovered ones: what dial() tries, in order.
  std::vector<std::string> dial_addresses(const Device& d) const;
  void dial(const std::string& device);
  void secured(std::shared_ptr<Connection::Stream> stream, std::string remote, bool incoming,
               std::optional<std::string> expected);
  void connected(std::shared_ptr<Connection> conn, const bep::pb::Hello& hello);
  void disconnected(const std::string& device, std::uint64_t serial, const std::string& why);
  void send_cluster_config(Device& d);
  void on_message(const std::string& device, bep::Message msg);
  void on_cluster_config(Device& d, const bep::pb::ClusterConfig& cc);
  void on_index(const std::string& device);
  void on_request(Device& d, const bep::pb::Request& r);
  void on_response(Device& d, bep::pb::Response r);
  void send_index(const std::string& device, const std::string& folder);
  void announce(const std::string& folder);  // local index changed: send updates to everyone
  DeviceView view(const Device& d) const;

  // --- devices of kith contacts (engine_contacts.cpp) ---
  // `contact` (kith ID) named `name` told us its device ID and where its BEP listener may be: trust it,
  // keep it current, dial it.
  void contact_device(const std::string& contact, const std::string& name, const std::string& device,
                      std::vector<std::string> addresses);
  void forget_contact(const std::string& contact);  // the contact was removed or blocked

  // --- pulling (engine_pull.cpp) ---
  void pull(const std::string& folder);
  void planned(const std::string& folder, GlobalState global);
  void pull_next(const std::string& folder);
  // One need of the running pull, its file's blocks loaded (planning left them out).
  void pull_item(const std::string& folder, Need need, std::function<void(Result<store::SyncFile>)> finish);
  void fetch_file(std::shared_ptr<FileJob> job, std::function<void(Result<store::SyncFile>)> finish);
  void finish_file(std::shared_ptr<FileJob> job, std::function<void(Result<store::SyncFile>)> finish);
  void hold_file(std::shared_ptr<FileJob> job, const safety::Decision& decision,
                 std::function<void(Result<store::SyncFile>)> finish);
  // One missing block of `job`, requested, checked and written; a temporary file that fails it is asked
  // no more and the block is asked again elsewhere; then `step` goes on with the file.
  void fetch_block(std::shared_ptr<FileJob> job, store::SyncBlock block,
                   std::shared_ptr<std::function<void()>> step);
  // Requests `block` (index `index` of the file `need` puts in place) from the device pick_source chooses
  // among the connected full holders and the devices whose temporary files have it (less `temp_refused`);
  // `done` gets the bytes or why not, and where they were asked.
  void request_block(const std::string& folder, const Need& need, const store::SyncBlock& block,
                     std::int32_t index, const std::set<std::string>& temp_refused,
                     std::function<void(Result<std::string>, BlockSource)> done);
  // Devices connected now that share `folder` and say (DownloadProgress) that their temporary file has
  // blocks of `name` at exactly `version`.
  std::vector<Holder> temp_holders(const std::string& folder, const std::string& name,
                                   const std::vector<store::SyncCounter>& version) const;
  // A full disk: files with data are no longer started, the folder shows `message` in state error
  // (logged once, FolderChanged emitted), and check_disk looks for room every DISK_RECHECK_INTERVAL_S.
  void disk_full(Folder& f, std::uint64_t need, std::string message);
  // A write of the pull failed with ENOSPC or EDQUOT (`why`): the free space is measured, then disk_full.
  void disk_full_on_write(Folder& f, const std::string& name, std::int64_t size, const std::string& why);
  // Room again for what the folder needs? Then the error goes (if it is still the disk's) and it pulls.
  void check_disk(const std::string& folder);
  void arm_disk_check(Folder& f);

  // --- DownloadProgress (engine_progress.cpp; docs/sync.md § Download progress) ---
  std::unique_ptr<boost::asio::steady_timer> m_progress_timer;
  bool m_progress_armed = false;
  std::uint64_t m_next_pull_serial = 1;  // tells one try of a file's pull from the next
  void arm_progress();                   // a file's temporary file is open: tell devices in a while
  void send_progress();
  void on_download_progress(Device& d, const bep::Message& msg);
  // A device began telling of these files in its temporary files: a pull if this node needs one of them.
  void pull_for_temporary(Folder& f, const std::vector<const ProgressUpdate*>& files);
  // engine_pull.cpp (FileJob is its own): what each file of `f` being pulled holds in its temporary file.
  std::vector<PullingFile> pulling_files(const Folder& f) const;
  // Whether block `offset`/`size` with SHA-256 `hash` of `name` is in its temporary file, written and
  // checked; then the temporary file's path relative to the folder's root.
  std::optional<std::string> temp_block(const Folder& f, const std::string& name, std::int64_t offset,
                                        std::int32_t size, const std::string& hash) const;

  // --- placed files into the index (engine_store.cpp); m_puts and m_put_scheduled belong to m_db ---
  struct PlacedFile {
    store::SyncFile file;
    std::function<void(Result<store::SyncFile>)> done;  // called on m_strand with the stored entry
  };
  std::map<std::string, std::vector<PlacedFile>> m_puts;  // by folder, waiting for the next transaction
  bool m_put_scheduled = false;
  // On m_db: records `file` with the next batch (whatever piled up while the last one was written).
  void store_placed(const std::string& folder, store::SyncFile file,
                    std::function<void(Result<store::SyncFile>)> done);
  void flush_placed();

  // --- versioning (engine_versions.cpp); the disk work on the worker pool ---
  std::unique_ptr<boost::asio::steady_timer> m_versions_timer;
  void set_versioning(const std::string& folder, Versioning v, base::Done<Result<FolderView>> done);
  void versions(const std::string& folder, std::optional<std::string> name,
                base::Done<Result<std::vector<KeptVersion>>> done);
  void restore(const std::string& folder, std::string name, std::optional<std::string> tag,
               base::Done<Result<KeptVersion>> done);
  void arm_versions_cleanup(int seconds);  // then cleans every folder's .stversions by its policy
};

}  // namespace kith::sync
