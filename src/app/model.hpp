#pragma once
// The node's typed results: what its services answer. JSON exists only in src/api, which turns these
// into the shapes of docs/api.md.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "app/ip_filter_files.hpp"
#include "app/release_machine.hpp"
#include "messaging/views.hpp"
#include "net/turn_client.hpp"
#include "safety/report.hpp"
#include "store/block_store.hpp"
#include "store/file_offer_store.hpp"
#include "store/quarantine_store.hpp"
#include "store/transfer_store.hpp"
#include "swarm/types.hpp"

namespace kith::app {

// Who signed the link a transfer came from (docs/wire.md).
// What a call's media endpoint uses for ICE (settings calls.*).
struct CallConfig {
  std::string stun;                       // HOST:PORT, or empty
  std::optional<net::TurnServer> turn;    // UDP TURN, or none
  bool relay_only = false;                // only relayed candidates
  std::vector<std::string> ice_networks;  // allowed networks; empty: all
};

struct Publisher {
  bool is_signed = false;
  std::string id;  // the signer's kith ID
  bool you = false;
};

// A share still being hashed: it has no info-hash yet, so its id is the job's ("h-" + 16 hex digits).
struct Hashing {
  std::string path;
  std::uint64_t done = 0;   // bytes hashed
  std::uint64_t total = 0;  // bytes to hash
  std::int64_t rate = 0;    // bytes/s
  std::int64_t eta = -1;    // seconds, -1 while unknown
};

// Where a download is on its way out of staging (the release pipeline's view).
struct ReleaseView {
  ReleasePhase phase = ReleasePhase::staging;
  std::uint64_t scan_done = 0;   // bytes of wanted files with a verdict
  std::uint64_t scan_total = 0;  // bytes of wanted files
  bool scanning = false;         // a scan runs now
  std::string error;             // why it is held
};

struct Transfer {
  swarm::TransferStatus status;        // libtorrent's view (last update)
  store::TransferRecord record;        // what the node stored
  std::optional<ReleaseView> release;  // downloads only
  std::optional<Hashing> hashing;      // a share being hashed
  Publisher publisher;
  // kith's state: libtorrent's (checking, metadata, downloading, finished, seeding, paused, error)
  // refined by the release (scanning, releasing, held, quarantined, completed) or "hashing".
  std::string state;
  std::string error;  // why it stopped or is held; "" otherwise
  // Detailed views (show) only:
  bool detailed = false;
  std::vector<swarm::FileStatus> files;
  std::string magnet;
};

// The answer to adding a download: the transfer, and whether the node already had it.
struct Added {
  Transfer transfer;
  bool existing = false;
};

struct QuarantineItem {
  store::QuarantineRecord record;
  std::string location;  // where the data is now: the transfer's, or a held synced file's directory
};

struct BlockList {
  std::vector<store::BlockRecord> entries;  // oldest first
  IpFilterSummary ip_filter;
};

struct ReportWritten {
  safety::Report report;
  std::string path;
};

struct SafetyState {
  std::string scanner;  // loading | ready | unavailable
  std::string reason;   // why unavailable
  unsigned signatures = 0;
  std::vector<std::string> databases;
};

struct RendezvousStats {
  std::int64_t puts_ok = 0, puts_failed = 0, lookups = 0, found = 0;
  // The doorbell: announces under contacts' bells, get_peers of our own, addresses heard ringing.
  std::int64_t rings = 0, bell_polls = 0, bell_heard = 0, bell_answers = 0;
};

// The node at a glance (`kith status`, GET /api/v1/status).
struct NodeStatus {
  std::string node_id;
  std::string user_id;
  std::string version;
  std::string home;
  std::uint16_t bt_port = 0;
  std::uint16_t ssl_port = 0;
  std::vector<std::string> peer_hints;
  bool dht_enabled = false;
  swarm::SessionStats session;  // listen port, DHT, refusal counters
  bool lsd = false;
  std::int64_t download_rate = 0;
  std::int64_t upload_rate = 0;
  std::int64_t limit_download = 0;
  std::int64_t limit_upload = 0;
  std::size_t transfers = 0;
  nlohmann::json safety;  // safety::Inspector::state()
  std::size_t quarantined = 0;
  int blocked_info_hashes = 0;
  int blocked_peer_ids = 0;
  std::size_t ip_filter_ranges = 0;
  std::optional<messaging::MessengerStatus> messaging;  // none in a transient node
  std::optional<RendezvousStats> rendezvous;
};

// Who this node speaks for (`kith id`).
struct Identity {
  std::string id;  // kith ID
  std::string name;
  std::string invite;
  std::vector<std::string> addresses;  // only while contacts run (the daemon)
  std::optional<std::uint16_t> channel_port;
};

}  // namespace kith::app
