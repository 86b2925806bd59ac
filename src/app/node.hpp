#pragma once
// The composition root of a running node: it opens the home's database, starts the services and wires
// them together; it is not a service itself. Both the daemon and the CLI's transient mode run exactly
// this (docs/architecture.md § Services).
//
//   TransferService   downloads and shares, records, libtorrent statuses       (its strand)
//   ReleasePipeline   staging -> scanning -> released | quarantined; quarantine (its strand)
//   BlockService      block list and IP filter                                 (its strand)
//   FileOfferService  files to and from contacts                               (no state of its own)
//   ReportService     reports for administrators                               (no state of its own)
//   Messenger, lan::Discovery, rendezvous::Rendezvous: contacts and messages  (their strands)
//   CallService       calls' signalling over the messenger's channels          (its strand)
//   SettingsStore     settings while the node runs                             (immutable snapshots)
//
// Threading: the services' public methods may be called from any thread. Slow work runs on two pools:
// m_workers (hashing shares, moves, parsing, reports) and m_scans (libclamav). stop() must be called
// after the io_context has stopped running (nothing then runs on the strands), from one thread.
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <future>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "app/block_service.hpp"
#include "app/data_relays.hpp"
#include "app/dht_port_adapter.hpp"
#include "app/events.hpp"
#include "app/file_offer_service.hpp"
#include "app/home.hpp"
#include "app/model.hpp"
#include "app/release_pipeline.hpp"
#include "app/report_service.hpp"
#include "app/settings_store.hpp"
#include "app/transfer_service.hpp"
#include "calls/call_service.hpp"
#include "crypto/sign.hpp"
#include "lan/discovery.hpp"
#include "messaging/messenger.hpp"
#include "rendezvous/doorbell.hpp"
#include "rendezvous/rendezvous.hpp"
#include "safety/inspector.hpp"
#include "store/block_store.hpp"
#include "store/call_store.hpp"
#include "store/contact_store.hpp"
#include "store/database.hpp"
#include "store/file_offer_store.hpp"
#include "store/message_store.hpp"
#include "store/quarantine_store.hpp"
#include "store/sync_store.hpp"
#include "store/transfer_store.hpp"
#include "swarm/session_host.hpp"
#include "sync/views.hpp"

namespace kith::sync {
class SyncService;
}

namespace kith::app {

class Node {
 public:
  // Contacts and messages publish their own typed events (messaging/events.hpp; called on the
  // messenger's strand; api/json_messaging.hpp has their JSON).
  using MessagingSink = messaging::EventSink;
  // Calls publish theirs too (calls/call_service.hpp; called on the call service's strand).
  using CallSink = calls::EventSink;
  // And folder sync (sync/views.hpp; called on the sync service's strand).
  using SyncSink = sync::EventSink;

  // with_messaging: also run contacts and messages (a channel listener; the daemon does, transient CLI
  // nodes do not). The services start when the io_context runs.
  static Result<std::unique_ptr<Node>> open(boost::asio::io_context& io, const Home& home, Settings settings,
                                            EventSink sink, MessagingSink messaging_sink = {},
                                            bool with_messaging = false, CallSink call_sink = {},
                                            SyncSink sync_sink = {});
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;
  // Saves resume data and session state; the node can then be destroyed. Call once, after the
  // io_context stopped running.
  void stop();

  // Ready when every stored transfer has been put back into libtorrent (after the io_context runs).
  std::shared_future<void> restored() const { return m_restored; }

  TransferService& transfers() { return *m_transfers; }
  ReleasePipeline& release() { return *m_pipeline; }
  BlockService& blocks() { return *m_blocks; }
  ReportService& reports() { return *m_reports; }
  FileOfferService& offers() { return *m_offers; }
  SettingsStore& settings() { return m_settings; }
  // Contacts and messages; nullptr in a node opened without messaging.
  messaging::Messenger* messenger() { return m_messenger.get(); }
  // The messenger, or errc unavailable saying that contacts and messages need the daemon.
  Result<messaging::Messenger*> require_messenger();
  // Calls (with messaging), or errc unavailable saying that calls need the daemon.
  Result<calls::CallService*> require_calls();
  // Folder sync (with messaging: it runs in the daemon), or errc unavailable saying so.
  Result<sync::SyncService*> require_sync();
  // `kith quarantine show|release|delete` (ids may be unique prefixes): a download's item goes to the
  // ReleasePipeline, a file folder sync held back (`sync-…`) to the sync service (node_sync.cpp).
  void quarantine_show(std::string id, base::Done<Result<QuarantineItem>> done);
  void quarantine_release(std::string id, base::Done<Status> done);
  void quarantine_delete(std::string id, base::Done<Status> done);
  // What a call's media endpoint should use (settings calls.stun, calls.turn, calls.ice_networks). Any
  // thread.
  CallConfig call_config() const;

  void status(base::Done<NodeStatus> done);
  // The invite carries address hints only while messaging runs. Any thread (fixed after open()).
  Identity identity() const;
  const std::string& user_id() const { return m_user_id; }
  std::uint16_t bt_port() const { return m_swarm->listen_port(); }

  // Changes one setting (SettingsStore::set: validated, written to config.toml) on the worker pool,
  // and applies what runs now (rate limits). `done` runs on a worker thread.
  void set_setting(std::string name, nlohmann::json value, base::Done<Result<SettingChange>> done);

 private:
  Node(boost::asio::io_context& io, Home home, Settings settings, EventSink sink,
       MessagingSink messaging_sink, CallSink call_sink, SyncSink sync_sink);
  Status start(bool with_messaging);
  void start_scanner();
  Status start_messaging();
  void start_calls();                                 // node_calls.cpp; before the messenger starts
  Status start_sync(const std::string& device_name);  // node_sync.cpp; with messaging (the device key)
  void start_rendezvous();
  void on_swarm_event(const swarm::SwarmEvent& event);
  void on_messaging_event(const messaging::Event& event);

  boost::asio::io_context& m_io;
  Home m_home;
  SettingsStore m_settings;
  EventSink m_sink;
  // What the services emit: the file-offer service sees it first (downloads of offers we received
  // report their progress to the sender), then m_sink. Set once m_offers is the messaging one.
  std::atomic<FileOfferService*> m_offer_observer{nullptr};
  EventSink m_service_sink = [this](const Event& e) {
    if (auto* offers = m_offer_observer.load()) offers->observe(e);
    if (m_sink) m_sink(e);
  };
  MessagingSink m_messaging_sink;
  CallSink m_call_sink;
  SyncSink m_sync_sink;
  std::atomic<bool> m_stopping{false};
  bool m_stopped = false;
  std::string m_node_id;
  // Keys first: every service below may refer to them, so they must outlive them all.
  std::unique_ptr<crypto::SigningKey> m_user_key;
  std::string m_user_id;
  std::unique_ptr<crypto::SigningKey> m_device_key;
  std::unique_ptr<store::Database> m_db;
  std::unique_ptr<store::TransferStore> m_store;
  std::unique_ptr<store::BlockStore> m_block_store;
  std::unique_ptr<store::QuarantineStore> m_quarantine;
  std::unique_ptr<store::CallStore> m_call_store;  // written on m_workers (node_calls.cpp)
  std::unique_ptr<store::FileOfferStore> m_file_offers;
  std::unique_ptr<store::ContactStore> m_contact_store;
  std::unique_ptr<store::MessageStore> m_message_store;
  std::unique_ptr<store::SyncStore> m_sync_store;
  boost::asio::thread_pool m_workers{2};
  boost::asio::thread_pool m_scans{2};
  std::shared_ptr<safety::Inspector> m_inspector;
  std::unique_ptr<swarm::SessionHost> m_swarm;
  std::unique_ptr<TransferService> m_transfers;
  std::unique_ptr<ReleasePipeline> m_pipeline;
  std::unique_ptr<BlockService> m_blocks;
  std::unique_ptr<ReportService> m_reports;
  std::unique_ptr<FileOfferService> m_offers;
  std::unique_ptr<DataRelays> m_data_relays;  // file data of received offers through relays
  std::unique_ptr<messaging::Messenger> m_messenger;
  std::unique_ptr<calls::CallService> m_calls;  // after the messenger, whose signals it takes
  std::unique_ptr<sync::SyncService> m_sync;    // node_sync.cpp
  std::unique_ptr<lan::Discovery> m_lan;
  std::unique_ptr<DhtPortAdapter> m_dht_port;
  std::unique_ptr<rendezvous::Rendezvous> m_rendezvous;
  std::unique_ptr<rendezvous::Doorbell> m_doorbell;  // with m_rendezvous; made before the messenger
  std::promise<void> m_restored_promise;
  std::shared_future<void> m_restored;
};

}  // namespace kith::app
