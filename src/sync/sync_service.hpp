#pragma once
// Folder sync: this node's folders, the devices it syncs them with, and the BEP connections to them
// (docs/protocol/bep.md, docs/sync.md). One implementation serves kith nodes and Syncthing devices.
//
// Threading (docs/architecture.md § Concurrency model): all state lives on m_strand; public methods post
// there and answer through Done on it. Scans, hashing, block reads and writes and index writes run on
// the worker pool, virus scans of what arrives on the scan pool; each posts its result back.
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/async.hpp"
#include "base/error.hpp"
#include "crypto/sign.hpp"
#include "safety/inspector.hpp"
#include "store/quarantine_store.hpp"
#include "store/sync_store.hpp"
#include "sync/versioner.hpp"
#include "sync/views.hpp"

namespace kith::sync {

class Engine;

class SyncService {
 public:
  struct Deps {
    boost::asio::io_context& io;
    boost::asio::thread_pool& workers;  // scans of folders, block reads/writes, index writes
    boost::asio::thread_pool& scans;    // libclamav
    store::SyncStore& store;
    store::QuarantineStore& quarantine;
    std::filesystem::path quarantine_dir;  // HOME/quarantine: held files go to a folder of their own there
    std::shared_ptr<const safety::Inspector> inspector;
    const crypto::SigningKey& device_key;
    std::string device_name;
    std::string listen_host = "0.0.0.0";
    std::uint16_t port = 22000;  // BEP listener; 0 = any free port (and one taken falls back to any)
    int rescan_interval_s = 60;  // full rescans of each folder (changes are also picked up on demand)
    bool watch = true;           // inotify watchers on the folders (sync/watcher.hpp)
    int dial_interval_s = 10;    // how often devices not connected are dialled
    // Seconds between DownloadProgress messages to each device while files are pulled (Syncthing's
    // progressUpdateIntervalS; sync/progress.hpp).
    int progress_interval_s = 5;
    // Percent of a folder's file system that pulls leave free (Syncthing's minDiskFree; disk_space.hpp).
    int min_disk_free_percent = 1;
    // Syncthing's local discovery (sync/local_discovery.hpp): off unless the caller turns it on, so
    // nothing that embeds the service broadcasts by surprise.
    bool local_discovery = false;
    std::uint16_t local_discovery_port = 21027;
    EventSink sink;
  };
  static Result<std::unique_ptr<SyncService>> start(Deps deps);
  ~SyncService();
  SyncService(const SyncService&) = delete;
  SyncService& operator=(const SyncService&) = delete;
  // Closes connections and stops timers; call after the io_context stopped, or before it runs again.
  void stop();

  // This node's Syncthing device ID (what a Syncthing user adds) and the listener's port. Any thread.
  const std::string& device_id() const;
  std::uint16_t port() const;

  void add_folder(FolderSpec spec, base::Done<Result<FolderView>> done);
  void remove_folder(std::string id, base::Done<Status> done);  // the index goes; files on disk stay
  void share(std::string folder, std::string device, base::Done<Status> done);
  void unshare(std::string folder, std::string device, base::Done<Status> done);
  void pause(std::string folder, bool paused, base::Done<Status> done);
  void rescan(std::string folder, base::Done<Status> done);
  void folders(base::Done<Result<std::vector<FolderView>>> done);
  void folder(std::string id, base::Done<Result<FolderView>> done);
  // The folder's conflict copies as of its last scan (kith sync conflicts), by name.
  void conflicts(std::string folder, base::Done<Result<std::vector<ConflictView>>> done);
  // The folder's recent changes, newest first (at most RecentChanges::MAX; in memory, so since the node
  // started): what was pulled, deleted or held back, and what scans found changed here.
  void changes(std::string folder, base::Done<Result<std::vector<ChangeView>>> done);

  // File versioning (versioner.hpp, sync_service_versions.cpp). `name` is a file's name in the folder
  // (check_name); `tag` a version's YYYYMMDD-HHMMSS, none for the newest.
  void set_versioning(std::string folder, Versioning versioning, base::Done<Result<FolderView>> done);
  void versions(std::string folder, std::optional<std::string> name,
                base::Done<Result<std::vector<KeptVersion>>> done);
  // The current file (if any) is archived, the version put in its place, and the folder rescanned.
  void restore(std::string folder, std::string name, std::optional<std::string> tag,
               base::Done<Result<KeptVersion>> done);

  // The folder's .stignore, read now (an unusable one is an IgnoresView with `error`, not an error).
  void ignores(std::string folder, base::Done<Result<IgnoresView>> done);

  // `id` in any form Syncthing accepts; `addresses` "HOST:PORT" (or tcp://HOST:PORT).
  void add_device(std::string id, std::vector<std::string> addresses, std::string name,
                  base::Done<Result<DeviceView>> done);
  void remove_device(std::string id, base::Done<Status> done);
  void devices(base::Done<Result<std::vector<DeviceView>>> done);

  // Devices of kith contacts (docs/sync.md § Contacts), fed by the contact channel. `contact`'s node
  // (kith ID `contact`, named `name`) says its device ID is `device` and its BEP listener may be at
  // `addresses`: that device is trusted like an added one, named after the contact. Posted.
  void contact_device(std::string contact, std::string name, std::string device,
                      std::vector<std::string> addresses);
  // The contact was removed or blocked: its devices go, and stop sharing folders. Posted.
  void forget_contact(std::string contact);

  // Files held back by the safety check (docs/sync.md § Pulling, engine_held.cpp); `quarantine_id` is
  // the full id of a `sync-` quarantine item. Release: the user judged the file safe, so the held copy
  // goes into the folder as the version it was held as, exactly as a pull puts a file there (checked
  // against that version's blocks, not scanned again), and that version is synced as any other from then
  // on; answers the path. Refused (sync.not_releasable, saying what to do) when a newer version is the
  // folder's now, the folder is gone or takes no files now, or the copy changed on disk.
  void release_held(std::string quarantine_id, base::Done<Result<std::string>> done);
  // The held copy is deleted; the folder still does not fetch that version (also after a restart).
  void delete_held(std::string quarantine_id, base::Done<Status> done);

  void pending(base::Done<std::vector<PendingFolder>> done);
  // Takes a folder a device offered into `path` (created if missing), shared back with that device.
  void accept(std::string folder, std::string path, base::Done<Result<FolderView>> done);

 private:
  explicit SyncService(std::unique_ptr<Engine> engine);
  std::unique_ptr<Engine> m_engine;
};

}  // namespace kith::sync
