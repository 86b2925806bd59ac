#include "swarm/session_host.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <cerrno>
#include <climits>
#include <filesystem>
#include <libtorrent/alert_types.hpp>
#include <libtorrent/bencode.hpp>
#include <libtorrent/create_torrent.hpp>
#include <libtorrent/error_code.hpp>
#include <libtorrent/ip_filter.hpp>
#include <libtorrent/magnet_uri.hpp>
#include <libtorrent/peer_info.hpp>
#include <libtorrent/posix_disk_io.hpp>
#include <libtorrent/read_resume_data.hpp>
#include <libtorrent/session.hpp>
#include <libtorrent/session_params.hpp>
#include <libtorrent/torrent_info.hpp>
#include <libtorrent/write_resume_data.hpp>
#include <optional>

#include "base/endpoint.hpp"
#include "swarm/detail/intake_limits.hpp"
#include "swarm/detail/peer_id_filter.hpp"
#include "swarm/detail/piece_gates.hpp"
#include "swarm/detail/selection.hpp"
#include "swarm/detail/settings.hpp"
#include "swarm/detail/source_data.hpp"
#include "swarm/detail/source_recorder.hpp"
#include "swarm/detail/status.hpp"
#include "swarm/selection.hpp"

namespace kith::swarm {
namespace {

std::string id_of(const lt::torrent_handle& h) { return detail::to_hashes(h.info_hashes()).id(); }

std::vector<std::uint8_t> to_bytes(const std::vector<char>& v) { return {v.begin(), v.end()}; }

// ENOSPC from pwrite; with memory-mapped I/O a full disk shows up as SIGBUS, which libtorrent reports
// as EFAULT ("Bad address"), so for that one look at the free space itself.
bool is_disk_full(const lt::error_code& ec, const std::string& file) {
  if (ec.value() == ENOSPC) return true;
  if (ec.value() != EFAULT || file.empty()) return false;
  std::error_code fs_ec;
  auto space = std::filesystem::space(std::filesystem::path(file).parent_path(), fs_ec);
  return !fs_ec && space.available < (1u << 20);
}

// Diffie-Hellman parameters set_ssl_certificate_buffer() wants with a certificate (used only if TLS
// falls back to a DHE cipher): RFC 7919's ffdhe2048, a published group, so nothing secret and no
// seconds spent generating one.
constexpr std::string_view DH_PARAMS =
    "-----BEGIN DH PARAMETERS-----\n"
    "MIIBCAKCAQEA//////////+t+FRYortKmq/cViAnPTzx2LnFg84tNpWp4TZBFGQz\n"
    "+8yTnc4kmz75fS/jY2MMddj2gbICrsRhetPfHtXV/WVhJDP1H18GbtCFY2VVPe0a\n"
    "87VXE15/V8k1mE8McODmi3fipona8+/och3xWKE2rec1MKzKT0g6eXq8CrGCsyT7\n"
    "YdEIqUuyyOP7uWrat2DX9GgdT0Kj3jlN9K5W7edjcrsZCwenyO4KbXCeAvzhzffi\n"
    "7MA0BM0oNC9hkXL+nOmFg/+OTxIy7vKBg8P+OxtMb61zO7X8vC7CIAXFjvGDfRaD\n"
    "ssbzSibBsu/6iGtCOGEoXJf//////////wIBAg==\n"
    "-----END DH PARAMETERS-----\n";

}  // namespace

SessionHost::SessionHost(boost::asio::io_context& io, const SessionOptions& options, EventHandler on_event)
    : m_io(io),
      m_strand(boost::asio::make_strand(io)),
      m_on_event(std::move(on_event)),
      m_alive(std::make_shared<std::atomic<bool>>(true)),
      m_peer_filter(std::make_shared<detail::PeerIdFilter>()),
      m_recorder(std::make_shared<detail::SourceRecorder>()),
      m_gates(std::make_shared<detail::PieceGates>()),
      m_dht_grace_ms(options.dht_grace_ms),
      m_dht_timeout_ms(options.dht_timeout_ms) {
  lt::session_params params;
  if (!options.saved_state.empty()) {
    auto state = std::string(options.saved_state.begin(), options.saved_state.end());
    try {
      params = lt::read_session_params({state.data(), static_cast<long>(state.size())},
                                       lt::session_handle::save_dht_state);
    } catch (const std::exception& e) {
      // Only remembered DHT nodes live there: starting without them is fine.
      spdlog::warn("ignoring unreadable saved session state: {}", e.what());
    }
  }
  params.settings = detail::make_settings(options);
  if (options.disk_io == "posix") params.disk_io_constructor = lt::posix_disk_io_constructor;
  // session_params() already holds libtorrent's default plugins: ut_metadata, ut_pex and smart_ban.
  // Smart-ban is what makes the hash-fail ban exact: it remembers which peer sent each block of a
  // piece that failed and bans the one whose block differs once the piece passes (parole mode, on in
  // detail/settings.cpp, only narrows it down). Ours goes in before the session starts, so that every
  // torrent gets it: the peer-ID filter of the block list.
  params.extensions.push_back(m_peer_filter);
  params.extensions.push_back(m_recorder);  // sources(): who sent payload, instead of block alerts
  m_session = std::make_unique<lt::session>(std::move(params));
  if (options.limit_lan) {
    // By default libtorrent puts LAN and loopback peers in a peer class without rate limits; put
    // every address in the global class instead, so the limits apply to everyone.
    lt::ip_filter classes;
    auto global = 1u << static_cast<std::uint32_t>(lt::session::global_peer_class_id);
    classes.add_rule(lt::make_address("0.0.0.0"), lt::make_address("255.255.255.255"), global);
    classes.add_rule(lt::make_address("::"), lt::make_address("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
                     global);
    m_session->set_peer_class_filter(classes);
  }
  if (options.dht_private) add_private_dht_nodes(options.dht_bootstrap);
  // The notify callback runs on a libtorrent thread and must not block: it only posts.
  std::weak_ptr<std::atomic<bool>> alive = m_alive;
  m_session->set_alert_notify([this, alive] {
    if (alive.lock())
      boost::asio::post(m_strand, [this, alive] {
        if (alive.lock()) on_alerts();  // which looks at *m_alive under m_alert_mutex
      });
  });
}

SessionHost::~SessionHost() {
  if (*m_alive) shutdown();
  m_session->set_alert_notify([] {});
  m_session.reset();  // blocks until libtorrent's threads stop
}

void SessionHost::post_updates() { m_session->post_torrent_updates(); }

void SessionHost::apply_file_selection(const lt::torrent_handle& h, const std::string& glob) {
  auto ti = h.torrent_file();
  if (!ti) return;
  h.prioritize_files(detail::glob_priorities(ti->files(), glob));
}

Status SessionHost::apply_wanted_files(const lt::torrent_handle& h, const std::vector<int>& wanted) {
  auto ti = h.torrent_file();
  if (!ti) return fail(make_error_code(errc::session_error), "the transfer's file list is not known yet");
  const auto& files = ti->files();
  std::vector<lt::download_priority_t> prio(static_cast<std::size_t>(files.num_files()), lt::dont_download);
  for (int index : wanted) {
    if (index < 0 || index >= files.num_files() || files.pad_file_at(lt::file_index_t{index})) {
      return fail(base::errc::bad_input,
                  "file index " + std::to_string(index) + " is not a file of this transfer");
    }
    prio[static_cast<std::size_t>(index)] = lt::default_priority;
  }
  h.prioritize_files(prio);
  bool whole;
  {
    std::lock_guard lock(m_mutex);
    whole = m_whole_pieces.count(id_of(h)) > 0;
  }
  if (whole) apply_whole_pieces(h);
  return {};
}

void SessionHost::apply_whole_pieces(const lt::torrent_handle& h) {
  auto ti = h.torrent_file();
  if (!ti) return;
  const auto& fs = ti->files();
  auto files = h.get_file_priorities();
  std::vector<lt::download_priority_t> pieces(static_cast<std::size_t>(fs.num_pieces()),
                                              lt::default_priority);
  for (auto f : fs.file_range()) {
    auto idx = static_cast<std::size_t>(static_cast<int>(f));
    if (fs.pad_file_at(f) || fs.file_size(f) == 0 || idx >= files.size() || files[idx] != lt::dont_download)
      continue;
    // Every piece this unwanted file touches, also the ones it shares with wanted files.
    auto first = fs.map_file(f, 0, 1).piece;
    auto last = fs.map_file(f, fs.file_size(f) - 1, 1).piece;
    for (auto p = first; p <= last; ++p)
      pieces[static_cast<std::size_t>(static_cast<int>(p))] = lt::dont_download;
  }
  h.prioritize_pieces(pieces);
}

Status SessionHost::set_wanted_files(const std::string& id, const std::vector<int>& wanted) {
  auto h = handle(id);
  if (!h) return tl::unexpected(h.error());
  if (auto r = apply_wanted_files(*h, wanted); !r) return r;
  {
    std::lock_guard lock(m_mutex);
    m_globs.erase(id_of(*h));  // the explicit choice replaces the glob
    m_unselected.erase(id_of(*h));
    m_wanted[id_of(*h)] = wanted;
  }
  h->save_resume_data(lt::torrent_handle::save_info_dict);
  return {};
}

void SessionHost::set_rate_limits(std::int64_t download, std::int64_t upload) {
  lt::settings_pack pack;
  auto clamp = [](std::int64_t v) { return static_cast<int>(std::min<std::int64_t>(v, INT32_MAX)); };
  pack.set_int(lt::settings_pack::download_rate_limit, clamp(download));
  pack.set_int(lt::settings_pack::upload_rate_limit, clamp(upload));
  m_session->apply_settings(std::move(pack));
}

Result<std::string> SessionHost::resolve(const std::string& prefix) const {
  std::lock_guard lock(m_mutex);
  if (prefix.empty()) return fail(make_error_code(errc::unknown_transfer), "empty transfer id");
  std::string found;
  for (const auto& [id, h] : m_handles) {
    if (id.rfind(prefix, 0) == 0) {
      if (!found.empty()) {
        return fail(make_error_code(errc::ambiguous_id),
                    "id '" + prefix + "' matches several transfers; give more digits");
      }
      found = id;
    }
  }
  if (found.empty()) {
    return fail(make_error_code(errc::unknown_transfer),
                "no transfer with id '" + prefix + "' (see `kith list`)");
  }
  return found;
}

Result<lt::torrent_handle> SessionHost::handle(const std::string& id) const {
  auto full = resolve(id);
  if (!full) return tl::unexpected(full.error());
  std::lock_guard lock(m_mutex);
  // Removed between resolve() and here (another thread): the same answer as never having had it.
  auto it = m_handles.find(*full);
  if (it == m_handles.end())
    return fail(make_error_code(errc::unknown_transfer),
                "no transfer with id '" + id + "' (see `kith list`)");
  return *it->second;
}

Status SessionHost::remove(const std::string& id, bool delete_files) {
  auto h = handle(id);
  if (!h) return tl::unexpected(h.error());
  auto full = id_of(*h);
  m_session->remove_torrent(*h, delete_files ? lt::session_handle::delete_files : lt::remove_flags_t{});
  m_gates->close(full, "the transfer was removed");  // readers waiting for its bytes give up
  m_recorder->forget(full);
  std::lock_guard lock(m_mutex);
  m_handles.erase(full);
  m_globs.erase(full);
  m_wanted.erase(full);
  m_unselected.erase(full);
  m_errors.erase(full);
  m_disk_full.erase(full);
  m_hints.erase(full);
  m_ssl.erase(full);
  m_whole_pieces.erase(full);
  return {};
}

Status SessionHost::pause(const std::string& id) {
  auto h = handle(id);
  if (!h) return tl::unexpected(h.error());
  h->unset_flags(lt::torrent_flags::auto_managed);
  h->pause(lt::torrent_handle::graceful_pause);
  h->save_resume_data(lt::torrent_handle::save_info_dict);
  return {};
}

Status SessionHost::resume(const std::string& id) {
  auto h = handle(id);
  if (!h) return tl::unexpected(h.error());
  {
    std::lock_guard lock(m_mutex);
    m_errors.erase(id_of(*h));
    m_disk_full.erase(id_of(*h));
  }
  h->clear_error();
  // A failed disk write also puts the torrent in upload-only mode (libtorrent would leave it by itself
  // only after optimistic_disk_retry, 10 minutes): leave it now.
  h->unset_flags(lt::torrent_flags::upload_mode);
  h->resume();
  // Pausing or an error dropped every connection; dial the link's hinted peers again, since with no
  // DHT or tracker nothing else would bring them back.
  std::vector<lt::tcp::endpoint> hints;
  {
    std::lock_guard lock(m_mutex);
    if (auto it = m_hints.find(id_of(*h)); it != m_hints.end()) hints = it->second;
  }
  for (const auto& ep : hints) h->connect_peer(ep);
  return {};
}

Status SessionHost::connect_peers(const std::string& id, const std::vector<std::string>& peers,
                                  bool remember) {
  auto h = handle(id);
  if (!h) return tl::unexpected(h.error());
  std::vector<lt::tcp::endpoint> added;
  for (const auto& p : peers) {
    auto hp = base::parse_ip_port(p);
    boost::system::error_code ec;
    auto ip = hp ? lt::make_address(hp->host, ec) : lt::address();
    if (!hp || ec) continue;
    added.emplace_back(ip, hp->port);
  }
  if (remember) {
    std::lock_guard lock(m_mutex);
    auto& hints = m_hints[id_of(*h)];
    for (const auto& ep : added)
      if (hints.size() < 16 && std::find(hints.begin(), hints.end(), ep) == hints.end()) hints.push_back(ep);
  }
  for (const auto& ep : added) h->connect_peer(ep);
  return {};
}

void SessionHost::redial_hints(const std::string& id) {
  std::vector<lt::tcp::endpoint> hints;
  std::optional<lt::torrent_handle> h;
  {
    std::lock_guard lock(m_mutex);
    auto it = m_hints.find(id);
    auto handle = m_handles.find(id);
    if (it == m_hints.end() || handle == m_handles.end() || !handle->second) return;
    hints = it->second;
    h = *handle->second;
  }
  for (const auto& ep : hints) h->connect_peer(ep);
}

void SessionHost::forget_hints(const std::string& id) {
  std::lock_guard lock(m_mutex);
  m_hints.erase(id);
}

Status SessionHost::move_storage(const std::string& id, const std::string& destination) {
  auto h = handle(id);
  if (!h) return tl::unexpected(h.error());
  // fail_if_exist: never overwrite a user's file that happens to have the same name.
  h->move_storage(destination, lt::move_flags_t::fail_if_exist);
  return {};
}

Result<TransferStatus> SessionHost::status(const std::string& id) const {
  auto h = handle(id);
  if (!h) return tl::unexpected(h.error());
  auto st = detail::to_status(h->status());
  annotate(st);
  return st;
}

Result<std::vector<PeerStatus>> SessionHost::peers(const std::string& id) const {
  auto h = handle(id);
  if (!h) return tl::unexpected(h.error());
  std::vector<lt::peer_info> infos;
  h->get_peer_info(infos);
  std::vector<PeerStatus> out;
  for (const auto& p : infos) out.push_back(detail::to_peer_status(p));
  return out;
}

std::vector<PeerStatus> SessionHost::sources(const std::string& id) const { return m_recorder->sources(id); }

bool SessionHost::recover_inconsistent(const lt::torrent_handle& h) {
  // libtorrent 2.0.8 sometimes fails a hybrid torrent fetched by magnet (v2 hashes learned from peers)
  // with "v1 and v2 hashes do not describe the same data", though the data is right: a race in its
  // hash picker, fixed in later releases. Re-checking what is on disk and continuing gets past it;
  // give up after a few tries so a truly inconsistent torrent still ends in an error.
  auto id = id_of(h);
  int attempt;
  {
    std::lock_guard lock(m_mutex);
    attempt = ++m_recoveries[id];
  }
  if (attempt > 3) return false;
  spdlog::warn("{}: libtorrent reported inconsistent v1/v2 hashes; re-checking the data (attempt {})", id,
               attempt);
  h.clear_error();
  h.force_recheck();
  h.resume();
  return true;
}

void SessionHost::record_error(const std::string& id, const std::string& message, bool disk_full) {
  std::lock_guard lock(m_mutex);
  // One full disk raises several alerts, some without the cause: keep the most telling message.
  if (!disk_full && m_disk_full.count(id)) return;
  m_errors[id] = message;
  if (disk_full) m_disk_full.insert(id);
}

void SessionHost::annotate(TransferStatus& st) const {
  std::lock_guard lock(m_mutex);
  if (auto it = m_unselected.find(st.id); it != m_unselected.end()) {
    // Nothing to download: libtorrent calls that finished, kith calls it an error (selection.hpp).
    st.state = "error";
    st.error = it->second;
    st.error_code = Error{make_error_code(errc::nothing_selected), {}}.code_name();
    return;
  }
  // A failed write puts a torrent in upload mode rather than in error: libtorrent's state says
  // "downloading" at 0 B/s. A disk-full alert for it makes it an error here, which resume() (the node's
  // disk-full retry, or the user's) clears.
  if (m_disk_full.count(st.id)) st.state = "error";
  if (st.state != "error") return;
  // The alert that reported the error said more (which file, disk full) than the status does.
  if (auto it = m_errors.find(st.id); it != m_errors.end()) st.error = it->second;
  st.disk_full = st.disk_full || m_disk_full.count(st.id) > 0;
}

std::vector<TransferStatus> SessionHost::list() const {
  std::vector<lt::torrent_handle> handles;
  {
    std::lock_guard lock(m_mutex);
    for (const auto& [id, h] : m_handles) handles.push_back(*h);
  }
  std::vector<TransferStatus> out;
  for (const auto& h : handles) {
    out.push_back(detail::to_status(h.status()));
    annotate(out.back());
  }
  return out;
}

Result<std::vector<FileStatus>> SessionHost::files(const std::string& id) const {
  auto h = handle(id);
  if (!h) return tl::unexpected(h.error());
  auto ti = h->torrent_file();
  std::vector<FileStatus> out;
  if (!ti) return out;  // metadata not received yet
  auto progress = h->file_progress(lt::torrent_handle::piece_granularity);
  auto prio = h->get_file_priorities();
  const auto& fs = ti->files();
  for (auto i : fs.file_range()) {
    if (fs.pad_file_at(i)) continue;
    auto idx = static_cast<std::size_t>(static_cast<int>(i));
    out.push_back(FileStatus{static_cast<int>(i), fs.file_path(i), fs.file_size(i),
                             idx < progress.size() ? progress[idx] : 0,
                             idx >= prio.size() || prio[idx] != lt::dont_download});
  }
  return out;
}

Result<std::string> SessionHost::magnet(const std::string& id,
                                        const std::vector<std::string>& peer_hints) const {
  auto h = handle(id);
  if (!h) return tl::unexpected(h.error());
  std::string link = lt::make_magnet_uri(*h);
  for (const auto& hint : peer_hints) link += "&x.pe=" + hint;
  return link;
}

Result<std::string> SessionHost::torrent_file(const std::string& id) const {
  auto h = handle(id);
  if (!h) return tl::unexpected(h.error());
  auto ti = h->torrent_file_with_hashes();
  if (!ti) return fail(make_error_code(errc::session_error), "metadata for " + id + " is not known yet");
  lt::create_torrent ct(*ti);
  std::string out;
  lt::bencode(std::back_inserter(out), ct.generate());
  return out;
}

void SessionHost::request_resume_data() {
  std::lock_guard lock(m_mutex);
  for (const auto& [id, h] : m_handles) {
    h->save_resume_data(lt::torrent_handle::save_info_dict | lt::torrent_handle::only_if_modified);
  }
}

void SessionHost::shutdown() {
  {
    // A strand handler may be in the middle of a batch: popping alerts here would free the ones it is
    // still reading. Once past this lock, on_alerts() pops nothing any more.
    std::lock_guard lock(m_alert_mutex);
    if (!m_alive->exchange(false)) return;  // from here on, alerts are popped by this thread only
  }
  m_gates->close_all("the session is shutting down");
  m_session->pause();
  int outstanding = 0;
  {
    std::lock_guard lock(m_mutex);
    for (const auto& [id, h] : m_handles) {
      if (!h->is_valid()) continue;
      h->save_resume_data(lt::torrent_handle::save_info_dict | lt::torrent_handle::flush_disk_cache);
      ++outstanding;
    }
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (outstanding > 0 && std::chrono::steady_clock::now() < deadline) {
    if (!m_session->wait_for_alert(std::chrono::milliseconds(500))) continue;
    std::vector<lt::alert*> alerts;
    m_session->pop_alerts(&alerts);
    for (auto* a : alerts) {
      if (auto* rd = lt::alert_cast<lt::save_resume_data_alert>(a)) {
        --outstanding;
        m_on_event({SwarmEvent::Kind::resume_data,
                    id_of(rd->handle),
                    {},
                    {},
                    false,
                    to_bytes(lt::write_resume_data_buf(rd->params))});
      } else if (lt::alert_cast<lt::save_resume_data_failed_alert>(a)) {
        --outstanding;
      }
    }
  }
  if (outstanding > 0) spdlog::warn("shutdown: {} transfers did not return resume data in time", outstanding);
  fail_pending_dht();
  // Adds and detaches still waiting for libtorrent: answer them (nobody else will).
  std::map<std::string, PendingAdd> adding;
  std::map<std::string, base::Done<Result<std::vector<std::uint8_t>>>> detaching;
  {
    std::lock_guard lock(m_mutex);
    adding.swap(m_adding);
    detaching.swap(m_detaching);
  }
  const Error stopping{make_error_code(errc::session_error), "the node is stopping"};
  for (auto& [id, p] : adding) p.done(tl::unexpected(stopping));
  for (auto& [id, done] : detaching) done(tl::unexpected(stopping));
}

Status SessionHost::set_ip_filter(const std::vector<AddressRange>& ranges) {
  lt::ip_filter filter;
  for (const auto& r : ranges) {
    lt::error_code ec1, ec2;
    auto first = lt::make_address(r.first, ec1);
    auto last = lt::make_address(r.last, ec2);
    if (ec1 || ec2 || first.is_v4() != last.is_v4() || last < first) {
      return fail(make_error_code(errc::session_error), "bad IP filter range " + r.first + "-" + r.last);
    }
    filter.add_rule(first, last, lt::ip_filter::blocked);
  }
  // libtorrent applies it to incoming and outgoing connections (x.pe hints and connect_peer
  // included) of every torrent with apply_ip_filter, and drops connected peers it now covers.
  m_session->set_ip_filter(std::move(filter));
  return {};
}

void SessionHost::set_blocked_peer_ids(std::vector<PeerIdRule> rules) {
  m_peer_filter->set_rules(std::move(rules));
}

std::vector<std::uint8_t> SessionHost::session_state() const {
  auto params = m_session->session_state(lt::session_handle::save_dht_state);
  return to_bytes(lt::write_session_params_buf(params, lt::session_handle::save_dht_state));
}

SessionStats SessionHost::stats() const {
  SessionStats s;
  s.listen_port = listen_port();
  s.dht_running = m_session->is_dht_running();
  m_session->post_dht_stats();  // refreshes m_dht_nodes for the next call
  s.dht_nodes = m_dht_nodes;
  s.refused_by_ip_filter = m_refused_ip;
  s.refused_by_peer_id = m_peer_filter->refused();
  return s;
}

std::uint16_t SessionHost::listen_port() const { return m_session->listen_port(); }

std::uint16_t SessionHost::ssl_listen_port() const { return m_session->ssl_listen_port(); }

void SessionHost::apply_ssl_certificate(const std::string& id) {
  std::lock_guard lock(m_mutex);
  auto cert = m_ssl.find(id);
  auto h = m_handles.find(id);
  if (cert == m_ssl.end() || h == m_handles.end() || !h->second->is_valid()) return;
  h->second->set_ssl_certificate_buffer(cert->second.first, cert->second.second, std::string(DH_PARAMS));
}

void SessionHost::on_alerts() {
  std::lock_guard lock(m_alert_mutex);  // never while shutdown() pops alerts itself
  if (*m_alive) handle_alerts(false);
}

void SessionHost::handle_alerts(bool /*from_shutdown*/) {
  std::vector<lt::alert*> alerts;
  m_session->pop_alerts(&alerts);
  for (auto* a : alerts) {
    using K = SwarmEvent::Kind;
    m_gates->observe(a);  // verified pieces, pause/resume/recheck: for open_reader()'s waits
    if (handle_dht_alert(a)) continue;
    if (auto* rd = lt::alert_cast<lt::save_resume_data_alert>(a)) {
      const auto id = id_of(rd->handle);
      auto bytes = to_bytes(lt::write_resume_data_buf(rd->params));
      m_on_event({K::resume_data, id, {}, {}, false, bytes});
      on_detach_resume(id, std::move(bytes));
    } else if (auto* rf = lt::alert_cast<lt::save_resume_data_failed_alert>(a)) {
      on_detach_resume(id_of(rf->handle),
                       fail(make_error_code(errc::session_error), "no resume data: " + rf->error.message()));
    } else if (auto* ad = lt::alert_cast<lt::add_torrent_alert>(a)) {
      on_added(*ad);
    } else if (auto* su = lt::alert_cast<lt::state_update_alert>(a)) {
      SwarmEvent e{K::status_updates, {}, {}, {}, false, {}, {}};
      e.statuses.reserve(su->status.size());
      for (const auto& st : su->status) {
        e.statuses.push_back(detail::to_status(st));
        annotate(e.statuses.back());
      }
      m_on_event(e);
    } else if (auto* md = lt::alert_cast<lt::metadata_received_alert>(a)) {
      auto id = id_of(md->handle);
      std::string glob;
      std::optional<std::vector<int>> wanted;
      {
        std::lock_guard lock(m_mutex);
        if (auto it = m_globs.find(id); it != m_globs.end()) glob = it->second;
        if (auto it = m_wanted.find(id); it != m_wanted.end()) wanted = it->second;
      }
      if (wanted) {
        if (auto r = apply_wanted_files(md->handle, *wanted); !r)
          spdlog::warn("{}: stored file selection not applied: {}", id, r.error().message);
      } else if (!glob.empty()) {
        apply_file_selection(md->handle, glob);
      }
      md->handle.save_resume_data(lt::torrent_handle::save_info_dict);
      m_on_event({K::metadata_received, id, {}, {}, false, {}});
      if (!wanted && flag_empty_selection(md->handle))
        m_on_event({K::error, id, {}, selection_error(id).value_or(""), false, {}});
    } else if (auto* fin = lt::alert_cast<lt::torrent_finished_alert>(a)) {
      // "Finished" with no file selected is the error above, not a download to release.
      const auto id = id_of(fin->handle);
      if (flag_empty_selection(fin->handle))
        m_on_event({K::error, id, {}, selection_error(id).value_or(""), false, {}});
      if (selection_error(id)) continue;
      fin->handle.save_resume_data(lt::torrent_handle::save_info_dict);
      m_on_event({K::finished, id, {}, {}, false, {}});
    } else if (auto* mv = lt::alert_cast<lt::storage_moved_alert>(a)) {
      mv->handle.save_resume_data(lt::torrent_handle::save_info_dict);
      m_on_event({K::storage_moved, id_of(mv->handle), mv->storage_path(), {}, false, {}});
    } else if (auto* mf = lt::alert_cast<lt::storage_moved_failed_alert>(a)) {
      m_on_event({K::storage_move_failed,
                  id_of(mf->handle),
                  mf->file_path(),
                  std::string(mf->file_path()) + ": " + mf->error.message(),
                  false,
                  {}});
    } else if (auto* fe = lt::alert_cast<lt::file_error_alert>(a)) {
      auto id = id_of(fe->handle);
      auto msg = std::string(fe->filename()) + ": " + fe->error.message();
      bool full = is_disk_full(fe->error, fe->filename());
      if (full)
        msg = "disk full while writing " + std::string(fe->filename()) + "; free space and it resumes";
      record_error(id, msg, full);
      m_on_event({K::error, id, {}, msg, full, {}});
    } else if (auto* te = lt::alert_cast<lt::torrent_error_alert>(a)) {
      auto id = id_of(te->handle);
      if (te->error == lt::errors::torrent_inconsistent_hashes && recover_inconsistent(te->handle)) continue;
      std::string file = te->filename();
      if (file.empty()) file = te->handle.status(lt::torrent_handle::query_save_path).save_path + "/.";
      bool full = is_disk_full(te->error, file);
      auto msg =
          full ? "disk full while writing " + std::string(te->filename()) + "; free space and it resumes"
               : te->error.message() + (te->filename()[0] ? std::string(" (") + te->filename() + ")" : "");
      record_error(id, msg, full);
      m_on_event({K::error, id, {}, msg, full, {}});
    } else if (auto* nc = lt::alert_cast<lt::torrent_need_cert_alert>(a)) {
      auto id = id_of(nc->handle);
      bool known;
      {
        std::lock_guard lock(m_mutex);
        known = m_ssl.count(id) > 0;
      }
      if (known)
        apply_ssl_certificate(id);
      else
        spdlog::warn("{}: an SSL torrent without a certificate: it cannot connect to any peer", id);
    } else if (auto* rm = lt::alert_cast<lt::torrent_removed_alert>(a)) {
      m_on_event({K::removed, detail::to_hashes(rm->info_hashes).id(), {}, {}, false, {}});
    } else if (auto* ds = lt::alert_cast<lt::dht_stats_alert>(a)) {
      int nodes = 0;
      for (const auto& b : ds->routing_table) nodes += b.num_nodes;
      m_dht_nodes = nodes;
    } else if (auto* le = lt::alert_cast<lt::listen_failed_alert>(a)) {
      spdlog::error("cannot listen on {}:{}: {}", le->address.to_string(), le->port, le->error.message());
    } else if (auto* pb = lt::alert_cast<lt::peer_blocked_alert>(a)) {
      // Debug only: a large filter and a busy DHT can refuse many peers a minute.
      if (pb->reason == lt::peer_blocked_alert::ip_filter) ++m_refused_ip;
      spdlog::debug("libtorrent: {}", pb->message());
    } else if (a->category() & (lt::alert_category::peer | lt::alert_category::connect)) {
      spdlog::debug("libtorrent: {}", a->message());
    } else if (auto* fc = lt::alert_cast<lt::file_completed_alert>(a)) {
      // Not for pad files, nor for an unwanted file whose pieces all came for its neighbours (its bytes
      // are in the `.parts` file): only a wanted file can be scanned and released.
      auto ti = fc->handle.torrent_file();
      if (!ti || ti->files().pad_file_at(fc->index) ||
          fc->handle.file_priority(fc->index) == lt::dont_download)
        continue;
      SwarmEvent e{K::file_completed, id_of(fc->handle), {}, {}, false, {}};
      e.file = static_cast<int>(fc->index);
      m_on_event(e);
    } else if (auto* hf = lt::alert_cast<lt::hash_failed_alert>(a)) {
      spdlog::warn("{}: piece {} failed its hash check; it will be downloaded again", id_of(hf->handle),
                   static_cast<int>(hf->piece_index));
    }
  }
}

}  // namespace kith::swarm
