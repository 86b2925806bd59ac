#pragma once
// What the sync service shows of itself: typed views and events (api/json_sync.cpp makes them JSON).
#include <cstdint>
#include <functional>
#include <string>
#include <variant>
#include <vector>

#include "store/sync_store.hpp"

namespace kith::sync {

// A folder as one device of its share sees it.
struct FolderDeviceView {
  std::string device;  // Syncthing device ID text
  std::string name;
  bool connected = false;
  double completion = 0;  // percent of the folder's global size that device has (100 when in sync)
  std::int64_t need_files = 0, need_bytes = 0;  // what it still needs of the global state
};

// A file that arrived but was held back by the safety check (in quarantine, not in the folder).
struct HeldItem {
  std::string name;           // relative to the folder
  std::string quarantine_id;  // `kith quarantine show ID`
  std::string reason;         // "infected: Eicar-Signature", "not fully scanned: ..."
};

// An item the last pull round could not apply (Syncthing's "failed items"): retried at the next round.
struct PullError {
  std::string name, error;
};

struct FolderView {
  std::string id, label, path;
  std::string type = "sendreceive";  // sendreceive | sendonly | receiveonly
  store::SyncVersioning versioning;  // what a pull keeps of files it replaces or deletes (versioner.hpp)
  bool paused = false;
  std::string state = "idle";  // idle | scanning | syncing | error | paused
  std::string error;           // why state is "error" (e.g. the folder marker is missing)
  bool disk_full = false;      // the error is a full disk: pulling waits for room and resumes by itself
  std::int64_t local_files = 0, local_bytes = 0;    // what this node has (not deleted)
  std::int64_t global_files = 0, global_bytes = 0;  // the newest version of everything in the share
  std::int64_t need_files = 0, need_bytes = 0;      // what this node still needs of it
  std::int64_t sequence = 0;                        // this node's index sequence
  std::int64_t last_scan = 0;                       // unix seconds
  // Since the node started: file data fetched from devices, and copied from local files instead
  // (a rename, a move, or the unchanged blocks of a modified file cost no transfer).
  std::int64_t bytes_fetched = 0, bytes_reused = 0;
  std::vector<FolderDeviceView> devices;
  std::vector<HeldItem> held;
  // On a file system that does not tell upper from lower case (exFAT, FAT): names that differ only in
  // case are refused there (case_check.hpp).
  bool case_insensitive = false;
  std::vector<PullError> pull_errors;  // the items the last pull round could not apply, and why
};

struct DeviceView {
  std::string id, name;
  std::vector<std::string> addresses;   // where this node dials it (added by hand)
  std::vector<std::string> discovered;  // where local discovery heard it, dialled too ("tcp://IP:PORT")
  bool connected = false;
  std::string address;               // the connection's remote address
  std::string client;                // what it said it runs, e.g. "syncthing v1.19.2"
  std::vector<std::string> folders;  // shared with it
  std::string contact;               // the kith contact (kith ID) this device belongs to; "" if added by hand
};

// A conflict copy in a folder (Syncthing's naming, names.hpp): `name` the copy, kept beside `original`,
// which holds the version that won; `stamp` when the copy was made (local time, "YYYYMMDD-HHMMSS"),
// `device` the first characters of the device whose change lost.
struct ConflictView {
  std::string name, original, stamp, device;
  std::int64_t size = 0, modified_s = 0;
};

// A folder a device offered that this node does not have: `kith sync accept ID PATH` takes it.
// One change to a folder's file, as its recent changes list it (Syncthing's "Recent Changes"): a file
// the puller placed or deleted, one it held back, or one a scan found changed here.
struct ChangeView {
  std::int64_t time = 0;    // unix seconds, when this node applied (or found) the change
  std::string name;         // relative to the folder
  std::string type;         // file | directory | symlink
  std::string action;       // updated | deleted | held
  std::string device;       // device ID of who made it (this node's own for a change made here)
  std::string device_name;  // that device's name as this node knows it ("" if unknown); set when listed
  std::string reason;       // for "held": why (as HeldItem::reason)
  std::string runnable;     // for a file that arrived and can run code: why ("shell script", ...), else ""
};

struct PendingFolder {
  std::string id, label, device, device_name;
};

struct FolderSpec {
  std::string path;
  std::string id;  // empty: a new random one
  std::string label;
  std::string type = "sendreceive";
  std::vector<std::string> devices;  // device IDs to share with (each must have been added)
  using Versioning = store::SyncVersioning;
  Versioning versioning;
};

// A folder's .stignore as it reads now (a scan loads the same within a moment of a change).
struct IgnoresView {
  std::string folder;
  std::vector<std::string> lines;     // the file's lines, trimmed
  std::vector<std::string> patterns;  // expanded, in the order they are tried (Syncthing's "expanded")
  std::string error;                  // why the patterns cannot be used (then the folder is in error)
};

namespace event {
struct FolderChanged {  // state, counts or error changed
  FolderView folder;
};
struct DeviceConnected {
  DeviceView device;
};
struct DeviceDisconnected {
  std::string id, name, why;
};
struct ItemChanged {  // a file arrived or was deleted by sync, or was held back
  std::string folder, name;
  std::string action;    // "updated" | "deleted" | "held"
  std::string device;    // where it came from
  std::string reason;    // for "held"
  std::string runnable;  // for "updated": why the file can run code ("shell script", ...), else ""
};
struct FolderOffered {
  PendingFolder offer;
};
}  // namespace event

using Event = std::variant<event::FolderChanged, event::DeviceConnected, event::DeviceDisconnected,
                           event::ItemChanged, event::FolderOffered>;
using EventSink = std::function<void(const Event&)>;

}  // namespace kith::sync
