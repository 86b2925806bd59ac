#include "app/node.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <chrono>
#include <cstdlib>
#include <random>
#include <thread>

#include "app/errors.hpp"
#include "app/transfer_json.hpp"
#include "base/base64.hpp"
#include "base/clock.hpp"
#include "base/fs.hpp"
#include "base/hex.hpp"
#include "identity/kith_id.hpp"
#include "identity/link_signature.hpp"
#include "safety/errors.hpp"
#include "store/migrations.hpp"
#include "swarm/peer_hints.hpp"
#include "swarm/source.hpp"

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

Node::Node(boost::asio::io_context& io, Home home, Settings settings, EventSink sink)
    : m_io(io),
      m_home(std::move(home)),
      m_settings(std::move(settings)),
      m_sink(std::move(sink)),
      m_timer(io) {}

Node::~Node() {
  if (!m_stopped) stop();
}

Result<std::unique_ptr<Node>> Node::open(boost::asio::io_context& io, const Home& home, Settings settings,
                                         EventSink sink, bool with_messaging) {
  std::unique_ptr<Node> node(new Node(io, home, std::move(settings), std::move(sink)));
  if (auto r = node->start(with_messaging); !r) return tl::unexpected(r.error());
  return node;
}

Status Node::start(bool with_messaging) {
  if (auto r = m_home.prepare(); !r) return r;
  auto db = store::Database::open(m_home.state_db(), store::state_migrations());
  if (!db) return tl::unexpected(db.error());
  m_db = std::move(*db);
  m_store = std::make_unique<store::TransferStore>(*m_db);
  m_quarantine = std::make_unique<store::QuarantineStore>(*m_db);
  m_file_offers = std::make_unique<store::FileOfferStore>(*m_db);
  if (auto held = m_quarantine->list("held")) {
    for (const auto& q : *held) m_held.insert(q.id);
  }
  start_scanner();

  // A node id that stays the same across restarts of this home.
  auto id = m_store->get_kv("node_id");
  if (id && *id) {
    m_node_id = std::string((*id)->begin(), (*id)->end());
  } else {
    std::random_device rd;
    std::string raw(16, '\0');
    for (auto& c : raw) c = static_cast<char>(rd());
    m_node_id = base::to_hex(raw);
    (void)m_store->put_kv("node_id", bytes_of(m_node_id));
  }

  // The person's key: signs shared links now, identifies them to contacts later.
  auto key = crypto::SigningKey::load_or_create(m_home.user_key_file());
  if (!key) return tl::unexpected(key.error());
  m_user_key = std::make_unique<crypto::SigningKey>(std::move(*key));
  m_user_id = identity::encode_id(m_user_key->public_key());

  auto options = session_options(m_settings);
  if (auto state = m_store->get_kv("session_state"); state && *state) options.saved_state = **state;
  m_swarm = std::make_unique<swarm::SessionHost>(m_io, options,
                                                 [this](const swarm::SwarmEvent& e) { on_swarm_event(e); });
  // Before any transfer is added: the IP filter and blocked peer IDs apply from the first connection.
  if (auto r = load_blocklist(); !r) return r;

  auto records = m_store->list();
  if (!records) return tl::unexpected(records.error());
  for (auto& rec : *records) {
    swarm::AddOptions add{.resume = rec.resume,
                          .only_glob = rec.only_glob,
                          .sequential = rec.sequential,
                          .paused = rec.paused,
                          .wanted_files = rec.wanted_files.value_or(std::vector<int>{}),
                          .has_wanted_files = rec.wanted_files.has_value()};
    add_ssl_options(rec, add);  // a file sent to or from a contact: its certificate and the sender's address
    Result<swarm::InfoHashes> added = tl::unexpected(Error{});
    if (!rec.resume.empty()) {
      auto hints =
          rec.source.rfind("magnet:", 0) == 0 ? swarm::parse_magnet(rec.source) : Result<swarm::Source>{};
      added = m_swarm->restore(add, hints && hints->data ? &*hints : nullptr);
    } else {
      // Killed before the first resume save: start over from the link (pieces already in staging are
      // found again by libtorrent's check of the files).
      auto src = swarm::parse_link_or_file(rec.source);
      if (src) {
        add.save_path = rec.kind == "get" ? (m_home.staging_dir() / rec.id).string() : rec.destination;
        add.seed_mode = false;
        added = m_swarm->add(*src, add);
      } else {
        added = tl::unexpected(src.error());
      }
    }
    if (!added) {
      spdlog::error("cannot restore transfer {} ({}): {}", rec.id, rec.name, added.error().message);
      continue;
    }
    m_records[rec.id] = std::move(rec);
  }
  if (with_messaging)
    if (auto r = start_messaging(); !r) return r;
  spdlog::info("node {} started: home {}, BitTorrent port {}, {} transfers", m_node_id,
               m_home.root().string(), m_swarm->listen_port(), m_records.size());
  m_timer.expires_after(std::chrono::seconds(1));
  m_timer.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) tick();
  });
  return {};
}

void Node::stop() {
  if (m_stopped) return;
  m_stopped = true;
  // The timer is cancelled on the io thread; if the io_context is already stopped this is harmless.
  boost::asio::post(m_io, [this] { m_timer.cancel(); });
  if (m_lan) m_lan->stop();
  if (m_rendezvous) m_rendezvous->stop();
  if (m_messenger) m_messenger->stop();
  m_workers.join();
  m_swarm->shutdown();  // delivers the final resume data synchronously through on_swarm_event
  (void)m_store->put_kv("session_state", m_swarm->session_state());
  spdlog::info("node stopped, state saved");
}

std::filesystem::path Node::destination_for(const std::string& to) const {
  if (!to.empty()) return std::filesystem::absolute(to).lexically_normal();
  if (const auto dir = setting_string("download.dir"); !dir.empty()) return std::filesystem::absolute(dir);
  if (const char* xdg = std::getenv("XDG_DOWNLOAD_DIR"); xdg && *xdg) return xdg;
  const char* home = std::getenv("HOME");
  return std::filesystem::path(home && *home ? home : ".") / "Downloads";
}

std::uint16_t Node::bt_port() const { return m_swarm->listen_port(); }

std::vector<std::string> Node::peer_hints() const {
  return swarm::peer_hints(setting_string("bt.listen"), m_swarm->listen_port());
}

Settings Node::settings() const {
  std::lock_guard lock(m_settings_mutex);
  return m_settings;
}

nlohmann::json Node::settings_json() const {
  std::lock_guard lock(m_settings_mutex);
  auto out = m_settings.to_json();
  for (auto& item : out) {
    if (auto it = m_pending_settings.find(item["name"]); it != m_pending_settings.end())
      item["pending"] = it->second;
  }
  return out;
}

std::string Node::setting_string(const std::string& name) const {
  std::lock_guard lock(m_settings_mutex);
  return m_settings.get_string(name);
}

std::int64_t Node::setting_int(const std::string& name) const {
  std::lock_guard lock(m_settings_mutex);
  return m_settings.get_int(name);
}

Result<nlohmann::json> Node::set_setting(const std::string& name, const nlohmann::json& value) {
  // Validate against the registry first, on a copy, so a bad value changes nothing.
  Settings next = settings();
  if (auto r = next.set_json(name, value); !r) return tl::unexpected(r.error());
  // Persist into config.toml as the user wrote it: load the file alone (not this run's --set
  // overrides, which must not become permanent), change the one value, write it back.
  Settings file;
  if (auto r = file.load_file(m_home.config_file()); !r) return tl::unexpected(r.error());
  if (auto r = file.set_json(name, value); !r) return tl::unexpected(r.error());
  if (auto r = file.save_file(m_home.config_file()); !r) return tl::unexpected(r.error());
  // Only settings read while the node runs change now; the others would make the node describe
  // itself wrongly (bt.listen in the peer hints, dht.enabled in status) until a restart.
  const bool live = name == "limits.download" || name == "limits.upload" || name == "download.dir" ||
                    name == "resume.interval";
  {
    std::lock_guard lock(m_settings_mutex);
    if (live) {
      // In place, not `m_settings = next`: code on other threads (the safety check on the worker
      // pool) reads other settings without this lock, and changing one existing entry does not
      // touch the map's structure or those entries.
      (void)m_settings.set_json(name, value);
      m_pending_settings.erase(name);
    } else {
      m_pending_settings[name] = value;
    }
  }
  if (name == "limits.download" || name == "limits.upload")
    m_swarm->set_rate_limits(next.get_int("limits.download"), next.get_int("limits.upload"));
  const std::string applied = live ? "live" : "restart";
  spdlog::info("setting {} changed ({})", name, applied == "live" ? "applied now" : "applies at next start");
  auto shown = next.to_json();
  nlohmann::json current;
  for (const auto& item : shown) {
    if (item["name"] == name) current = item["value"];
  }
  return nlohmann::json{{"name", name}, {"value", current}, {"applied", applied}};
}

Result<nlohmann::json> Node::peers(const std::string& id) {
  auto list = m_swarm->peers(id);
  if (!list) return tl::unexpected(list.error());
  auto out = nlohmann::json::array();
  for (const auto& p : *list) {
    out.push_back({{"endpoint", p.endpoint},
                   {"client", p.client},
                   {"peer_id", p.peer_id},
                   {"seed", p.seed},
                   {"incoming", p.incoming},
                   {"connection", p.connection},
                   {"progress", p.progress},
                   {"download_rate", p.download_rate},
                   {"upload_rate", p.upload_rate},
                   {"downloaded", p.downloaded},
                   {"uploaded", p.uploaded}});
  }
  return out;
}

Status Node::select_files(const std::string& id, const std::vector<int>& wanted) {
  auto full = m_swarm->resolve(id);
  if (!full) return tl::unexpected(full.error());
  if (auto r = m_swarm->set_wanted_files(*full, wanted); !r) return r;
  {
    std::lock_guard lock(m_mutex);
    if (auto it = m_records.find(*full); it != m_records.end()) {
      it->second.wanted_files = wanted;
      it->second.only_glob.clear();
    }
  }
  return m_store->set_wanted_files(*full, wanted);
}

Result<nlohmann::json> Node::share(const ShareRequest& request) {
  std::error_code ec;
  auto path = std::filesystem::absolute(request.path, ec).lexically_normal();
  if (!path.has_filename()) path = path.parent_path();
  if (ec || !std::filesystem::exists(path, ec)) {
    return fail(make_error_code(errc::bad_path), request.path + " does not exist");
  }
  auto made = swarm::make_torrent(path, {.format = request.format,
                                         .trackers = request.trackers,
                                         .comment = request.comment,
                                         .root_cert = request.root_cert,
                                         .max_pieces = request.max_pieces});
  if (!made) return tl::unexpected(made.error());
  if (auto r = check_not_blocked(made->source.hashes); !r) return tl::unexpected(r.error());
  const auto id = made->source.hashes.id();
  store::TransferRecord rec{.id = id,
                            .name = made->source.name,
                            .kind = "share",
                            .source = path.string(),
                            .destination = path.parent_path().string(),
                            .released = true,
                            .added_at = base::unix_seconds(),
                            .completed_at = base::unix_seconds()};
  if (request.sign) {
    rec.link_signature =
        identity::signature_params(*m_user_key, made->source.hashes.v1, made->source.hashes.v2);
  }
  bool existing = false;
  {
    std::lock_guard lock(m_mutex);
    existing = m_records.count(id) > 0;
    // Sharing again with --sign signs an existing share.
    if (existing && request.sign) m_records[id].link_signature = rec.link_signature;
  }
  if (existing && request.sign) (void)m_store->put(m_records[id]);
  if (!existing) {
    if (auto r = m_store->put(rec); !r) return tl::unexpected(r.error());
    {
      std::lock_guard lock(m_mutex);
      m_records[id] = rec;
    }
    auto added = m_swarm->add(made->source, {.save_path = rec.destination,
                                             .seed_mode = true,
                                             .ssl_cert = request.ssl_cert,
                                             .ssl_key = request.ssl_key});
    if (!added) {
      (void)forget(id);
      return tl::unexpected(added.error());
    }
  }
  auto shown = show(id);
  if (!shown) return shown;
  (*shown)["torrent"] = base::base64_encode(made->bytes);
  if (!existing) publish("transfer.added", {{"id", id}, {"name", rec.name}, {"kind", "share"}});
  return shown;
}

Result<nlohmann::json> Node::get(const GetRequest& request) {
  auto src = request.torrent_bytes.empty() ? swarm::parse_link_or_file(request.link)
                                           : swarm::parse_torrent(request.torrent_bytes);
  if (!src) return tl::unexpected(src.error());
  if (auto r = check_not_blocked(src->hashes); !r) return tl::unexpected(r.error());
  const auto id = src->hashes.id();
  auto signature = check_publisher(request.link, *src);
  if (!signature) return tl::unexpected(signature.error());
  // Asking again for something the node already has is not an error: show where it is.
  bool existing;
  {
    std::lock_guard lock(m_mutex);
    existing = m_records.count(id) > 0;
  }
  if (existing) {
    auto shown = show(id);
    if (shown) (*shown)["existing"] = true;  // the API answers 200 instead of 201 (docs/api.md)
    return shown;
  }
  auto destination = destination_for(request.to);
  // What the transfer came from, for `show` and as a fallback to restore from. Restores normally use
  // the resume data (saved right after the add, metadata included), not this.
  std::string source = !request.source_label.empty() ? request.source_label
                       : request.link.empty()        ? std::string("(torrent from API)")
                                                     : request.link;
  store::TransferRecord rec{.id = id,
                            .name = src->name.empty() ? id : src->name,
                            .kind = "get",
                            .source = source,
                            .destination = destination.string(),
                            .only_glob = request.only_glob,
                            .sequential = request.sequential,
                            .added_at = base::unix_seconds(),
                            .link_signature = *signature};
  auto staging = m_home.staging_dir() / id;
  if (auto r = base::ensure_dir(staging, 0700); !r) return tl::unexpected(r.error());
  // The record goes first, so that the resume data libtorrent sends right after the add finds it.
  if (auto r = m_store->put(rec); !r) return tl::unexpected(r.error());
  {
    std::lock_guard lock(m_mutex);
    m_records[id] = rec;
  }
  auto added = m_swarm->add(*src, {.save_path = staging.string(),
                                   .only_glob = request.only_glob,
                                   .sequential = request.sequential,
                                   .peers = request.peers,
                                   .ssl_cert = request.ssl_cert,
                                   .ssl_key = request.ssl_key});
  if (!added) {
    (void)forget(id);
    std::error_code ec;
    std::filesystem::remove_all(staging, ec);
    return tl::unexpected(added.error());
  }
  publish("transfer.added", {{"id", id}, {"name", rec.name}, {"kind", "get"}});
  return show(id);
}

Result<std::string> Node::check_publisher(const std::string& link, const swarm::Source& src) const {
  if (link.rfind("magnet:", 0) != 0) return std::string();  // .torrent files carry no signature
  auto sig = identity::parse_link_signature(link);
  if (!sig) return tl::unexpected(Error{swarm::make_error_code(swarm::errc::bad_link), sig.error().message});
  if (!*sig) {
    if (m_settings.get_bool("safety.require_signed")) {
      return fail(swarm::make_error_code(swarm::errc::bad_link),
                  "refused: the link has no publisher signature and safety.require_signed is on");
    }
    return std::string();
  }
  if (!identity::verify_link_signature(**sig, src.hashes.v1, src.hashes.v2)) {
    return fail(swarm::make_error_code(swarm::errc::bad_link),
                "the link's publisher signature (key " + (*sig)->signer +
                    ") does not match its content: the link was altered; do not trust it");
  }
  // Kept exactly as verified, so the magnet this node hands on stays signed.
  const auto& raw = (*sig)->signature;
  return "&x.kith.pk=" + (*sig)->signer + "&x.kith.sig=" +
         base::to_hex(std::string_view(reinterpret_cast<const char*>(raw.data()), raw.size()));
}

nlohmann::json Node::publisher_json(const std::string& link_signature) const {
  auto sig = identity::parse_link_signature("magnet:?" + link_signature);
  if (!sig || !*sig) return {{"signed", false}};
  return {{"signed", true}, {"id", (*sig)->signer}, {"you", (*sig)->signer == m_user_id}};
}

nlohmann::json Node::transfer_json(const swarm::TransferStatus& st, bool detailed) {
  store::TransferRecord rec;
  ReleaseState release;
  {
    std::lock_guard lock(m_mutex);
    if (auto it = m_records.find(st.id); it != m_records.end()) rec = it->second;
    if (auto it = m_release_errors.find(st.id); it != m_release_errors.end()) release.error = it->second;
    release.scanning = m_scanning.count(st.id) > 0;
    if (auto it = m_scan_progress.find(st.id); it != m_scan_progress.end()) release.scan = it->second;
    release.moving = m_moving.count(st.id) > 0;
    release.quarantined = m_held.count(st.id) > 0;
  }
  auto j = to_json(st, rec, release);
  j["publisher"] = publisher_json(rec.link_signature);
  if (detailed) {
    if (auto files = m_swarm->files(st.id)) j["files"] = to_json(*files);
    if (auto link = m_swarm->magnet(st.id, peer_hints())) j["magnet"] = *link + rec.link_signature;
  }
  return j;
}

nlohmann::json Node::list() {
  auto out = nlohmann::json::array();
  for (const auto& st : m_swarm->list()) out.push_back(transfer_json(st, false));
  return out;
}

Result<nlohmann::json> Node::show(const std::string& id) {
  auto st = m_swarm->status(id);
  if (!st) return tl::unexpected(st.error());
  return transfer_json(*st, true);
}

Result<std::string> Node::torrent_file(const std::string& id) {
  auto full = m_swarm->resolve(id);
  if (!full) return tl::unexpected(full.error());
  return m_swarm->torrent_file(*full);
}

Status Node::pause(const std::string& id) {
  auto full = m_swarm->resolve(id);
  if (!full) return tl::unexpected(full.error());
  if (auto r = m_swarm->pause(*full); !r) return r;
  {
    std::lock_guard lock(m_mutex);
    m_records[*full].paused = true;
  }
  return m_store->set_paused(*full, true);
}

Status Node::resume(const std::string& id) {
  auto full = m_swarm->resolve(id);
  if (!full) return tl::unexpected(full.error());
  {
    // Resuming would seed what the safety check held back.
    std::lock_guard lock(m_mutex);
    if (m_held.count(*full)) {
      return fail(safety::make_error_code(safety::errc::quarantined),
                  full->substr(0, 8) + " is in quarantine; `kith quarantine release " + full->substr(0, 8) +
                      "` releases it (and seeds it again), `kith quarantine delete` deletes it");
    }
  }
  if (auto r = m_swarm->resume(*full); !r) return r;
  {
    std::lock_guard lock(m_mutex);
    m_records[*full].paused = false;
    m_release_errors.erase(*full);  // a failed release is tried again by the next tick
  }
  return m_store->set_paused(*full, false);
}

Status Node::forget(const std::string& id) {
  {
    std::lock_guard lock(m_mutex);
    m_records.erase(id);
    m_scanning.erase(id);
    m_scan_progress.erase(id);
    m_moving.erase(id);
    m_release_errors.erase(id);
    m_last_state.erase(id);
  }
  return m_store->remove(id);
}

Status Node::remove(const std::string& id, bool delete_data) {
  auto full = m_swarm->resolve(id);
  if (!full) return tl::unexpected(full.error());
  store::TransferRecord rec;
  {
    std::lock_guard lock(m_mutex);
    rec = m_records[*full];
  }
  // Data still in staging or quarantine was never released to the user: it always goes with the
  // transfer.
  bool unreleased = rec.kind == "get" && !rec.released;
  if (auto r = m_swarm->remove(*full, delete_data || unreleased); !r) return r;
  if (unreleased) {
    // libtorrent deletes the files on its disk thread while this takes the folders around them; the
    // two race (remove_all stops at a file that vanished under it), so try a few times.
    for (const auto& dir : {m_home.staging_dir() / *full, m_home.quarantine_dir() / *full}) {
      std::error_code ec;
      for (int i = 0; i < 50 && std::filesystem::exists(dir, ec); ++i) {
        std::filesystem::remove_all(dir, ec);
        if (ec) std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
  }
  bool was_held;
  {
    std::lock_guard lock(m_mutex);
    was_held = m_held.erase(*full) > 0;
  }
  if (was_held) {
    (void)m_quarantine->resolve(*full, "deleted", base::unix_seconds());
    publish("quarantine.deleted", {{"id", *full}});
  }
  if (auto r = forget(*full); !r) return r;
  publish("transfer.removed", {{"id", *full}});
  return {};
}

nlohmann::json Node::status() {
  auto s = m_swarm->stats();
  const Settings current = settings();
  std::size_t count = 0, held = 0;
  nlohmann::json blocklist{{"blocked_info_hashes", 0},
                           {"blocked_peer_ids", 0},
                           {"refused_by_ip_filter", s.refused_by_ip_filter},
                           {"refused_by_peer_id", s.refused_by_peer_id}};
  {
    std::lock_guard lock(m_mutex);
    count = m_records.size();
    held = m_held.size();
    for (const auto& [key, e] : m_blocked) {
      auto& n = blocklist[e.kind == "info_hash" ? "blocked_info_hashes" : "blocked_peer_ids"];
      n = n.get<int>() + 1;
    }
    blocklist["ip_filter_ranges"] = m_ip_filter_summary.value("ranges", 0);
  }
  return {
      {"node_id", m_node_id},
      {"user_id", m_user_id},
      {"version", KITH_VERSION},
      {"home", m_home.root().string()},
      {"bt_port", s.listen_port},
      {"ssl_port", m_swarm->ssl_listen_port()},
      {"peer_hints", peer_hints()},
      {"dht",
       {{"enabled", current.get_bool("dht.enabled")}, {"running", s.dht_running}, {"nodes", s.dht_nodes}}},
      {"lsd", current.get_bool("lsd.enabled")},
      {"download_rate", s.download_rate},
      {"upload_rate", s.upload_rate},
      {"limits",
       {{"download", current.get_int("limits.download")}, {"upload", current.get_int("limits.upload")}}},
      {"transfers", count},
      {"safety", m_inspector->state()},
      {"quarantined", held},
      {"blocklist", blocklist},
      {"messaging", m_messenger ? m_messenger->status() : nlohmann::json(nullptr)},
      {"rendezvous", rendezvous_status()}};
}

void Node::publish(const std::string& type, const nlohmann::json& data) {
  if (m_sink) m_sink(type, data);
}

void Node::on_swarm_event(const swarm::SwarmEvent& e) {
  using K = swarm::SwarmEvent::Kind;
  switch (e.kind) {
    case K::resume_data: {
      bool known;
      {
        std::lock_guard lock(m_mutex);
        known = m_records.count(e.id) > 0;
        if (known) m_records[e.id].resume = e.resume;
      }
      if (known) {
        if (auto r = m_store->save_resume(e.id, e.resume); !r)
          spdlog::error("saving resume data: {}", r.error().message);
      }
      break;
    }
    case K::metadata_received: {
      auto st = m_swarm->status(e.id);
      // A magnet with only one hash learns the other (hybrid torrents) with the metadata.
      if (st && !check_not_blocked(st->hashes)) {
        spdlog::warn("{}: its other info-hash is on the block list; removing the transfer", e.id);
        boost::asio::post(m_io, [this, id = e.id] { (void)remove(id, false); });
        break;
      }
      if (st) {
        std::lock_guard lock(m_mutex);
        if (auto it = m_records.find(e.id); it != m_records.end()) {
          it->second.name = st->name;
          (void)m_store->put(it->second);
        }
      }
      publish("transfer.metadata", {{"id", e.id}, {"name", st ? st->name : ""}});
      break;
    }
    case K::finished:
      maybe_release(e.id);
      break;
    case K::storage_moved:
      on_storage_moved(e.id, e.path);
      break;
    case K::storage_move_failed:
      on_storage_move_failed(e.id, e.message);
      break;
    case K::error:
      spdlog::error("{}: {}", e.id, e.message);
      publish("transfer.error", {{"id", e.id}, {"message", e.message}, {"disk_full", e.disk_full}});
      break;
    case K::removed:
      break;
    case K::file_completed:  // the release pipeline (issue 10) scans each file as it completes
      break;
  }
}

void Node::tick() {
  ++m_ticks;
  // Progress for everything that is moving; state changes always.
  for (const auto& st : m_swarm->list()) {
    auto j = transfer_json(st, false);
    const std::string state = j["state"];  // kith's state: includes releasing, held, completed
    bool changed;
    {
      std::lock_guard lock(m_mutex);
      auto& last = m_last_state[st.id];
      changed = last != state;
      last = state;
    }
    if (changed) publish("transfer.state", {{"id", st.id}, {"state", state}});
    if (st.state == "downloading" || st.state == "checking" || st.state == "metadata" ||
        state == "scanning" || st.download_rate > 0 || st.upload_rate > 0) {
      publish("transfer.progress", j);
    }
    if (st.state == "finished" || st.state == "seeding") maybe_release(st.id);
  }
  auto interval = std::max<std::int64_t>(1, setting_int("resume.interval"));
  if (m_ticks % interval == 0) {
    m_swarm->request_resume_data();
    (void)m_store->put_kv("session_state", m_swarm->session_state());
  }
  if (m_ticks % 15 == 0) m_swarm->retry_disk_full();
  if (m_stopped) return;
  m_timer.expires_after(std::chrono::seconds(1));
  m_timer.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) tick();
  });
}

}  // namespace kith::app
