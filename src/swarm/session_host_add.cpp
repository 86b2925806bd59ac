// SessionHost: adding transfers (from a source or from resume data, synchronously or through
// async_add_torrent and its add_torrent_alert), adopting their handles, and taking them out again with
// their resume data (detach_async). The rest of the class is in session_host.cpp.
#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <libtorrent/alert_types.hpp>
#include <libtorrent/read_resume_data.hpp>
#include <libtorrent/session.hpp>
#include <libtorrent/torrent_info.hpp>

#include "swarm/detail/intake_limits.hpp"
#include "swarm/detail/piece_gates.hpp"
#include "swarm/detail/selection.hpp"
#include "swarm/detail/source_data.hpp"
#include "swarm/detail/status.hpp"
#include "swarm/selection.hpp"
#include "swarm/session_host.hpp"

namespace kith::swarm {

namespace {

Result<lt::add_torrent_params> read_resume(const std::vector<std::uint8_t>& resume, const Source* hints) {
  lt::error_code ec;
  auto params = lt::read_resume_data(
      {reinterpret_cast<const char*>(resume.data()), static_cast<long>(resume.size())}, ec);
  if (ec)
    return fail(make_error_code(errc::bad_torrent), "stored resume data is unreadable: " + ec.message());
  if (hints && hints->data) {
    const auto& extra = hints->data->params.peers;
    params.peers.insert(params.peers.end(), extra.begin(), extra.end());
  }
  // Resume data saved before intake was capped (limits.hpp) can still hold a link's every tracker.
  // Its peers are libtorrent's own (the link's x.pe hints, added above, were capped at parse).
  detail::log_dropped(detail::cap_lists(params, /*peers=*/false),
                      "stored transfer " + detail::to_hashes(params.info_hashes).id());
  return params;
}

}  // namespace

Result<InfoHashes> SessionHost::add(const Source& source, const AddOptions& options) {
  if (!options.has_wanted_files)
    if (auto r = check_selection(source, options.only_glob); !r) return tl::unexpected(r.error());
  lt::add_torrent_params params = source.data->params;
  // Once per transfer, here rather than at parse time: a link is parsed again by each process
  // that checks it (the CLI, then the node).
  detail::log_dropped(source.data->dropped, "transfer " + source.hashes.id());
  return add_params(std::move(params), options);
}

Result<InfoHashes> SessionHost::restore(const AddOptions& options, const Source* hints) {
  auto params = read_resume(options.resume, hints);
  if (!params) return tl::unexpected(params.error());
  return add_params(std::move(*params), options);
}

void SessionHost::add_async(const Source& source, const AddOptions& options,
                            base::Done<Result<InfoHashes>> done) {
  if (!options.has_wanted_files)
    if (auto r = check_selection(source, options.only_glob); !r) {
      boost::asio::post(m_strand, [done = std::move(done), e = r.error()] { done(tl::unexpected(e)); });
      return;
    }
  detail::log_dropped(source.data->dropped, "transfer " + source.hashes.id());
  add_params_async(source.data->params, options, std::move(done));
}

void SessionHost::restore_async(const AddOptions& options, const Source* hints,
                                base::Done<Result<InfoHashes>> done) {
  auto params = read_resume(options.resume, hints);
  if (!params) {
    boost::asio::post(m_strand, [done = std::move(done), e = params.error()] { done(tl::unexpected(e)); });
    return;
  }
  add_params_async(std::move(*params), options, std::move(done));
}

Result<InfoHashes> SessionHost::prepare(lt::add_torrent_params& params, const AddOptions& options) {
  if (!options.save_path.empty()) params.save_path = options.save_path;
  params.flags &= ~lt::torrent_flags::auto_managed;  // kith decides what runs, not a queue
  params.flags &= ~lt::torrent_flags::paused;
  params.flags &= ~lt::torrent_flags::duplicate_is_error;
  params.flags |= lt::torrent_flags::apply_ip_filter;  // never exempt (resume data could say otherwise)
  if (options.paused) params.flags |= lt::torrent_flags::paused;
  if (options.sequential) params.flags |= lt::torrent_flags::sequential_download;
  if (options.seed_mode) params.flags |= lt::torrent_flags::seed_mode;
  // With the file list known (a .torrent), the selection goes in with the add itself: set afterwards,
  // peers dialled at add time could already be sent requests for unwanted files.
  if (params.ti && !options.has_wanted_files && !options.only_glob.empty()) {
    params.file_priorities = detail::glob_priorities(params.ti->files(), options.only_glob);
  }
  for (const auto& peer : options.peers) {
    auto endpoint = detail::parse_endpoint(peer);
    if (!endpoint) return tl::unexpected(endpoint.error());
    params.peers.push_back(*endpoint);
  }
  auto hashes =
      params.ti ? detail::to_hashes(params.ti->info_hashes()) : detail::to_hashes(params.info_hashes);
  std::lock_guard lock(m_mutex);
  if (m_handles.count(hashes.id()) || m_adding.count(hashes.id())) {
    return fail(make_error_code(errc::duplicate), "transfer " + hashes.id() + " is already in this node");
  }
  return hashes;
}

Result<InfoHashes> SessionHost::add_params(lt::add_torrent_params params, const AddOptions& options) {
  auto hashes = prepare(params, options);
  if (!hashes) return hashes;
  std::vector<lt::tcp::endpoint> hint_peers(params.peers.begin(), params.peers.end());
  lt::error_code ec;
  lt::torrent_handle h = m_session->add_torrent(std::move(params), ec);
  if (ec) return fail(make_error_code(errc::session_error), "cannot add transfer: " + ec.message());
  {
    std::lock_guard lock(m_mutex);
    m_hints[hashes->id()] = hint_peers;
  }
  adopt(h, *hashes, options);
  return hashes;
}

void SessionHost::add_params_async(lt::add_torrent_params params, const AddOptions& options,
                                   base::Done<Result<InfoHashes>> done) {
  auto hashes = prepare(params, options);
  if (!hashes) {
    boost::asio::post(m_strand, [done = std::move(done), e = hashes.error()] { done(tl::unexpected(e)); });
    return;
  }
  {
    std::lock_guard lock(m_mutex);
    m_adding[hashes->id()] = {options, std::move(done)};
    m_hints[hashes->id()] = std::vector<lt::tcp::endpoint>(params.peers.begin(), params.peers.end());
  }
  m_session->async_add_torrent(std::move(params));  // answered by an add_torrent_alert: on_added()
}

void SessionHost::on_added(const lt::add_torrent_alert& a) {
  const auto& p = a.params;
  auto hashes = p.ti ? detail::to_hashes(p.ti->info_hashes()) : detail::to_hashes(p.info_hashes);
  PendingAdd pending;
  {
    std::lock_guard lock(m_mutex);
    auto it = m_adding.find(hashes.id());
    if (it == m_adding.end()) return;  // a synchronous add (its caller handled it)
    pending = std::move(it->second);
    m_adding.erase(it);
    if (a.error) m_hints.erase(hashes.id());
  }
  if (a.error) {
    pending.done(fail(make_error_code(errc::session_error), "cannot add transfer: " + a.error.message()));
    return;
  }
  adopt(a.handle, hashes, pending.options);
  pending.done(hashes);
}

void SessionHost::adopt(const lt::torrent_handle& h, const InfoHashes& hashes, const AddOptions& options) {
  {
    std::lock_guard lock(m_mutex);
    m_handles[hashes.id()] = std::make_unique<lt::torrent_handle>(h);
    if (!options.ssl_cert.empty()) m_ssl[hashes.id()] = {options.ssl_cert, options.ssl_key};
    if (options.whole_pieces_only) m_whole_pieces.insert(hashes.id());
    if (options.has_wanted_files)
      m_wanted[hashes.id()] = options.wanted_files;
    else if (!options.only_glob.empty())
      m_globs[hashes.id()] = options.only_glob;
  }
  m_gates->open(hashes.id(), h);  // verified pieces, for open_reader()
  if (options.has_wanted_files && h.torrent_file()) {
    if (auto r = apply_wanted_files(h, options.wanted_files); !r)
      spdlog::warn("{}: stored file selection not applied: {}", hashes.id(), r.error().message);
  } else if (!options.only_glob.empty() && h.torrent_file()) {
    apply_file_selection(h, options.only_glob);
  }
  if (options.whole_pieces_only) apply_whole_pieces(h);
  if (!options.has_wanted_files) (void)flag_empty_selection(h);  // restored with an empty selection
  // An SSL torrent connects to no peer until it has a certificate; it may already have asked for one
  // (torrent_need_cert_alert) before the map above knew it, so give it now as well.
  if (!options.ssl_cert.empty()) apply_ssl_certificate(hashes.id());
  // Resume data right away: it is how the transfer is restored after a crash, even one that comes
  // before the first periodic save.
  h.save_resume_data(lt::torrent_handle::save_info_dict);
}

void SessionHost::detach_async(const std::string& id, base::Done<Result<std::vector<std::uint8_t>>> done) {
  auto h = handle(id);
  if (!h) {
    boost::asio::post(m_strand, [done = std::move(done), e = h.error()] { done(tl::unexpected(e)); });
    return;
  }
  const auto full = detail::to_hashes(h->info_hashes()).id();
  {
    std::lock_guard lock(m_mutex);
    if (m_detaching.count(full)) {
      boost::asio::post(m_strand, [done = std::move(done), full] {
        done(fail(make_error_code(errc::session_error), full + " is already being taken out of the session"));
      });
      return;
    }
    m_detaching[full] = std::move(done);
  }
  // Paused first, so nothing is written after the resume data is taken; the flush makes sure every
  // block written so far is on disk before the files are moved.
  h->unset_flags(lt::torrent_flags::auto_managed);
  h->pause();
  h->save_resume_data(lt::torrent_handle::save_info_dict | lt::torrent_handle::flush_disk_cache);
}

void SessionHost::on_detach_resume(const std::string& id, Result<std::vector<std::uint8_t>> resume) {
  base::Done<Result<std::vector<std::uint8_t>>> done;
  {
    std::lock_guard lock(m_mutex);
    auto it = m_detaching.find(id);
    if (it == m_detaching.end()) return;
    done = std::move(it->second);
    m_detaching.erase(it);
  }
  if (resume) {
    if (auto r = remove(id, false); !r) resume = tl::unexpected(r.error());
  }
  done(std::move(resume));
}

}  // namespace kith::swarm
