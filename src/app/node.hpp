#pragma once
// The composition root of a running node: settings, state database, the swarm session, and the
// path every download takes from staging to its destination. Both the daemon and the CLI's transient
// mode run exactly this.
//
// Threading: swarm events and the periodic tick run on the io_context's thread; public methods may be
// called from any thread (state is guarded by m_mutex). The completed hook runs on m_workers; share()
// hashes on the caller's thread (in the daemon that is the io thread: see docs/architecture.md).
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "app/dht_port_adapter.hpp"
#include "app/home.hpp"
#include "app/settings.hpp"
#include "crypto/sign.hpp"
#include "lan/discovery.hpp"
#include "messaging/messenger.hpp"
#include "rendezvous/rendezvous.hpp"
#include "safety/inspector.hpp"
#include "store/block_store.hpp"
#include "store/contact_store.hpp"
#include "store/database.hpp"
#include "store/file_offer_store.hpp"
#include "store/message_store.hpp"
#include "store/quarantine_store.hpp"
#include "store/transfer_store.hpp"
#include "swarm/session_host.hpp"
#include "swarm/torrent_maker.hpp"

namespace kith::app {

struct ShareRequest {
  std::string path;
  swarm::TorrentFormat format = swarm::TorrentFormat::hybrid;
  std::vector<std::string> trackers;
  std::string comment;
  bool sign = false;  // add the user's publisher signature to the link
  // An SSL torrent (send_file): its root certificate, this node's certificate and key, and a cap on
  // the piece count that keeps the .torrent small enough for a FileOffer frame.
  std::string root_cert;
  std::string ssl_cert;
  std::string ssl_key;
  int max_pieces = 0;
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

class Node {
 public:
  // type, data: "transfer.progress", "transfer.completed", ... (see docs/api.md)
  using EventSink = std::function<void(const std::string& type, const nlohmann::json& data)>;

  // with_messaging: also run contacts and messages (a channel listener; the daemon does, transient
  // CLI nodes do not). Their events go to messaging_events, typed (called on the messenger's strand;
  // api/json_messaging.hpp has their JSON).
  static Result<std::unique_ptr<Node>> open(boost::asio::io_context& io, const Home& home, Settings settings,
                                            EventSink sink, bool with_messaging = false,
                                            messaging::EventSink messaging_events = nullptr);
  ~Node();
  // Saves resume data and session state; the node can then be destroyed. Call once.
  void stop();

  // Blocking (hashes the data): returns the transfer with its magnet link.
  Result<nlohmann::json> share(const ShareRequest& request);
  // Adds a download; if that torrent is already in the node, returns the existing transfer.
  Result<nlohmann::json> get(const GetRequest& request);
  nlohmann::json list();
  Result<nlohmann::json> show(const std::string& id);
  Result<std::string> torrent_file(const std::string& id);
  Status pause(const std::string& id);
  Status resume(const std::string& id);
  Status remove(const std::string& id, bool delete_data);
  nlohmann::json status();

  // The local block list (node_blocklist.cpp). kind: "info_hash" or "peer_id" (see safety/block_entry.hpp).
  // Blocking an info-hash also removes a transfer of it from the node: a download not yet released
  // loses its staged or quarantined data; released downloads and shares keep their files where they are.
  // Returns {kind, value, reason, added_at, removed: [transfer ids]}.
  Result<nlohmann::json> block(const std::string& kind, const std::string& value, const std::string& reason);
  // Error base::errc::not_found if the entry is not on the list.
  Status unblock(const std::string& kind, const std::string& value);
  // {"entries": [{kind, value, reason, added_at}], "ip_filter": summary (see ip_filter_files.hpp)}
  nlohmann::json blocklist();
  // Reads the files of the safety.ipfilter setting again; on error the old filter stays.
  Result<nlohmann::json> reload_ip_filter();
  // A copy: settings can change while the node runs (set_setting).
  Settings settings() const;
  // settings().to_json(), plus "pending": VALUE on settings changed by set_setting() that apply at
  // the next start.
  nlohmann::json settings_json() const;
  // Connected peers of a transfer: [{endpoint, client, peer_id, seed, incoming, connection, progress,
  // rates, bytes}].
  Result<nlohmann::json> peers(const std::string& id);
  // Downloads exactly the files with these indices (the "index" of each entry in `files`) and
  // remembers the choice across restarts (it replaces the --only glob).
  Status select_files(const std::string& id, const std::vector<int>& wanted);
  // Changes one setting, validated by the registry, and writes it to HOME/config.toml (keeping the
  // file's other values; --set overrides of this run are not written). Returns
  // {name, value, applied: "live" | "restart"}: rate limits, download.dir and resume.interval take
  // effect at once; the others at the node's next start.
  Result<nlohmann::json> set_setting(const std::string& name, const nlohmann::json& value);

  // The quarantine (node_safety.cpp). Ids may be unique prefixes.
  nlohmann::json quarantine_list(bool include_resolved);
  Result<nlohmann::json> quarantine_show(const std::string& id);
  // Moves the data to the transfer's destination (the user's explicit decision) and seeds it again.
  Status quarantine_release(const std::string& id);
  // Deletes the data and the transfer; the record stays as history, state "deleted".
  Status quarantine_delete(const std::string& id);
  // Writes a JSON report about a quarantined item or any transfer to HOME/reports/ (and syslog when
  // safety.report_syslog is on). Hashes every file: blocking.
  Result<nlohmann::json> report(const std::string& id, const std::string& reason);
  // Reports in HOME/reports/, newest first (unreadable files are skipped with a log line).
  nlohmann::json reports();
  std::uint16_t bt_port() const;
  // Contacts and messages; nullptr in a node opened without messaging.
  messaging::Messenger* messenger() { return m_messenger.get(); }
  const std::string& user_id() const { return m_user_id; }
  // {id, name, invite, addresses}: the invite carries address hints only while messaging runs.
  nlohmann::json identity();
  // The messenger, or errc unavailable saying that contacts and messages need the daemon.
  Result<messaging::Messenger*> require_messenger();
  std::vector<std::string> peer_hints() const;

  // Files to contacts (node_files.cpp). Hashes `path` into an SSL torrent only `contact_id` (an
  // accepted contact's kith ID, as Messenger::accepted_contact answers it) can fetch, seeds it, and
  // queues the offer (sent now if they are online, else when they come back). Blocking (hashing).
  // Returns the transfer JSON with "offer".
  Result<nlohmann::json> send_file(const std::string& contact_id, const std::string& path);
  // Offers sent and received, newest first: [{id, direction, contact, transfer_id, name, size, state, reason,
  // created_at}].
  Result<nlohmann::json> file_offers();

 private:
  Node(boost::asio::io_context& io, Home home, Settings settings, EventSink sink);
  Status start(bool with_messaging);
  Status start_messaging();
  void start_rendezvous();
  nlohmann::json rendezvous_status() const;
  // Messenger events pass through here (on the messenger's strand) on their way to the sink: contacts
  // changing and coming online steer the DHT presence records and lookups.
  void on_messaging_event(const messaging::Event& event);
  // An incoming FileOffer from an accepted contact (run on the io_context, posted by the messenger's
  // offer handler): validates it and adds the download (staging -> scan -> download.dir),
  // auto-accepted. Errors refuse it.
  Status on_file_offer(const std::string& from, const wire::pb::FileOffer& offer);
  // Restores the certificate (and the sender's address) of a transfer that came with a file offer.
  void add_ssl_options(const store::TransferRecord& rec, swarm::AddOptions& add);
  nlohmann::json offer_json(const store::FileOfferRecord& o) const;
  Status load_blocklist();
  // Error safety::errc::blocked if either hash is on the block list.
  Status check_not_blocked(const swarm::InfoHashes& hashes);
  void apply_peer_id_rules();
  void on_swarm_event(const swarm::SwarmEvent& event);
  // Drops a transfer's record from memory and the database (not from the session).
  Status forget(const std::string& id);
  void tick();
  // The path from staging (node_safety.cpp): scan when complete, then release or quarantine.
  void start_scanner();
  void maybe_release(const std::string& id);
  void finish_check(const std::string& id, const safety::Decision& decision);
  void quarantine(const std::string& id, const safety::Decision& decision);
  void on_storage_moved(const std::string& id, const std::string& path);
  void on_storage_move_failed(const std::string& id, const std::string& message);
  Result<std::string> resolve_quarantine(const std::string& id_or_prefix);
  std::filesystem::path destination_for(const std::string& to) const;
  nlohmann::json transfer_json(const swarm::TransferStatus& st, bool detailed);
  // The verified "&x.kith.pk=..&x.kith.sig=.." of a link, "" when unsigned; errors: a bad signature,
  // or an unsigned link while safety.require_signed is on.
  Result<std::string> check_publisher(const std::string& link, const swarm::Source& src) const;
  nlohmann::json publisher_json(const std::string& link_signature) const;
  void publish(const std::string& type, const nlohmann::json& data);

  // Reads of a setting that set_setting() may change while the node runs.
  std::string setting_string(const std::string& name) const;
  std::int64_t setting_int(const std::string& name) const;

  boost::asio::io_context& m_io;
  Home m_home;
  mutable std::mutex m_settings_mutex;  // guards m_settings and m_pending_settings after start()
  Settings m_settings;
  std::map<std::string, nlohmann::json> m_pending_settings;  // saved, applied at the next start
  EventSink m_sink;
  messaging::EventSink m_messaging_sink;
  std::unique_ptr<store::Database> m_db;
  std::unique_ptr<store::TransferStore> m_store;
  std::unique_ptr<store::BlockStore> m_blocks;
  std::unique_ptr<store::QuarantineStore> m_quarantine;
  std::unique_ptr<store::FileOfferStore> m_file_offers;
  std::shared_ptr<safety::Inspector> m_inspector;
  std::unique_ptr<swarm::SessionHost> m_swarm;
  std::unique_ptr<crypto::SigningKey> m_device_key;
  std::unique_ptr<store::ContactStore> m_contact_store;
  std::unique_ptr<store::MessageStore> m_message_store;
  std::unique_ptr<messaging::Messenger> m_messenger;
  std::unique_ptr<lan::Discovery> m_lan;
  std::unique_ptr<DhtPortAdapter> m_dht_port;
  std::unique_ptr<rendezvous::Rendezvous> m_rendezvous;
  boost::asio::thread_pool m_workers{2};
  boost::asio::steady_timer m_timer;
  std::string m_node_id;
  std::unique_ptr<crypto::SigningKey> m_user_key;
  std::string m_user_id;  // kith ID of m_user_key
  int m_ticks = 0;
  std::atomic<bool> m_stopped{false};  // stop() may run on another thread than tick()

  mutable std::mutex m_mutex;  // guards the members below
  std::map<std::string, store::TransferRecord> m_records;
  enum class Move { release, quarantine };
  std::set<std::string> m_scanning;                                                // safety check running
  std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> m_scan_progress;  // id -> (done, total)
  std::map<std::string, Move> m_moving;                 // move_storage in flight, and why
  std::set<std::string> m_held;                         // in quarantine (state "held")
  std::map<std::string, std::string> m_release_errors;  // id -> why it was not released
  std::map<std::string, std::string> m_last_state;      // for transfer.state events
  std::map<std::string, store::BlockRecord> m_blocked;  // "kind:value" -> entry, as in m_blocks
  nlohmann::json m_ip_filter_summary;
};

}  // namespace kith::app
