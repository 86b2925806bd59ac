#pragma once
// The node's one libtorrent session: adding, controlling and observing transfers.
//
// Threading: libtorrent runs its own network and disk threads and owns the session's state there
// (every lt::session / torrent_handle call is marshalled onto its network thread). Its alerts are
// popped on this host's strand (set_alert_notify posts there) and turned into SwarmEvents for the
// owner's handler, which therefore runs on that strand and must only post onward. Every public method
// may be called from any thread; the few maps kept here are behind one leaf mutex (no callback runs
// under it). Calls named *_async answer on this host's strand; the others return at once or after a
// short synchronous call into libtorrent's network thread (status, file lists, magnet links).
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <cstdint>
#include <deque>
#include <functional>
#include <libtorrent/fwd.hpp>     // forward declarations of libtorrent types used privately below
#include <libtorrent/socket.hpp>  // lt::tcp::endpoint (an Asio type) for m_hints
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/async.hpp"
#include "swarm/file_reader.hpp"
#include "swarm/source.hpp"
#include "swarm/types.hpp"

namespace kith::swarm {
namespace detail {
class PeerIdFilter;
class PieceGates;
class SourceRecorder;
}  // namespace detail

struct SessionOptions {
  std::string listen = "0.0.0.0:6881,[::]:6881";  // libtorrent listen_interfaces syntax
  // Where SSL torrents (private transfers to contacts) accept TLS peers: "host:port" entries as in
  // `listen`, without libtorrent's "s" suffix (added here). Empty: no SSL listener, so nobody can
  // fetch this node's SSL torrents (it can still fetch others').
  std::string ssl_listen;
  bool dht = true;
  std::string dht_bootstrap;  // "host:port,host:port"; empty: none
  bool lsd = true;
  bool upnp = true;
  bool natpmp = true;
  int download_limit = 0;  // bytes/s, 0 = unlimited
  int upload_limit = 0;
  bool limit_lan = false;        // apply the rate limits to LAN and loopback peers too (default: exempt)
  bool debug_alerts = false;     // log libtorrent's peer and connection alerts (log.level=debug)
  std::string disk_io = "mmap";  // "mmap" or "posix" (pread/pwrite): see docs/settings.md
  std::vector<std::uint8_t> saved_state;  // from session_state() of an earlier run (DHT nodes)
  // A private DHT among nodes on one host or LAN (tests, benchmarks): lifts libtorrent's protections
  // that assume one node per IP (routing/search IP restrictions, BEP 42 node IDs, per-IP rate limit)
  // and adds the dht_bootstrap entries as ordinary nodes too (libtorrent keeps bootstrap routers out
  // of its routing table, so nodes that only bootstrap from each other would never find each other).
  // Never for the public DHT: those protections are what keeps a node's routing table honest there.
  bool dht_private = false;
  // libtorrent sometimes never ends a mutable-item lookup (1-6 in 100 on a 20-30-node loopback DHT:
  // an early answer comes, the final "authoritative" one never does). So a get that has a value
  // returns the best one seen this long after the first, and any DHT call without an answer after
  // dht_timeout_ms fails.
  int dht_grace_ms = 2000;
  int dht_timeout_ms = 30000;
};

struct AddOptions {
  std::string save_path;
  std::vector<std::uint8_t> resume;  // libtorrent resume data from an earlier run, if any
  std::string only_glob;             // download only files matching this glob (empty: all)
  bool sequential = false;
  bool paused = false;
  bool seed_mode = false;          // the data is known complete (we just hashed it): skip the check
  std::vector<std::string> peers;  // "host:port" of peers to dial (like a magnet's x.pe hints)
  // File indices to download, the rest skipped; overrides only_glob. Empty: no explicit selection.
  std::vector<int> wanted_files;
  bool has_wanted_files = false;  // an empty wanted_files with this set means "download nothing"
  // For an SSL torrent: this node's certificate (signed by the torrent's root) and its key, PEM. Kept
  // for the transfer's life in this session and given again whenever libtorrent asks for it.
  std::string ssl_cert;
  std::string ssl_key;
  // A released download: never download or seed a piece that also holds bytes of an unwanted file.
  // Such pieces lived in libtorrent's .parts file in staging, which never leaves staging; without
  // this they would be fetched again and a new .parts file would appear in the destination.
  bool whole_pieces_only = false;
};

class SessionHost {
 public:
  using EventHandler = std::function<void(const SwarmEvent&)>;

  SessionHost(boost::asio::io_context& io, const SessionOptions& options, EventHandler on_event);
  ~SessionHost();
  SessionHost(const SessionHost&) = delete;
  SessionHost& operator=(const SessionHost&) = delete;

  // Adds a parsed source. `done` runs on this host's strand once libtorrent's own thread has added
  // it (the add can take long for a torrent with many trackers: never wait for it on an io thread).
  // Errors: swarm::errc::duplicate, session_error, bad_link (a peer that does not parse).
  void add_async(const Source& source, const AddOptions& options, base::Done<Result<InfoHashes>> done);
  // Restores a transfer from options.resume, asynchronously as add_async. `hints` (the magnet it came
  // from, if any) adds its x.pe peers again, so a restart can reconnect even when the resume data lists
  // no peers.
  void restore_async(const AddOptions& options, const Source* hints, base::Done<Result<InfoHashes>> done);
  // The same, waiting on the calling thread (tests and tools; not on an io thread).
  Result<InfoHashes> add(const Source& source, const AddOptions& options);
  Result<InfoHashes> restore(const AddOptions& options, const Source* hints = nullptr);
  // Takes a transfer out of the session, keeping its files, and answers (on this host's strand) with
  // fresh resume data saved after its disk cache was flushed: how the release pipeline moves files
  // itself and then restores the transfer where they are.
  void detach_async(const std::string& id, base::Done<Result<std::vector<std::uint8_t>>> done);
  // Asks libtorrent for the status of every transfer that changed since the last call; they arrive
  // together as one status_updates event (libtorrent's post_torrent_updates: no per-torrent polling).
  void post_updates();

  // `id` may be any unique prefix of a transfer id (as git accepts short hashes).
  Result<std::string> resolve(const std::string& id_or_prefix) const;
  Status remove(const std::string& id, bool delete_files);
  Status pause(const std::string& id);
  Status resume(const std::string& id);
  Status move_storage(const std::string& id, const std::string& destination);
  Result<TransferStatus> status(const std::string& id) const;
  std::vector<TransferStatus> list() const;
  Result<std::vector<FileStatus>> files(const std::string& id) const;
  // Peers connected now.
  Result<std::vector<PeerStatus>> peers(const std::string& id) const;
  // Dials these "ip:port" peers for transfer `id` now and remembers them as its hints (at most 16), so
  // redial_hints() and a resume dial them again. Entries that are not IP:port are skipped.
  // remember=false: dial once, keep no hint (a one-off local port, e.g. a relayed data circuit).
  Status connect_peers(const std::string& id, const std::vector<std::string>& peers, bool remember = true);
  // Dials transfer `id`'s hints again (no-op without hints): with no tracker or DHT (a file sent to a
  // contact), nothing else brings a lost peer back. The caller decides when (it knows the peer count).
  void redial_hints(const std::string& id);
  // Stops dialling the hints of transfer `id` (a recipient has all it needs).
  void forget_hints(const std::string& id);
  // Every peer that sent this transfer payload since it was added in this session (noted by a peer
  // plugin at its first block, detail/source_recorder.hpp, so a peer gone by the time the download
  // finishes is still named). `id` is the full transfer id.
  std::vector<PeerStatus> sources(const std::string& id) const;
  // A reader of wanted file `file_index` (FileStatus::index) that hands out only verified bytes, waiting
  // for them and asking libtorrent to fetch them first (file_reader.hpp; defined in file_reader.cpp).
  // swarm::errc::session_error before the metadata is known; base::errc::bad_input for a pad file, an
  // unwanted file or an index that is not a file of the torrent.
  Result<std::unique_ptr<FileReader>> open_reader(const std::string& id, int file_index,
                                                  const ReaderOptions& options = {}) const;
  // Downloads exactly the files whose indices are in `wanted` (FileStatus::index), skips the others,
  // and saves resume data. swarm::errc::session_error before a magnet's metadata arrived;
  // base::errc::bad_input for an index that is not a file of the torrent (pad files included).
  Status set_wanted_files(const std::string& id, const std::vector<int>& wanted);
  // Session-wide rate limits in bytes/s (0: none), applied at once.
  void set_rate_limits(std::int64_t download, std::int64_t upload);
  // The magnet link with `x.pe` hints for each of `peer_hints` ("host:port").
  Result<std::string> magnet(const std::string& id, const std::vector<std::string>& peer_hints) const;
  // The bencoded .torrent, once metadata is known.
  Result<std::string> torrent_file(const std::string& id) const;

  // Asks every transfer with changes for resume data; results arrive as resume_data events.
  void request_resume_data();
  // Shutdown path: collects resume data for every transfer synchronously (events delivered on the
  // calling thread), then stops alert delivery. Call once, before destruction.
  void shutdown();

  // Replaces the session's IP filter: connections to and from addresses in `ranges` are refused,
  // and connected peers in them are dropped. An empty list allows every address. Error
  // (swarm::errc::session_error) if an address does not parse; the filter is then unchanged.
  Status set_ip_filter(const std::vector<AddressRange>& ranges);
  // Replaces the blocked peer IDs: peers whose ID matches are disconnected after the handshake
  // (connected ones within a second) and are not dialled again in this session.
  void set_blocked_peer_ids(std::vector<PeerIdRule> rules);

  // BEP 44 mutable items on the DHT (rendezvous' presence records go through these). Each `done` is
  // called exactly once: on this host's strand; at once on the calling thread when the call fails
  // before reaching libtorrent (DHT off: swarm::errc::dht_failed; bad sizes); on the thread calling
  // shutdown() for a call still pending then.
  //
  // Stores `value` under (key, salt). The item's seq is `seq`, raised to one more than the seq found
  // in the DHT when that is not lower (BEP 44 nodes refuse a seq that does not increase). `sign` is
  // called once, on a libtorrent thread, with the BEP 44 signature input
  // ("4:salt<len>:<salt>3:seqi<seq>e1:v<bencoded value>") and must return key's Ed25519 signature of it
  // without blocking. done: ok when at least one DHT node stored it, else dht_failed;
  // base::errc::invalid_argument for a value over DHT_MAX_VALUE bencoded or a salt over DHT_MAX_SALT.
  using DhtSigner = std::function<DhtSignature(std::string_view canonical)>;
  void dht_put_mutable(const DhtPublicKey& key, std::string salt, std::string value, std::int64_t seq,
                       DhtSigner sign, std::function<void(Status)> done);
  // Reads the item with the highest seq under (key, salt) once the lookup has heard from every node
  // it asked (signatures are checked by libtorrent), or the best one seen dht_grace_ms after the first
  // arrived. dht_not_found when none holds one; dht_failed after dht_timeout_ms without an answer.
  void dht_get_mutable(const DhtPublicKey& key, std::string salt,
                       std::function<void(Result<MutableItem>)> done);
  // BEP 5: tells the DHT nodes closest to `hash` that TCP `port` on our address (as they see it: the
  // NAT's public address) belongs to that swarm. Fire and forget (libtorrent reports no outcome); an
  // announce lives about 30 minutes in other nodes, so repeat it. Does nothing when the DHT is off.
  void dht_announce(const DhtInfoHash& hash, std::uint16_t port);
  // BEP 5 get_peers: the "ip:port" announced under `hash`, gathered from every node that answers until
  // dht_grace_ms after the first answer with peers, or 12 s at most (then possibly none). `done` is
  // called exactly once, as for the mutable items above; dht_failed when the DHT is off.
  void dht_get_peers(const DhtInfoHash& hash, std::function<void(Result<std::vector<std::string>>)> done);

  // Asks UPnP/NAT-PMP routers to forward TCP `port` (the contact channel's listener) to this host.
  // Does nothing when upnp and natpmp are off; results are logged (portmap alerts). Once a router
  // granted it (as the same external port), a port_mapped event says where: "ip:port" when libtorrent
  // knows the external IP (peers' votes; the IP may be a private one, behind a second NAT: the receiver
  // decides), else the port alone. The mapping lasts for the session (there is no unmap yet).
  void map_port(std::uint16_t tcp_port);

  std::vector<std::uint8_t> session_state() const;
  SessionStats stats() const;
  std::uint16_t listen_port() const;
  // The port SSL torrents accept peers on; 0 when there is no SSL listener.
  std::uint16_t ssl_listen_port() const;

 private:
  void on_alerts();
  void handle_alerts(bool from_shutdown);
  // DHT alerts (session_host_dht.cpp); true when `a` was one.
  bool handle_dht_alert(const lt::alert* a);
  void fail_pending_dht();
  void add_private_dht_nodes(const std::string& list);
  // Runs `then` on the strand after `ms`, unless the session shut down meanwhile.
  void after_ms(int ms, std::function<void()> then);
  void arm_dht_timer(const std::string& key, std::uint64_t id, int ms, bool get);
  void expire_dht(const std::string& key, std::uint64_t id, bool get);
  // Prepares params from options; the transfer's id, or an error (duplicate, a bad peer).
  Result<InfoHashes> prepare(lt::add_torrent_params& params, const AddOptions& options);
  Result<InfoHashes> add_params(lt::add_torrent_params params, const AddOptions& options);
  void add_params_async(lt::add_torrent_params params, const AddOptions& options,
                        base::Done<Result<InfoHashes>> done);
  // After libtorrent added `h`: remember it and apply what must follow the add.
  void adopt(const lt::torrent_handle& h, const InfoHashes& hashes, const AddOptions& options);
  void on_added(const lt::add_torrent_alert& a);
  void on_detach_resume(const std::string& id, Result<std::vector<std::uint8_t>> resume);
  Result<lt::torrent_handle> handle(const std::string& id) const;
  void annotate(TransferStatus& status) const;
  void record_error(const std::string& id, const std::string& message, bool disk_full);
  bool recover_inconsistent(const lt::torrent_handle& h);
  void apply_file_selection(const lt::torrent_handle& h, const std::string& glob);
  // selection.cpp: notes a transfer whose glob or so= selects no file (true the first time), and
  // that note's message.
  bool flag_empty_selection(const lt::torrent_handle& h);
  std::optional<std::string> selection_error(const std::string& id) const;
  Status apply_wanted_files(const lt::torrent_handle& h, const std::vector<int>& wanted);
  void apply_ssl_certificate(const std::string& id);
  // whole_pieces_only: priority 0 for every piece that overlaps an unwanted (non-pad) file.
  void apply_whole_pieces(const lt::torrent_handle& h);

  boost::asio::io_context& m_io;
  boost::asio::strand<boost::asio::io_context::executor_type> m_strand;
  EventHandler m_on_event;
  std::unique_ptr<lt::session> m_session;
  mutable std::mutex m_mutex;  // guards the maps below
  std::map<std::string, std::unique_ptr<lt::torrent_handle>> m_handles;
  std::map<std::string, std::string> m_globs;        // selective download, applied once metadata arrives
  std::map<std::string, std::vector<int>> m_wanted;  // explicit file selection, applied once metadata arrives
  std::map<std::string, std::string> m_unselected;   // glob or so= selects no file: the error (selection.hpp)
  std::map<std::string, std::string> m_errors;       // last error alert's message per transfer
  std::set<std::string> m_disk_full;                 // transfers stopped by a full disk
  std::map<std::string, std::vector<lt::tcp::endpoint>> m_hints;     // peers named by the link or the user
  std::map<std::string, int> m_recoveries;                           // see recover_inconsistent()
  std::map<std::string, std::pair<std::string, std::string>> m_ssl;  // id -> (cert, key) of SSL torrents
  std::set<std::string> m_whole_pieces;                              // ids added with whole_pieces_only
  // Cleared in shutdown() (the caller's thread) and read on the strand and in libtorrent's notify
  // callback: atomic. Late alert notifications and DHT timers do nothing once it is false.
  std::shared_ptr<std::atomic<bool>> m_alive;
  std::mutex m_alert_mutex;         // held while alerts are popped and handled on the strand, and while
                                    // shutdown() clears m_alive: libtorrent frees popped alerts at the
                                    // next pop, so two threads must never pop at once
  std::atomic<int> m_dht_nodes{0};  // written on the strand from dht_stats alerts
  // map_port(): the port asked for, whether a router granted it, our external IP, what was reported
  // (port_mapped); on the strand (alerts) except m_mapped_port, set before any mapping alert.
  std::atomic<std::uint16_t> m_mapped_port{0};
  bool m_port_granted = false;
  std::string m_external_ip, m_reported_mapping;
  void report_mapping();
  std::shared_ptr<detail::PeerIdFilter> m_peer_filter;  // also held by the session as a plugin
  std::shared_ptr<detail::SourceRecorder> m_recorder;   // sources(); also a session plugin
  std::shared_ptr<detail::PieceGates> m_gates;          // verified pieces per transfer (open_reader)
  std::atomic<std::int64_t> m_refused_ip{0};            // peer_blocked_alerts seen (strand)
  // DHT requests waiting for their alert (or their timer), per key bytes + salt, oldest first (under
  // m_mutex).
  struct PendingPut {
    std::uint64_t id;
    std::function<void(Status)> done;
  };
  struct PendingGet {
    std::uint64_t id;
    std::function<void(Result<MutableItem>)> done;
    std::optional<MutableItem> best;  // from non-authoritative alerts
  };
  struct PendingPeers {
    std::uint64_t id;
    std::function<void(Result<std::vector<std::string>>)> done;
    std::set<std::string> peers;
    bool answered = false;  // some node returned peers: the grace timer runs
  };
  std::map<std::string, std::deque<PendingPeers>> m_dht_peer_gets;  // by the 20 hash bytes
  void expire_peer_get(const std::string& hash, std::uint64_t id);
  void arm_peer_get_timer(const std::string& hash, std::uint64_t id, int ms);
  std::map<std::string, std::deque<PendingPut>> m_dht_puts;
  std::map<std::string, std::deque<PendingGet>> m_dht_gets;
  std::uint64_t m_dht_next_id = 0;
  // Adds waiting for their add_torrent_alert, and detaches waiting for their resume data, by id (under
  // m_mutex; completions are called after unlocking).
  struct PendingAdd {
    AddOptions options;
    base::Done<Result<InfoHashes>> done;
  };
  std::map<std::string, PendingAdd> m_adding;
  std::map<std::string, base::Done<Result<std::vector<std::uint8_t>>>> m_detaching;
  int m_dht_grace_ms;
  int m_dht_timeout_ms;
};

}  // namespace kith::swarm
