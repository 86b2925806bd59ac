#pragma once
// kith's own view of swarm objects: the rest of kith never sees libtorrent types.
#include <array>
#include <cstdint>
#include <string>
#include <system_error>
#include <vector>

#include "base/error.hpp"

namespace kith::swarm {

enum class errc {
  bad_link = 1,      // a magnet link could not be parsed
  bad_torrent,       // a .torrent file could not be parsed
  unknown_transfer,  // no transfer with that id (or id prefix)
  ambiguous_id,      // an id prefix matches several transfers
  duplicate,         // the transfer is already in the session
  create_failed,     // making a torrent from local files failed
  session_error,     // libtorrent refused an operation
  dht_failed,        // a DHT put reached no node that stored it, or the DHT is off or shut down
  dht_not_found,     // a DHT get found no item under that key and salt
  nothing_selected,  // --only or a magnet's so= selects none of the torrent's files (selection.hpp)
  cancelled,  // the caller cancelled (hashing a share), or a wait for a transfer's bytes ended: removed,
              // paused, shut down
  timed_out,  // a transfer's bytes were not there by the deadline
};
const std::error_category& category();
inline std::error_code make_error_code(errc e) { return {static_cast<int>(e), category()}; }

enum class TorrentFormat { v1, v2, hybrid };

// Both info-hashes of a torrent, lower-case hex; either may be empty (v1-only or v2-only).
struct InfoHashes {
  std::string v1;  // 40 hex digits (SHA-1)
  std::string v2;  // 64 hex digits (SHA-256)
  // The transfer id: the v1 hash when there is one (every client shows that), else the v2 hash.
  const std::string& id() const { return v1.empty() ? v2 : v1; }
};

struct TransferStatus {
  std::string id;
  InfoHashes hashes;
  std::string name;
  std::string state;  // checking | metadata | downloading | finished | seeding | paused | error
  std::string error;  // non-empty in state "error"
  // With `error`, when kith knows what kind it is: the error's code name (Error::code_name(), e.g.
  // "swarm.nothing_selected"); empty for libtorrent's own errors (a file, the disk).
  std::string error_code;
  bool disk_full = false;
  bool has_metadata = false;
  double progress = 0;             // 0..1 of the wanted bytes
  std::int64_t total_wanted = 0;   // bytes selected for download
  std::int64_t total_done = 0;     // verified bytes of those
  std::int64_t total_size = 0;     // bytes in the whole torrent
  std::int64_t download_rate = 0;  // payload bytes/s
  std::int64_t upload_rate = 0;    // payload bytes/s
  std::int64_t downloaded = 0;     // payload bytes downloaded since this session added it
  std::int64_t uploaded = 0;       // payload bytes uploaded since this session added it
  int peers = 0;
  int seeds = 0;
  std::int64_t eta = -1;  // seconds, -1 when unknown
  std::string save_path;
  bool sequential = false;
};

struct FileStatus {
  int index = 0;     // the file's index in the torrent (pad files count too); what set_wanted_files takes
  std::string path;  // relative to the save path, '/'-separated
  std::int64_t size = 0;
  std::int64_t done = 0;
  bool wanted = true;
};

// An IP range the session refuses (both ends included), as text ("1.2.3.4", "2001:db8::1").
struct AddressRange {
  std::string first;
  std::string last;
};

// A blocked peer ID: the whole 20-byte ID, or (prefix) its first bytes, e.g. a client code "-XL0012-".
struct PeerIdRule {
  std::string bytes;
  bool prefix = false;
};

// One connected peer of a transfer.
struct PeerStatus {
  std::string endpoint;         // "ip:port" ("[v6]:port")
  std::string client;           // client name from its handshake, may be empty
  std::string peer_id;          // 40 hex digits
  std::int64_t downloaded = 0;  // payload bytes received from it on this connection
  std::int64_t uploaded = 0;
  std::int64_t download_rate = 0;
  std::int64_t upload_rate = 0;
  double progress = 0;  // how much of the torrent it has, 0..1
  bool seed = false;
  bool incoming = false;   // it connected to us
  std::string connection;  // "tcp", "utp" (+ "encrypted")
};

struct SessionStats {
  std::uint16_t listen_port = 0;
  int dht_nodes = 0;
  bool dht_running = false;
  std::int64_t refused_by_ip_filter = 0;  // connections refused by the IP filter since start
  std::int64_t refused_by_peer_id = 0;    // connections closed for a blocked peer ID since start
};

// BEP 44 mutable items. The key and signature types are the same std::arrays as crypto::PublicKey and
// crypto::Signature, so callers pass those directly (swarm does not link crypto for two aliases).
using DhtPublicKey = std::array<std::uint8_t, 32>;  // Ed25519 public key
using DhtSignature = std::array<std::uint8_t, 64>;  // Ed25519 signature
inline constexpr std::size_t DHT_MAX_VALUE = 1000;  // BEP 44: bencoded "v" at most 1000 bytes
inline constexpr std::size_t DHT_MAX_SALT = 64;     // BEP 44: salt at most 64 bytes

using DhtInfoHash = std::array<std::uint8_t, 20>;  // a BEP 5 swarm key

struct MutableItem {
  std::string value;  // opaque bytes; stored as a bencoded string ("996:..."), so at most 996 bytes
  std::int64_t seq = 0;
};

// Delivered from the session host to its owner on the session host's strand.
struct SwarmEvent {
  enum class Kind {
    metadata_received,    // a magnet transfer now knows its files
    finished,             // every wanted piece is downloaded and hash-verified
    resume_data,          // fresh resume data (in `resume`) to persist
    storage_moved,        // data moved to `path`
    storage_move_failed,  // move to `path` failed: `message`
    error,                // a transfer stopped with an error: `message`, `disk_full`
    removed,              // the transfer left the session
    status_updates,       // `statuses` of the transfers that changed (answer to post_updates())
    file_completed,       // every piece of wanted file `file` is verified and written
    port_mapped,          // the router forwards map_port()'s port: `path` is its public "ip:port", or "port"
  };
  Kind kind;
  std::string id;
  std::string path;
  std::string message;
  bool disk_full = false;
  std::vector<std::uint8_t> resume;
  std::vector<TransferStatus> statuses;
  int file = -1;  // file_completed: the file's index in the torrent (FileStatus::index)
};

}  // namespace kith::swarm

template <>
struct std::is_error_code_enum<kith::swarm::errc> : std::true_type {};
