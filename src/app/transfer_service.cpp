// TransferService: queries, the user's controls, libtorrent's events and the once-a-second tick.
// Adding downloads and shares is in transfer_intake.cpp.
#include "app/transfer_service.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <filesystem>
#include <thread>

#include "app/release_pipeline.hpp"
#include "app/transfer_view.hpp"
#include "base/clock.hpp"
#include "safety/errors.hpp"
#include "swarm/peer_hints.hpp"

namespace kith::app {
namespace {

constexpr auto TICK = std::chrono::seconds(1);
constexpr int DISK_FULL_RETRY_TICKS = 15;
// Transfers with no peer dial their hinted peers again this often (files to contacts have no tracker).
constexpr int REDIAL_TICKS = 10;

Error unknown(const std::string& id) {
  return Error{swarm::make_error_code(swarm::errc::unknown_transfer),
               "no transfer with id '" + id + "' (see `kith list`)"};
}

Error moving(const std::string& id) {
  return Error{base::make_error_code(base::errc::unavailable),
               id.substr(0, 8) + " is being moved (released or quarantined); try again in a moment"};
}

bool inside(const std::filesystem::path& path, const std::filesystem::path& folder) {
  auto p = path.lexically_normal().string();
  auto f = folder.lexically_normal().string();
  if (!f.empty() && f.back() != '/') f += '/';
  return p.rfind(f, 0) == 0;
}

bool active(const Transfer& t) {
  const auto& s = t.state;
  return s == "downloading" || s == "checking" || s == "metadata" || s == "scanning" || s == "verifying" ||
         t.status.download_rate > 0 || t.status.upload_rate > 0;
}

}  // namespace

TransferService::TransferService(Deps deps)
    : m_deps(std::move(deps)), m_strand(boost::asio::make_strand(m_deps.io)), m_timer(m_strand) {}

TransferService::~TransferService() = default;

void TransferService::emit(Event e) const {
  if (m_deps.sink) m_deps.sink(e);
}

void TransferService::start(base::Done<Status> done) {
  boost::asio::post(m_strand, [this, done = std::move(done)]() mutable {
    restore_all(std::move(done));
    tick();
  });
}

void TransferService::stop() {
  // The io_context has stopped (see the header): nothing runs on the strand, so this may touch its state.
  m_stopped = true;
  m_timer.cancel();
  for (auto& [id, job] : m_jobs) job.cancel->store(true);
}

std::vector<std::string> TransferService::peer_hints() const {
  return swarm::peer_hints(m_deps.settings.current()->get_string("bt.listen"), m_deps.swarm.listen_port());
}

Result<std::string> TransferService::resolve(const std::string& prefix) const {
  KITH_ASSERT_ON(m_strand);
  if (prefix.empty()) return fail(swarm::make_error_code(swarm::errc::unknown_transfer), "empty transfer id");
  if (auto it = m_job_outcome.find(prefix); it != m_job_outcome.end()) return it->second;
  if (m_jobs.count(prefix)) return prefix;
  std::string found;
  for (const auto& [id, e] : m_entries) {
    if (id.rfind(prefix, 0) != 0) continue;
    if (!found.empty())
      return fail(swarm::make_error_code(swarm::errc::ambiguous_id),
                  "id '" + prefix + "' matches several transfers; give more digits");
    found = id;
  }
  if (found.empty()) return tl::unexpected(unknown(prefix));
  return found;
}

Transfer TransferService::view(const Entry& e) const {
  return make_transfer(e.status, e.record, e.release, m_deps.user_id);
}

Transfer TransferService::job_view(const HashJob& job) const {
  Transfer t;
  t.status.id = job.id;
  t.status.name = job.name;
  t.status.state = "hashing";
  t.record.id = job.id;
  t.record.name = job.name;
  t.record.kind = "share";
  t.record.source = job.path;
  t.record.destination = std::filesystem::path(job.path).parent_path().string();
  t.record.released = true;
  Hashing h;
  h.path = job.path;
  h.done = job.done->load();
  h.total = job.total->load();
  const auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - job.started).count();
  if (secs > 0.5 && h.done > 0) {
    h.rate = static_cast<std::int64_t>(static_cast<double>(h.done) / secs);
    if (h.rate > 0)
      h.eta = static_cast<std::int64_t>((h.total - h.done) / static_cast<std::uint64_t>(h.rate));
  }
  t.status.total_size = t.status.total_wanted = static_cast<std::int64_t>(h.total);
  t.status.total_done = static_cast<std::int64_t>(h.done);
  t.status.progress = h.total ? static_cast<double>(h.done) / static_cast<double>(h.total) : 0;
  t.hashing = h;
  t.state = "hashing";
  return t;
}

Result<Transfer> TransferService::detailed(const std::string& id) {
  KITH_ASSERT_ON(m_strand);
  if (auto job = m_jobs.find(id); job != m_jobs.end()) return job_view(job->second);
  auto it = m_entries.find(id);
  if (it == m_entries.end()) return tl::unexpected(unknown(id));
  if (it->second.attached)
    if (auto st = m_deps.swarm.status(id)) it->second.status = *st;  // one transfer: ask for a fresh status
  auto t = view(it->second);
  t.detailed = true;
  if (it->second.attached) {
    // Short synchronous calls into libtorrent's thread: one transfer, when someone asks to see it.
    if (auto files = m_deps.swarm.files(id)) t.files = std::move(*files);
    if (auto link = m_deps.swarm.magnet(id, peer_hints()))
      t.magnet = *link + it->second.record.link_signature;
  }
  return t;
}

void TransferService::list(base::Done<std::vector<Transfer>> done) {
  boost::asio::post(m_strand, [this, done = std::move(done)] {
    std::vector<Transfer> out;
    out.reserve(m_jobs.size() + m_entries.size());
    for (const auto& [id, job] : m_jobs) out.push_back(job_view(job));
    for (const auto& [id, e] : m_entries)
      if (!m_adding.count(id)) out.push_back(view(e));
    done(std::move(out));
  });
}

void TransferService::show(std::string id, base::Done<Result<Transfer>> done) {
  boost::asio::post(m_strand, [this, id = std::move(id), done = std::move(done)] {
    auto full = resolve(id);
    if (!full) return done(tl::unexpected(full.error()));
    done(detailed(*full));
  });
}

void TransferService::torrent_file(std::string id, base::Done<Result<std::string>> done) {
  boost::asio::post(m_strand, [this, id = std::move(id), done = std::move(done)] {
    auto full = resolve(id);
    if (!full) return done(tl::unexpected(full.error()));
    if (m_jobs.count(*full))
      return done(fail(swarm::make_error_code(swarm::errc::session_error), *full + " is still being hashed"));
    done(m_deps.swarm.torrent_file(*full));
  });
}

void TransferService::peers(std::string id, base::Done<Result<std::vector<swarm::PeerStatus>>> done) {
  boost::asio::post(m_strand, [this, id = std::move(id), done = std::move(done)] {
    auto full = resolve(id);
    if (!full) return done(tl::unexpected(full.error()));
    if (m_jobs.count(*full)) return done(std::vector<swarm::PeerStatus>{});
    done(m_deps.swarm.peers(*full));
  });
}

void TransferService::pause(std::string id, base::Done<Status> done) {
  boost::asio::post(m_strand, [this, id = std::move(id), done = std::move(done)] {
    auto full = resolve(id);
    if (!full) return done(tl::unexpected(full.error()));
    auto it = m_entries.find(*full);
    if (it == m_entries.end()) return done(tl::unexpected(unknown(id)));
    if (!it->second.attached) return done(tl::unexpected(moving(*full)));
    if (auto r = m_deps.swarm.pause(*full); !r) return done(r);
    if (auto st = m_deps.swarm.status(*full)) it->second.status = *st;
    it->second.record.paused = true;
    done(m_deps.store.set_paused(*full, true));
  });
}

void TransferService::resume(std::string id, base::Done<Status> done) {
  boost::asio::post(m_strand, [this, id = std::move(id), done = std::move(done)] {
    auto full = resolve(id);
    if (!full) return done(tl::unexpected(full.error()));
    auto it = m_entries.find(*full);
    if (it == m_entries.end()) return done(tl::unexpected(unknown(id)));
    auto& e = it->second;
    const auto phase = e.release ? e.release->phase : ReleasePhase::released;
    if (phase == ReleasePhase::quarantined || phase == ReleasePhase::quarantining) {
      // Resuming would seed what the safety check held back.
      return done(fail(safety::make_error_code(safety::errc::quarantined),
                       full->substr(0, 8) + " is in quarantine; `kith quarantine release " +
                           full->substr(0, 8) +
                           "` releases it (and seeds it again), `kith quarantine delete` deletes it"));
    }
    if (!e.attached) return done(tl::unexpected(moving(*full)));
    if (auto r = m_deps.swarm.resume(*full); !r) return done(r);
    if (auto st = m_deps.swarm.status(*full)) it->second.status = *st;
    e.record.paused = false;
    // A release that failed (held) is tried again.
    if (phase == ReleasePhase::held && m_pipeline) m_pipeline->retry(*full);
    done(m_deps.store.set_paused(*full, false));
  });
}

void TransferService::select_files(std::string id, std::vector<int> wanted, base::Done<Status> done) {
  boost::asio::post(m_strand, [this, id = std::move(id), wanted = std::move(wanted), done = std::move(done)] {
    auto full = resolve(id);
    if (!full) return done(tl::unexpected(full.error()));
    auto it = m_entries.find(*full);
    if (it == m_entries.end()) return done(tl::unexpected(unknown(id)));
    if (!it->second.attached) return done(tl::unexpected(moving(*full)));
    if (auto r = m_deps.swarm.set_wanted_files(*full, wanted); !r) return done(r);
    it->second.record.wanted_files = wanted;
    it->second.record.only_glob.clear();
    if (m_pipeline) m_pipeline->selection_changed(*full);
    done(m_deps.store.set_wanted_files(*full, wanted));
  });
}

void TransferService::totals(base::Done<TransferTotals> done) {
  boost::asio::post(m_strand, [this, done = std::move(done)] {
    TransferTotals t;
    t.transfers = m_entries.size() + m_jobs.size();
    for (const auto& [id, e] : m_entries) {
      t.download_rate += e.status.download_rate;
      t.upload_rate += e.status.upload_rate;
    }
    done(t);
  });
}

void TransferService::forget(const std::string& id) {
  KITH_ASSERT_ON(m_strand);
  m_entries.erase(id);
  m_adding.erase(id);
  for (auto it = m_job_outcome.begin(); it != m_job_outcome.end();)
    it = it->second && *it->second == id ? m_job_outcome.erase(it) : std::next(it);
}

void TransferService::delete_unreleased_data(const std::string& id, std::function<void()> deleted) {
  // libtorrent deletes the files on its disk thread while this takes the folders around them; the two
  // race (remove_all stops at a file that vanished under it), so try a few times, on the pool.
  const auto home = m_deps.home;
  boost::asio::post(m_deps.workers, [home, id, deleted = std::move(deleted)] {
    for (const auto& dir : {home.staging_dir() / id, home.quarantine_dir() / id}) {
      std::error_code ec;
      for (int i = 0; i < 50 && std::filesystem::exists(dir, ec); ++i) {
        std::filesystem::remove_all(dir, ec);
        if (ec) std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
    if (deleted) deleted();
  });
}

void TransferService::remove(std::string id, bool delete_data, base::Done<Status> done) {
  boost::asio::post(m_strand, [this, id = std::move(id), delete_data, done = std::move(done)] {
    auto full = resolve(id);
    if (!full) return done(tl::unexpected(full.error()));
    if (auto job = m_jobs.find(*full); job != m_jobs.end()) {
      job->second.cancel->store(true);  // hashed() drops it and announces transfer.removed
      return done(Status{});
    }
    auto it = m_entries.find(*full);
    if (it == m_entries.end() || m_adding.count(*full)) return done(tl::unexpected(unknown(id)));
    if (!it->second.attached) return done(tl::unexpected(moving(*full)));
    // Data in staging or quarantine was never released to the user: it always goes with the transfer.
    // Whether data is "in staging" is decided by where it is, never by a flag alone, so released data
    // can never be deleted as if it were staging.
    const auto save_path = it->second.status.save_path.empty() ? std::string() : it->second.status.save_path;
    const bool in_home =
        inside(save_path, m_deps.home.staging_dir()) || inside(save_path, m_deps.home.quarantine_dir());
    const bool unreleased = it->second.record.kind == "get" && !it->second.record.released;
    if (auto r = m_deps.store.remove(*full); !r) return done(r);
    if (auto r = m_deps.swarm.remove(*full, delete_data || in_home); !r) return done(r);
    forget(*full);
    if (m_pipeline) m_pipeline->forget(*full, /*deleted=*/true);
    emit(event::TransferRemoved{*full});
    // The answer waits for staged data to be gone: whoever removed it may look right after.
    if (unreleased && in_home)
      return delete_unreleased_data(*full, [this, done = std::move(done)]() mutable {
        boost::asio::post(m_strand, [done = std::move(done)] { done(Status{}); });
      });
    done(Status{});
  });
}

void TransferService::remove_blocked(std::string hash, base::Done<std::vector<std::string>> done) {
  boost::asio::post(m_strand, [this, hash = std::move(hash), done = std::move(done)]() mutable {
    std::vector<std::string> ids;
    for (const auto& [id, e] : m_entries)
      if (e.status.hashes.v1 == hash || e.status.hashes.v2 == hash || id == hash) ids.push_back(id);
    auto left = std::make_shared<std::size_t>(ids.size());
    if (ids.empty()) return done(ids);
    auto shared_done = std::make_shared<base::Done<std::vector<std::string>>>(std::move(done));
    for (const auto& id : ids) {
      spdlog::warn("{}: info-hash blocked; removing the transfer", id);
      remove(id, false, [left, ids, shared_done, id](Status r) {
        if (!r) spdlog::error("{}: could not remove the blocked transfer: {}", id, r.error().message);
        if (--*left == 0) (*shared_done)(ids);
      });
    }
  });
}

void TransferService::set_release(std::string id, ReleaseView view) {
  boost::asio::post(m_strand, [this, id = std::move(id), view = std::move(view)] {
    if (auto it = m_entries.find(id); it != m_entries.end()) it->second.release = view;
  });
}

void TransferService::detach(std::string id, base::Done<Result<std::vector<std::uint8_t>>> done) {
  boost::asio::post(m_strand, [this, id = std::move(id), done = std::move(done)]() mutable {
    auto it = m_entries.find(id);
    if (it == m_entries.end() || !it->second.attached) return done(tl::unexpected(unknown(id)));
    it->second.attached = false;
    m_deps.swarm.detach_async(
        id,
        base::post_to(m_strand, base::Done<Result<std::vector<std::uint8_t>>>(
                                    [this, id, done = std::move(done)](Result<std::vector<std::uint8_t>> r) {
                                      auto e = m_entries.find(id);
                                      if (!r && e != m_entries.end()) e->second.attached = true;
                                      done(std::move(r));
                                    })));
  });
}

void TransferService::reattach(std::string id, std::vector<std::uint8_t> resume, std::string save_path,
                               bool paused, bool released, base::Done<Status> done) {
  boost::asio::post(m_strand, [this, id = std::move(id), resume = std::move(resume),
                               save_path = std::move(save_path), paused, released,
                               done = std::move(done)]() mutable {
    auto it = m_entries.find(id);
    if (it == m_entries.end()) return done(tl::unexpected(unknown(id)));
    auto options = ssl_options(it->second.record);
    options.resume = std::move(resume);
    options.save_path = save_path;
    options.paused = paused;
    options.sequential = it->second.record.sequential;
    options.whole_pieces_only = released;
    m_deps.swarm.restore_async(
        options, nullptr,
        base::post_to(m_strand,
                      base::Done<Result<swarm::InfoHashes>>(
                          [this, id, paused, save_path, done = std::move(done)](Result<swarm::InfoHashes> r) {
                            auto e = m_entries.find(id);
                            if (!r) return done(tl::unexpected(r.error()));
                            if (e == m_entries.end()) return done(Status{});
                            e->second.attached = true;
                            e->second.status.save_path = save_path;
                            e->second.record.paused = paused;
                            m_deps.swarm.post_updates();
                            done(m_deps.store.set_paused(id, paused));
                          })));
  });
}

void TransferService::mark_released(std::string id, std::string runnable_json, base::Done<Status> done) {
  boost::asio::post(m_strand,
                    [this, id = std::move(id), runnable = std::move(runnable_json), done = std::move(done)] {
                      auto it = m_entries.find(id);
                      if (it == m_entries.end()) return done(tl::unexpected(unknown(id)));
                      auto& rec = it->second.record;
                      rec.released = true;
                      rec.completed_at = base::unix_seconds();
                      rec.runnable = runnable;
                      if (auto r = m_deps.store.set_runnable(id, runnable); !r) return done(r);
                      done(m_deps.store.mark_released(id, rec.completed_at));
                    });
}

void TransferService::set_runnable(std::string id, std::string runnable_json, base::Done<Status> done) {
  boost::asio::post(m_strand,
                    [this, id = std::move(id), runnable = std::move(runnable_json), done = std::move(done)] {
                      auto it = m_entries.find(id);
                      if (it == m_entries.end()) return done(tl::unexpected(unknown(id)));
                      it->second.record.runnable = runnable;
                      done(m_deps.store.set_runnable(id, runnable));
                    });
}

void TransferService::on_swarm_event(swarm::SwarmEvent e) {
  boost::asio::post(m_strand, [this, e = std::move(e)] {
    using K = swarm::SwarmEvent::Kind;
    switch (e.kind) {
      case K::status_updates:
        for (const auto& st : e.statuses) {
          auto it = m_entries.find(st.id);
          if (it == m_entries.end()) continue;
          it->second.status = st;
          if (st.state != "error") it->second.last_error.clear();
          auto t = view(it->second);
          if (t.state != it->second.last_state) {
            it->second.last_state = t.state;
            emit(event::TransferState{st.id, t.state});
          }
          if (active(t)) emit(event::TransferProgress{std::move(t)});
        }
        break;
      case K::resume_data: {
        auto it = m_entries.find(e.id);
        if (it == m_entries.end()) break;
        it->second.record.resume = e.resume;
        if (auto r = m_deps.store.save_resume(e.id, e.resume); !r)
          spdlog::error("{}: saving resume data: {}", e.id, r.error().message);
        break;
      }
      case K::metadata_received: {
        auto it = m_entries.find(e.id);
        if (it == m_entries.end()) break;
        auto st = m_deps.swarm.status(e.id);
        if (!st) break;
        // A magnet with only one hash learns the other (hybrid torrents) with the metadata.
        if (m_deps.check_allowed && !m_deps.check_allowed(st->hashes)) {
          spdlog::warn("{}: its other info-hash is on the block list; removing the transfer", e.id);
          remove(e.id, false, [id = e.id](Status r) {
            if (!r) spdlog::error("{}: {}", id, r.error().message);
          });
          break;
        }
        it->second.status = *st;
        it->second.record.name = st->name;
        if (auto r = m_deps.store.put(it->second.record); !r)
          spdlog::error("{}: saving its name: {}", e.id, r.error().message);
        emit(event::TransferMetadata{e.id, st->name});
        break;
      }
      case K::error: {
        if (auto it = m_entries.find(e.id); it != m_entries.end()) {
          // libtorrent's post_torrent_updates does not always report a torrent that stopped with an
          // error (nothing changes afterwards, so no later update comes either): ask for its status.
          if (it->second.attached)
            if (auto st = m_deps.swarm.status(e.id)) {
              it->second.status = *st;
              if (auto t = view(it->second); t.state != it->second.last_state) {
                it->second.last_state = t.state;
                emit(event::TransferState{e.id, t.state});
              }
            }
          if (it->second.last_error == e.message) break;
          it->second.last_error = e.message;
        }
        spdlog::error("{}: {}", e.id, e.message);
        emit(event::TransferError{e.id, e.message, e.disk_full, true});
        break;
      }
      default:
        break;
    }
  });
}

void TransferService::tick() {
  KITH_ASSERT_ON(m_strand);
  if (m_stopped) return;
  ++m_ticks;
  // Statuses of every transfer that changed arrive as one status_updates event.
  m_deps.swarm.post_updates();
  for (const auto& [id, job] : m_jobs) emit(event::TransferProgress{job_view(job)});
  const auto settings = m_deps.settings.current();
  const auto interval = std::max<std::int64_t>(1, settings->get_int("resume.interval"));
  if (m_ticks % interval == 0) {
    m_deps.swarm.request_resume_data();
    if (auto r = m_deps.store.put_kv("session_state", m_deps.swarm.session_state()); !r)
      spdlog::warn("saving the session state: {}", r.error().message);
  }
  if (m_ticks % REDIAL_TICKS == 0)  // never give up on a hinted peer (files to contacts have no tracker)
    for (const auto& [id, e] : m_entries)
      if (e.attached && e.status.peers == 0 && e.status.state != "paused") m_deps.swarm.redial_hints(id);
  if (m_ticks % DISK_FULL_RETRY_TICKS == 0) {
    for (const auto& [id, e] : m_entries) {
      if (e.attached && e.status.state == "error" && e.status.disk_full) {
        spdlog::info("{}: retrying after disk-full error", id);
        if (auto r = m_deps.swarm.resume(id); !r) spdlog::warn("{}: {}", id, r.error().message);
      }
    }
  }
  m_timer.expires_after(TICK);
  m_timer.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) tick();
  });
}

}  // namespace kith::app
