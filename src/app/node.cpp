#include "app/node.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <random>

#include "base/hex.hpp"
#include "identity/kith_id.hpp"
#include "store/migrations.hpp"
#include "swarm/peer_hints.hpp"
#include "sync/sync_service.hpp"

namespace kith::app {
namespace {

swarm::SessionOptions session_options(const Settings& s) {
  swarm::SessionOptions o;
  o.listen = s.get_string("bt.listen");
  o.ssl_listen = s.get_string("bt.ssl_listen");
  o.dht = s.get_bool("dht.enabled");
  o.dht_bootstrap = s.get_string("dht.bootstrap");
  o.dht_private = s.get_bool("dht.private_network");
  o.lsd = s.get_bool("lsd.enabled");
  o.upnp = s.get_bool("nat.upnp");
  o.natpmp = s.get_bool("nat.natpmp");
  o.download_limit = static_cast<int>(s.get_int("limits.download"));
  o.upload_limit = static_cast<int>(s.get_int("limits.upload"));
  o.limit_lan = s.get_bool("limits.lan");
  o.disk_io = s.get_string("disk.io");
  o.debug_alerts = s.get_string("log.level") == "debug" || s.get_string("log.level") == "trace";
  return o;
}

std::vector<std::uint8_t> bytes_of(const std::string& s) { return {s.begin(), s.end()}; }

}  // namespace

Node::Node(boost::asio::io_context& io, Home home, Settings settings, EventSink sink,
           MessagingSink messaging_sink, CallSink call_sink, SyncSink sync_sink)
    : m_io(io),
      m_home(home),
      m_settings(std::move(home), std::move(settings)),
      m_sink(std::move(sink)),
      m_messaging_sink(std::move(messaging_sink)),
      m_call_sink(std::move(call_sink)),
      m_sync_sink(std::move(sync_sink)),
      m_restored(m_restored_promise.get_future().share()) {}

Node::~Node() {
  if (!m_stopped) stop();
}

Result<std::unique_ptr<Node>> Node::open(boost::asio::io_context& io, const Home& home, Settings settings,
                                         EventSink sink, MessagingSink messaging_sink, bool with_messaging,
                                         CallSink call_sink, SyncSink sync_sink) {
  std::unique_ptr<Node> node(new Node(io, home, std::move(settings), std::move(sink),
                                      std::move(messaging_sink), std::move(call_sink), std::move(sync_sink)));
  if (auto r = node->start(with_messaging); !r) {
    node->m_stopped = true;  // nothing of it ran: nothing to save
    return tl::unexpected(r.error());
  }
  return node;
}

Status Node::start(bool with_messaging) {
  if (auto r = m_home.prepare(); !r) return r;
  auto db = store::Database::open(m_home.state_db(), store::state_migrations());
  if (!db) return tl::unexpected(db.error());
  m_db = std::move(*db);
  m_store = std::make_unique<store::TransferStore>(*m_db);
  m_block_store = std::make_unique<store::BlockStore>(*m_db);
  m_quarantine = std::make_unique<store::QuarantineStore>(*m_db);
  m_file_offers = std::make_unique<store::FileOfferStore>(*m_db);
  const auto settings = m_settings.current();

  // A node id that stays the same across restarts of this home.
  auto id = m_store->get_kv("node_id");
  if (!id) return tl::unexpected(id.error());
  if (*id) {
    m_node_id = std::string((*id)->begin(), (*id)->end());
  } else {
    std::random_device rd;
    std::string raw(16, '\0');
    for (auto& c : raw) c = static_cast<char>(rd());
    m_node_id = base::to_hex(raw);
    if (auto r = m_store->put_kv("node_id", bytes_of(m_node_id)); !r) return r;
  }

  // The person's key: signs shared links, identifies them to contacts.
  auto key = crypto::SigningKey::load_or_create(m_home.user_key_file());
  if (!key) return tl::unexpected(key.error());
  m_user_key = std::make_unique<crypto::SigningKey>(std::move(*key));
  m_user_id = identity::encode_id(m_user_key->public_key());

  start_scanner();

  auto options = session_options(*settings);
  if (auto state = m_store->get_kv("session_state"); state && *state) options.saved_state = **state;
  m_swarm = std::make_unique<swarm::SessionHost>(m_io, options,
                                                 [this](const swarm::SwarmEvent& e) { on_swarm_event(e); });

  m_transfers = std::make_unique<TransferService>(TransferService::Deps{
      .io = m_io,
      .workers = m_workers,
      .home = m_home,
      .settings = m_settings,
      .swarm = *m_swarm,
      .store = *m_store,
      .offers = *m_file_offers,
      .user_key = *m_user_key,
      .user_id = m_user_id,
      .sink = m_service_sink,
      .check_allowed = [this](const swarm::InfoHashes& h) { return m_blocks->check(h); }});
  m_pipeline = std::make_unique<ReleasePipeline>(ReleasePipeline::Deps{.io = m_io,
                                                                       .scan_pool = m_scans,
                                                                       .workers = m_workers,
                                                                       .home = m_home,
                                                                       .inspector = m_inspector,
                                                                       .swarm = *m_swarm,
                                                                       .transfers = *m_transfers,
                                                                       .markers = *m_store,
                                                                       .quarantine = *m_quarantine,
                                                                       .sink = m_service_sink});
  m_blocks = std::make_unique<BlockService>(BlockService::Deps{.io = m_io,
                                                               .workers = m_workers,
                                                               .settings = m_settings,
                                                               .swarm = *m_swarm,
                                                               .store = *m_block_store,
                                                               .transfers = *m_transfers,
                                                               .sink = m_service_sink});
  m_reports = std::make_unique<ReportService>(ReportService::Deps{.workers = m_workers,
                                                                  .home = m_home,
                                                                  .settings = m_settings,
                                                                  .swarm = *m_swarm,
                                                                  .transfers = *m_transfers,
                                                                  .pipeline = *m_pipeline,
                                                                  .node_id = m_node_id,
                                                                  .sink = m_service_sink});
  m_offers = std::make_unique<FileOfferService>(FileOfferService::Deps{.transfers = *m_transfers,
                                                                       .swarm = *m_swarm,
                                                                       .store = *m_file_offers,
                                                                       .settings = m_settings,
                                                                       .sink = m_sink});
  m_transfers->set_pipeline(m_pipeline.get());

  // Before any transfer is added: the IP filter and blocked peer IDs apply from the first connection.
  if (auto r = m_blocks->start(); !r) return r;
  if (auto r = m_pipeline->start(); !r) return r;
  m_transfers->start([this](Status r) {
    if (!r) spdlog::error("restoring transfers: {}", r.error().message);
    m_restored_promise.set_value();
  });
  if (with_messaging)
    if (auto r = start_messaging(); !r) return r;
  spdlog::info("node {} started: home {}, BitTorrent port {}", m_node_id, m_home.root().string(),
               m_swarm->listen_port());
  return {};
}

void Node::start_scanner() {
  const auto settings = m_settings.current();
  m_inspector = std::make_shared<safety::Inspector>(
      safety::InspectorOptions{.hold_runnable = settings->get_bool("safety.hold_runnable")});
  safety::ScannerOptions options;
  if (settings->get_bool("safety.system_signatures"))
    options.databases.push_back(safety::system_database_dir());
  for (const auto& p : settings->get_list("safety.signatures")) options.databases.emplace_back(p);
  const auto limit = static_cast<std::uint64_t>(settings->get_int("safety.scan_limit")) << 20;
  options.max_file_size = options.max_scan_size = limit;
  // Loading the official databases takes seconds: off the io threads. Scans wait for it.
  boost::asio::post(m_scans, [inspector = m_inspector, options] {
    auto scanner = safety::Scanner::open(options);
    if (!scanner) {
      spdlog::warn("safety: {}. Until then every download stays in quarantine (`kith quarantine release`).",
                   scanner.error().message);
      inspector->set_scanner(nullptr, scanner.error().message);
      return;
    }
    std::string sources;
    for (const auto& s : (*scanner)->sources()) sources += (sources.empty() ? "" : ", ") + s;
    spdlog::info("safety: ClamAV ready with {} signatures: {}", (*scanner)->signature_count(), sources);
    inspector->set_scanner(std::shared_ptr<const safety::Scanner>(std::move(*scanner)), "");
  });
}

void Node::on_swarm_event(const swarm::SwarmEvent& e) {
  // On the session host's strand (or, during stop(), the stopping thread): only hand on.
  if (m_stopping) {
    // Nothing runs on the strands any more: the final resume data goes straight to the database.
    if (e.kind == swarm::SwarmEvent::Kind::resume_data)
      if (auto r = m_store->save_resume(e.id, e.resume); !r)
        spdlog::error("{}: saving resume data: {}", e.id, r.error().message);
    return;
  }
  using K = swarm::SwarmEvent::Kind;
  if (e.kind == K::port_mapped) {
    if (m_messenger) m_messenger->set_router_address(e.path);
    return;
  }
  m_transfers->on_swarm_event(e);
  if (e.kind == K::status_updates || e.kind == K::finished || e.kind == K::metadata_received)
    m_pipeline->on_swarm_event(e);
}

void Node::stop() {
  if (m_stopped) return;
  m_stopped = true;
  m_offer_observer = nullptr;
  if (m_transfers) m_transfers->stop();  // cancels hashing (checked after each piece)
  if (m_pipeline) m_pipeline->stop();
  if (m_lan) m_lan->stop();
  if (m_rendezvous) m_rendezvous->stop();
  if (m_doorbell) m_doorbell->stop();
  if (m_messenger) m_messenger->stop();
  if (m_calls) m_calls->stop();
  if (m_sync) m_sync->stop();
  m_stopping = true;
  m_workers.join();
  m_scans.join();
  if (m_swarm) {
    m_swarm->shutdown();  // delivers the final resume data synchronously through on_swarm_event
    if (auto r = m_store->put_kv("session_state", m_swarm->session_state()); !r)
      spdlog::error("saving the session state: {}", r.error().message);
  }
  spdlog::info("node stopped, state saved");
}

void Node::set_setting(std::string name, nlohmann::json value, base::Done<Result<SettingChange>> done) {
  boost::asio::post(
      m_workers, [this, name = std::move(name), value = std::move(value), done = std::move(done)] {
        auto change = m_settings.set(name, value);
        if (change && change->live && (name == "limits.download" || name == "limits.upload")) {
          const auto now = m_settings.current();
          m_swarm->set_rate_limits(now->get_int("limits.download"), now->get_int("limits.upload"));
        }
        done(std::move(change));
      });
}

void Node::status(base::Done<NodeStatus> done) {
  NodeStatus s;
  const auto settings = m_settings.current();
  s.node_id = m_node_id;
  s.user_id = m_user_id;
  s.version = KITH_VERSION;
  s.home = m_home.root().string();
  s.bt_port = m_swarm->listen_port();
  s.ssl_port = m_swarm->ssl_listen_port();
  s.peer_hints = m_transfers->peer_hints();
  s.dht_enabled = settings->get_bool("dht.enabled");
  s.session = m_swarm->stats();
  s.lsd = settings->get_bool("lsd.enabled");
  s.limit_download = settings->get_int("limits.download");
  s.limit_upload = settings->get_int("limits.upload");
  s.safety = m_inspector->state();
  if (m_messenger) s.messaging = m_messenger->status_snapshot();
  // The rest is owned by services on their strands: ask each in turn.
  auto shared = std::make_shared<NodeStatus>(std::move(s));
  m_transfers->totals([this, shared, done = std::move(done)](TransferTotals t) mutable {
    shared->transfers = t.transfers;
    shared->download_rate = t.download_rate;
    shared->upload_rate = t.upload_rate;
    m_blocks->counts([this, shared, done = std::move(done)](BlockCounts c) mutable {
      shared->blocked_info_hashes = c.info_hashes;
      shared->blocked_peer_ids = c.peer_ids;
      shared->ip_filter_ranges = c.ip_filter_ranges;
      m_pipeline->quarantine_list(false, [this, shared, done = std::move(done)](
                                             Result<std::vector<QuarantineItem>> held) mutable {
        shared->quarantined = held ? held->size() : 0;
        if (!m_rendezvous) return done(std::move(*shared));
        m_rendezvous->stats([this, shared, done = std::move(done)](rendezvous::Rendezvous::Stats r) mutable {
          shared->rendezvous = RendezvousStats{r.puts_ok, r.puts_failed, r.lookups, r.found};
          m_doorbell->stats([shared, done = std::move(done)](rendezvous::Doorbell::Stats d) {
            shared->rendezvous->rings = d.rings;
            shared->rendezvous->bell_polls = d.polls;
            shared->rendezvous->bell_heard = d.heard;
            shared->rendezvous->bell_answers = d.answers;
            done(std::move(*shared));
          });
        });
      });
    });
  });
}

}  // namespace kith::app
