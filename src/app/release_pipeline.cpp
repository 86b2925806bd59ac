#include "app/release_pipeline.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <filesystem>

#include "app/release_mover.hpp"
#include "app/transfer_service.hpp"
#include "base/clock.hpp"
#include "base/fs.hpp"
#include "safety/errors.hpp"
#include "swarm/resume_data.hpp"

namespace kith::app {
namespace {

namespace fs = std::filesystem;

std::string early_marker(const std::string& id) { return "early-scan:" + id; }
std::string scan_marker(const std::string& id) { return "scanning:" + id; }

std::string runnable_json(const std::vector<std::string>& files) { return nlohmann::json(files).dump(); }

nlohmann::json peers_json(const std::vector<swarm::PeerStatus>& peers) {
  auto out = nlohmann::json::array();
  for (const auto& p : peers)
    out.push_back({{"endpoint", p.endpoint}, {"client", p.client}, {"peer_id", p.peer_id}});
  return out;
}

Error unknown_item(const std::string& text) {
  return Error{safety::make_error_code(safety::errc::unknown_item), text};
}

}  // namespace

ReleasePipeline::ReleasePipeline(Deps deps)
    : m_deps(std::move(deps)), m_strand(boost::asio::make_strand(m_deps.io)) {}

void ReleasePipeline::emit(Event e) const {
  if (m_deps.sink) m_deps.sink(e);
}

Status ReleasePipeline::start() {
  auto held = m_deps.quarantine.list("held");
  if (!held) return tl::unexpected(held.error());
  for (const auto& q : *held) m_held.insert(q.id);
  return {};
}

void ReleasePipeline::stop() {
  // The io_context has stopped: nothing runs on the strand, so its state may be read here.
  m_stopped = true;
  for (auto& [key, reader] : m_readers) reader->cancel();
}

Status ReleasePipeline::put_marker(const std::string& key) { return m_deps.markers.put_kv(key, {'1'}); }

void ReleasePipeline::drop_marker(const std::string& key) {
  if (auto r = m_deps.markers.remove_kv(key); !r)
    spdlog::error("cannot remove the marker {}: {} (it is cleared at the next start)", key,
                  r.error().message);
}

void ReleasePipeline::track(store::TransferRecord record) {
  boost::asio::post(m_strand, [this, record = std::move(record)]() mutable {
    const auto id = record.id;
    Tracked t;
    t.record = std::move(record);
    t.generation = m_next_generation++;
    if (m_held.count(id)) {
      t.machine = ReleaseMachine(ReleasePhase::quarantined);
    } else {
      auto scanning = m_deps.markers.get_kv(scan_marker(id));
      if (scanning && *scanning) {
        safety::Decision d;
        d.outcome = safety::Outcome::incomplete;
        d.reason = "the scan never finished (the node was stopped or the scanner crashed while scanning it)";
        spdlog::warn("{}: {}", id, d.reason);
        t.forced = d;
        t.scanning_marker = true;
      }
      auto early = m_deps.markers.get_kv(early_marker(id));
      if (early && *early) {
        spdlog::warn("{}: its scans were interrupted while it downloaded; it is scanned once complete", id);
        t.early_scans = false;
        t.early_marker = true;
      }
    }
    auto [it, inserted] = m_tracked.insert_or_assign(id, std::move(t));
    refresh_files(it->second, id);
    advance(id);
  });
}

void ReleasePipeline::forget(std::string id, bool deleted) {
  boost::asio::post(m_strand, [this, id = std::move(id), deleted] {
    if (auto it = m_tracked.find(id); it != m_tracked.end()) {
      if (it->second.release_done)
        it->second.release_done(
            fail(base::make_error_code(base::errc::unavailable), "the transfer was removed"));
      m_tracked.erase(it);
    }
    drop_marker(early_marker(id));
    drop_marker(scan_marker(id));
    if (deleted && m_held.erase(id)) {
      if (auto r = m_deps.quarantine.resolve(id, "deleted", base::unix_seconds()); !r)
        spdlog::error("{}: cannot record the deletion: {}", id, r.error().message);
      emit(event::QuarantineDeleted{id});
    }
  });
}

void ReleasePipeline::retry(std::string id) {
  boost::asio::post(m_strand, [this, id = std::move(id)] {
    auto it = m_tracked.find(id);
    if (it == m_tracked.end()) return;
    it->second.error.clear();
    it->second.machine.retry();
    advance(id);
  });
}

void ReleasePipeline::selection_changed(std::string id) {
  boost::asio::post(m_strand, [this, id = std::move(id)] {
    auto it = m_tracked.find(id);
    if (it == m_tracked.end()) return;
    refresh_files(it->second, id);
    advance(id);
  });
}

void ReleasePipeline::refresh_files(Tracked& t, const std::string& id) {
  KITH_ASSERT_ON(m_strand);
  const auto phase = t.machine.phase();
  if (phase != ReleasePhase::staging && phase != ReleasePhase::verifying && phase != ReleasePhase::scanning)
    return;
  auto files = m_deps.swarm.files(id);   // a short synchronous call into libtorrent's thread
  if (!files || files->empty()) return;  // no metadata yet
  std::vector<WantedFile> wanted;
  for (const auto& f : *files)
    if (f.wanted)
      wanted.push_back(
          {f.index, f.path, static_cast<std::uint64_t>(f.size), f.size > 0 ? f.done >= f.size : true});
  // A file deselected while it is scanned (say a glob applied just after the metadata came, or the
  // user's new selection): a stream scan waits for pieces that will never come, so cancel it; a
  // scan of a complete file ends soon and its answer is ignored.
  for (int index : t.machine.set_files(std::move(wanted)))
    if (auto r = m_readers.find({id, index}); r != m_readers.end()) r->second->cancel();
}

void ReleasePipeline::on_swarm_event(swarm::SwarmEvent e) {
  boost::asio::post(m_strand, [this, e = std::move(e)] {
    using K = swarm::SwarmEvent::Kind;
    if (e.kind == K::status_updates) {
      std::vector<std::string> changed;
      for (const auto& st : e.statuses) {
        auto it = m_tracked.find(st.id);
        if (it == m_tracked.end()) continue;
        auto& t = it->second;
        const bool progressed = st.total_done != t.total_done || st.total_wanted != t.total_wanted;
        t.save_path = st.save_path;
        t.total_done = st.total_done;
        t.total_wanted = st.total_wanted;
        t.finished_state = st.state;
        if (progressed || !t.machine.has_files()) refresh_files(t, st.id);
        if (st.has_metadata && (st.state == "finished" || st.state == "seeding") &&
            st.total_done >= st.total_wanted)
          t.machine.all_downloaded();
        changed.push_back(st.id);
      }
      for (const auto& id : changed) advance(id);
      return;
    }
    auto it = m_tracked.find(e.id);
    if (it == m_tracked.end()) return;
    if (e.kind == K::metadata_received) {
      refresh_files(it->second, e.id);
    } else if (e.kind == K::finished) {
      refresh_files(it->second, e.id);
      it->second.machine.all_downloaded();
    } else {
      return;
    }
    advance(e.id);
  });
}

void ReleasePipeline::advance(const std::string& id) {
  KITH_ASSERT_ON(m_strand);
  if (m_stopped) return;
  auto it = m_tracked.find(id);
  if (it == m_tracked.end()) return;
  auto& t = it->second;
  if (t.forced) {  // a scan that never finished: held back without another try
    if (t.machine.phase() == ReleasePhase::staging) quarantine(id, t);
    return;
  }
  if (t.machine.phase() == ReleasePhase::verifying) {
    // Every wanted byte must have passed libtorrent's piece hash check: that is the "verified" step.
    auto st = m_deps.swarm.status(id);
    if (st && st->total_done >= st->total_wanted && (st->state == "finished" || st->state == "seeding")) {
      if (!t.scanning_marker) {
        if (auto r = put_marker(scan_marker(id)); !r) {
          hold(id, t, "cannot record that its scan starts (" + r.error().message + "); it is tried again");
          return;
        }
        t.scanning_marker = true;
      }
      if (t.early_marker) {
        drop_marker(early_marker(id));
        t.early_marker = false;
      }
      t.error.clear();
      refresh_files(t, id);
      t.machine.verified();
    }
  }
  const auto phase = t.machine.phase();
  if (phase == ReleasePhase::scanning && !t.announced_scan) {
    t.announced_scan = true;
    emit(event::TransferScanning{id, t.machine.files().size()});
  }
  const bool may_scan = phase == ReleasePhase::scanning || (phase == ReleasePhase::staging && t.early_scans);
  if (may_scan && m_scans < m_deps.max_scans) {
    // In staging, the first file not complete yet may be scanned while it arrives (one per download).
    auto jobs = t.machine.take_scans(m_deps.max_scans - m_scans + t.machine.running_scans(),
                                     /*downloading=*/phase == ReleasePhase::staging);
    if (!jobs.empty() && phase == ReleasePhase::staging && !t.early_marker) {
      if (auto r = put_marker(early_marker(id)); r) {
        t.early_marker = true;
      } else {
        spdlog::warn("{}: cannot record early scans ({}); it is scanned once complete", id,
                     r.error().message);
        t.early_scans = false;
        for (const auto& j : jobs) t.machine.scan_gave_up(j.file.index);
        jobs.clear();
      }
    }
    for (const auto& job : jobs) start_scan(id, t, job);
  }
  switch (t.machine.next()) {
    case ReleaseMachine::Next::release:
      release(id, t);
      break;
    case ReleaseMachine::Next::quarantine:
      quarantine(id, t);
      break;
    case ReleaseMachine::Next::wait:
      publish_view(id, t);
      break;
  }
}

void ReleasePipeline::start_scan(const std::string& id, Tracked& t, const ScanJob& job) {
  KITH_ASSERT_ON(m_strand);
  if (job.through_reader) return start_reader_scan(id, t, job);
  ++m_scans;
  const auto root = m_deps.home.staging_dir() / id;
  boost::asio::post(m_deps.scan_pool, [this, id, root, generation = t.generation, file = job.file,
                                       inspector = m_deps.inspector] {
    safety::Decision d;
    try {
      d = inspector->inspect(root, {fs::path(file.path)});
    } catch (const std::exception& ex) {
      d = {};
      d.outcome = safety::Outcome::incomplete;
      d.reason = std::string("scanner error: ") + ex.what();
    }
    boost::asio::post(m_strand, [this, id, generation, index = file.index, d = std::move(d)]() mutable {
      scan_finished(id, generation, index, std::move(d));
    });
  });
}

void ReleasePipeline::start_reader_scan(const std::string& id, Tracked& t, const ScanJob& job) {
  KITH_ASSERT_ON(m_strand);
  // The reader hands out only verified and written bytes of this file (never the .parts file), asks
  // libtorrent for the pieces it waits for first, and gives up when the transfer is paused, removed or
  // stopped.
  auto opened = m_deps.swarm.open_reader(id, job.file.index);
  if (!opened) {
    spdlog::debug("{}: no scan during the download of {}: {}", id, job.file.path, opened.error().message);
    t.machine.scan_gave_up(job.file.index);
    return;
  }
  std::shared_ptr<swarm::FileReader> reader = std::move(*opened);
  m_readers[{id, job.file.index}] = reader;
  ++m_scans;
  boost::asio::post(m_deps.scan_pool, [this, id, generation = t.generation, file = job.file, reader,
                                       inspector = m_deps.inspector] {
    safety::ByteSource source;
    source.size = reader->size();
    source.name = file.path;
    source.read = [reader](void* buf, std::size_t count, std::uint64_t offset,
                           safety::ByteSource::Deadline deadline) {
      return reader->read(buf, count, offset, deadline);
    };
    std::optional<safety::Decision> d;  // none: the reader gave up, which is no verdict
    std::string why;
    try {
      auto verdict = inspector->inspect_stream(fs::path(file.path), source);
      if (verdict)
        d = inspector->decide({fs::path(file.path)}, {*verdict});
      else
        why = verdict.error().message;
    } catch (const std::exception& ex) {
      why = std::string("scanner error: ") + ex.what();
    }
    boost::asio::post(m_strand, [this, id, generation, index = file.index, d = std::move(d), why]() mutable {
      m_readers.erase({id, index});
      if (d) return scan_finished(id, generation, index, std::move(*d));
      spdlog::info("{}: the scan during the download gave up ({}); the file is scanned once complete", id,
                   why);
      reader_gave_up(id, generation, index);
    });
  });
}

void ReleasePipeline::reader_gave_up(const std::string& id, std::uint64_t generation, int index) {
  KITH_ASSERT_ON(m_strand);
  --m_scans;
  auto it = m_tracked.find(id);
  if (it != m_tracked.end() && it->second.generation == generation) {
    it->second.machine.scan_gave_up(index);
    advance(id);
  }
  free_slot(id);
}

void ReleasePipeline::scan_finished(const std::string& id, std::uint64_t generation, int index,
                                    safety::Decision verdict) {
  KITH_ASSERT_ON(m_strand);
  --m_scans;
  auto it = m_tracked.find(id);
  if (it != m_tracked.end() && it->second.generation == generation) {
    it->second.machine.scan_done(index, std::move(verdict));
    advance(id);
  }
  free_slot(id);
}

void ReleasePipeline::free_slot(const std::string& id) {
  KITH_ASSERT_ON(m_strand);
  // A slot is free: other downloads may be waiting for it.
  std::vector<std::string> others;
  for (const auto& [other, t] : m_tracked)
    if (other != id) others.push_back(other);
  for (const auto& other : others) {
    if (m_scans >= m_deps.max_scans) break;
    advance(other);
  }
}

void ReleasePipeline::publish_view(const std::string& id, const Tracked& t) {
  ReleaseView v;
  v.phase = t.machine.phase();
  std::tie(v.scan_done, v.scan_total) = t.machine.scan_progress();
  v.scanning = t.machine.running_scans() > 0;
  v.error = t.error;
  m_deps.transfers.set_release(id, v);
}

void ReleasePipeline::hold(const std::string& id, Tracked& t, std::string why) {
  KITH_ASSERT_ON(m_strand);
  const bool changed = t.error != why;
  t.error = std::move(why);
  publish_view(id, t);
  if (changed) {
    spdlog::error("{}: {}", id, t.error);
    emit(event::TransferError{id, t.error, false, false});
  }
}

void ReleasePipeline::release(const std::string& id, Tracked& t) {
  KITH_ASSERT_ON(m_strand);
  const auto decision = t.machine.decision();
  if (!t.from_quarantine) {
    emit(event::TransferScanned{id, decision});
    spdlog::info("{}: scanned clean ({} bytes{})", id, decision.bytes_scanned,
                 decision.runnable.empty() ? "" : ", can run code: " + decision.runnable.front());
  }
  t.machine.moving(false);
  publish_view(id, t);
  const auto from =
      t.from_quarantine && !t.save_path.empty() ? t.save_path : (m_deps.home.staging_dir() / id).string();
  m_deps.transfers.detach(
      id, base::post_to(
              m_strand,
              base::Done<Result<std::vector<std::uint8_t>>>([this, id,
                                                             from](Result<std::vector<std::uint8_t>> resume) {
                auto it = m_tracked.find(id);
                if (it == m_tracked.end()) return;
                if (!resume) {
                  it->second.machine.move_failed();
                  hold(id, it->second,
                       "could not take it out of the session to move it: " + resume.error().message);
                  return;
                }
                std::vector<std::string> files;
                for (const auto& f : it->second.machine.files()) files.push_back(f.path);
                const auto to = it->second.record.destination;
                boost::asio::post(m_deps.workers, [this, id, from, to, files,
                                                   resume = std::move(*resume)]() mutable {
                  auto moved = base::ensure_dir(to);
                  if (moved) moved = move_files(from, to, files);
                  boost::asio::post(m_strand, [this, id, from, moved, resume = std::move(resume)]() mutable {
                    if (moved)
                      released(id, from, std::move(resume));
                    else
                      release_failed(id, from, std::move(resume), moved.error());
                  });
                });
              })));
}

void ReleasePipeline::release_failed(const std::string& id, const std::string& from,
                                     std::vector<std::uint8_t> resume, const Error& why) {
  KITH_ASSERT_ON(m_strand);
  auto it = m_tracked.find(id);
  if (it == m_tracked.end()) return;
  auto& t = it->second;
  const bool from_quarantine = t.from_quarantine;
  const auto message =
      "could not move the finished download into place: " + why.message +
      (from_quarantine ? "" : " (free the name or space there, then `kith resume " + id.substr(0, 8) + "`)");
  if (from_quarantine) {
    t.machine = ReleaseMachine(ReleasePhase::quarantined);
    t.from_quarantine = false;
  } else {
    t.machine.move_failed();
  }
  // Back into libtorrent where the data still is (a quarantined one stays paused).
  m_deps.transfers.reattach(id, std::move(resume), from, from_quarantine, false, [id](Status r) {
    if (!r) spdlog::error("{}: could not put it back into the session: {}", id, r.error().message);
  });
  if (t.release_done) {
    auto done = std::move(t.release_done);
    t.release_done = nullptr;
    done(fail(why.code, message));
  }
  hold(id, t, message);
}

void ReleasePipeline::released(const std::string& id, const std::string& from,
                               std::vector<std::uint8_t> resume) {
  KITH_ASSERT_ON(m_strand);
  auto it = m_tracked.find(id);
  if (it == m_tracked.end()) return;
  auto& t = it->second;
  const auto name = t.record.name;
  const auto destination = t.record.destination;
  auto runnable = runnable_json(t.machine.decision().runnable);
  if (t.from_quarantine) {
    // Released by the user: what the scan said about runnable files is in the quarantine record.
    if (auto q = m_deps.quarantine.get(id); q && *q) {
      auto details = nlohmann::json::parse((*q)->details, nullptr, false);
      if (details.is_object() && details.contains("runnable") && details["runnable"].is_array())
        runnable = details["runnable"].dump();
    }
  }
  // The pieces shared with unwanted files stayed behind (in the .parts file): never serve them.
  auto trimmed = swarm::drop_partial_pieces(resume);
  if (!trimmed) spdlog::error("{}: {}", id, trimmed.error().message);
  m_deps.transfers.reattach(
      id, trimmed ? std::move(*trimmed) : std::move(resume), destination, false, true, [id](Status r) {
        if (!r) spdlog::error("{}: could not put it back into the session: {}", id, r.error().message);
      });
  m_deps.transfers.mark_released(id, runnable, [id](Status r) {
    // The data is in its destination either way; removing the transfer never deletes data outside
    // staging and quarantine, so a record that still says "not released" cannot hurt it.
    if (!r) spdlog::error("{}: cannot record the release: {}", id, r.error().message);
  });
  drop_marker(scan_marker(id));
  drop_marker(early_marker(id));
  // What is left in staging (or quarantine): the .parts file, empty folders.
  boost::asio::post(m_deps.workers, [from] {
    std::error_code ec;
    fs::remove_all(from, ec);
  });
  t.machine.moved();
  publish_view(id, t);
  const auto path = (fs::path(destination) / name).string();
  if (t.from_quarantine) {
    m_held.erase(id);
    if (auto r = m_deps.quarantine.resolve(id, "released", base::unix_seconds()); !r)
      spdlog::error("{}: cannot record the release from quarantine: {}", id, r.error().message);
    spdlog::warn("{}: released from quarantine by the user to {}", id, path);
    emit(event::QuarantineReleased{id, path});
  } else {
    spdlog::info("{}: released to {}", id, path);
  }
  emit(event::TransferCompleted{id, name, path});
  auto done = std::move(t.release_done);
  m_tracked.erase(it);
  if (done) done(Status{});
}

void ReleasePipeline::quarantine(const std::string& id, Tracked& t) {
  KITH_ASSERT_ON(m_strand);
  const auto d = t.forced ? *t.forced : t.machine.decision();
  emit(event::TransferScanned{id, d});
  t.machine.moving(true);
  publish_view(id, t);
  store::QuarantineRecord q;
  q.id = id;
  q.name = t.record.name;
  q.source = t.record.source;
  q.destination = t.record.destination;
  q.outcome = safety::to_string(d.outcome);
  q.signature = d.signature;
  q.reason = d.reason;
  q.details = safety::to_json(d).dump();
  q.peers = peers_json(m_deps.swarm.sources(id)).dump();
  q.quarantined_at = base::unix_seconds();
  // Until the record is stored, the scanning marker stays: a crash now quarantines it again at start.
  const bool recorded = m_deps.quarantine.put(q).has_value();
  if (!recorded)
    spdlog::error("{}: cannot record the quarantine; it stays held and is recorded at the next start", id);
  m_held.insert(id);
  spdlog::warn("{}: quarantined ({}): {}", id, q.outcome, q.reason);
  emit(event::QuarantineAdded{q});
  m_deps.transfers.set_runnable(id, runnable_json(d.runnable), [id](Status r) {
    if (!r) spdlog::warn("{}: cannot store what can run code: {}", id, r.error().message);
  });
  if (t.early_marker) {
    drop_marker(early_marker(id));
    t.early_marker = false;
  }
  const auto staging = (m_deps.home.staging_dir() / id).string();
  const auto folder = (m_deps.home.quarantine_dir() / id).string();
  m_deps.transfers.detach(
      id,
      base::post_to(
          m_strand,
          base::Done<Result<std::vector<std::uint8_t>>>([this, id, staging, folder,
                                                         recorded](Result<std::vector<std::uint8_t>> resume) {
            auto finish = [this, id, recorded] {
              auto it = m_tracked.find(id);
              if (it == m_tracked.end()) return;
              it->second.machine.moved();
              it->second.forced.reset();
              if (recorded) drop_marker(scan_marker(id));
              publish_view(id, it->second);
            };
            if (!resume) {
              // Still in the session: at least it must not seed what it holds.
              if (auto r = m_deps.swarm.pause(id); !r)
                spdlog::error("{}: cannot pause it: {}", id, r.error().message);
              return finish();
            }
            boost::asio::post(m_deps.workers, [this, id, staging, folder, finish,
                                               resume = std::move(*resume)]() mutable {
              std::error_code ec;
              fs::create_directories(fs::path(folder).parent_path(), ec);
              fs::rename(staging, folder, ec);
              // A failed move leaves it in staging: equally out of the user's way.
              const auto where = ec ? staging : folder;
              if (ec) spdlog::error("{}: could not move it into the quarantine folder: {}", id, ec.message());
              boost::asio::post(m_strand, [this, id, where, finish, resume = std::move(resume)]() mutable {
                m_deps.transfers.reattach(id, std::move(resume), where, true, false, [id](Status r) {
                  if (!r) spdlog::error("{}: could not put it back: {}", id, r.error().message);
                });
                finish();
              });
            });
          })));
}

Result<std::string> ReleasePipeline::resolve(const std::string& prefix) {
  auto all = m_deps.quarantine.list();
  if (!all) return tl::unexpected(all.error());
  std::string found;
  for (const auto& q : *all) {
    if (q.id.rfind(prefix, 0) != 0) continue;
    if (!found.empty())
      return tl::unexpected(
          unknown_item("'" + prefix + "' matches several quarantine items; give more digits"));
    found = q.id;
  }
  if (found.empty() || prefix.empty())
    return tl::unexpected(
        unknown_item("no quarantine item '" + prefix + "' (see `kith quarantine list --all`)"));
  return found;
}

void ReleasePipeline::resolve_quarantine(std::string id, base::Done<Result<store::QuarantineRecord>> done) {
  boost::asio::post(m_strand, [this, id = std::move(id), done = std::move(done)] {
    auto full = resolve(id);
    if (!full) return done(tl::unexpected(full.error()));
    auto q = m_deps.quarantine.get(*full);
    if (!q) return done(tl::unexpected(q.error()));
    if (!*q) return done(tl::unexpected(unknown_item("no quarantine item '" + id + "'")));
    done(**q);
  });
}

void ReleasePipeline::quarantine_list(bool include_resolved,
                                      base::Done<Result<std::vector<QuarantineItem>>> done) {
  boost::asio::post(m_strand, [this, include_resolved, done = std::move(done)] {
    auto items = m_deps.quarantine.list(include_resolved ? "" : "held");
    if (!items) return done(tl::unexpected(items.error()));
    std::vector<QuarantineItem> out;
    for (auto& q : *items) out.push_back({std::move(q), {}});
    done(std::move(out));
  });
}

void ReleasePipeline::quarantine_show(std::string id, base::Done<Result<QuarantineItem>> done) {
  boost::asio::post(m_strand, [this, id = std::move(id), done = std::move(done)] {
    auto full = resolve(id);
    if (!full) return done(tl::unexpected(full.error()));
    auto q = m_deps.quarantine.get(*full);
    if (!q) return done(tl::unexpected(q.error()));
    if (!*q) return done(tl::unexpected(unknown_item("no quarantine item '" + id + "'")));
    QuarantineItem item{**q, {}};
    if (auto st = m_deps.swarm.status(*full)) item.location = st->save_path;
    done(std::move(item));
  });
}

void ReleasePipeline::quarantine_release(std::string id, base::Done<Status> done) {
  release_from_quarantine(std::move(id), std::move(done), 0);
}

void ReleasePipeline::release_from_quarantine(std::string id, base::Done<Status> done, int tries) {
  boost::asio::post(m_strand, [this, id = std::move(id), done = std::move(done), tries]() mutable {
    auto full = resolve(id);
    if (!full) return done(tl::unexpected(full.error()));
    const auto short_id = full->substr(0, 8);
    if (!m_held.count(*full))
      return done(tl::unexpected(
          unknown_item("quarantine item " + short_id + " is no longer held (released or deleted)")));
    auto it = m_tracked.find(*full);
    auto st = m_deps.swarm.status(*full);
    if (it == m_tracked.end() || !st)
      return done(fail(base::make_error_code(base::errc::not_found),
                       "the data of " + short_id + " is gone (the transfer was removed)"));
    // Just restored (a transient node, a restart), libtorrent may still be checking the data it
    // has: its figures read 0 bytes until then. Wait for the check (10 s at most) before judging.
    if (st->state == "checking" && tries < 40) {
      auto timer = std::make_shared<boost::asio::steady_timer>(m_strand, std::chrono::milliseconds(250));
      timer->async_wait(
          [this, timer, id = *full, done = std::move(done), tries](boost::system::error_code) mutable {
            release_from_quarantine(std::move(id), std::move(done), tries + 1);
          });
      return;
    }
    auto& t = it->second;
    if (t.machine.phase() != ReleasePhase::quarantined)
      return done(fail(base::make_error_code(base::errc::unavailable),
                       "quarantine item " + short_id + " is being moved; try again in a moment"));
    if (st->total_done < st->total_wanted)
      return done(fail(base::make_error_code(base::errc::invalid_argument),
                       "quarantine item " + short_id + " was held back before it finished downloading (" +
                           std::to_string(st->total_done) + " of " + std::to_string(st->total_wanted) +
                           " bytes); it cannot be released. `kith quarantine delete " + short_id +
                           "` removes it"));
    // Its wanted files, as they are now (the move takes only those).
    auto files = m_deps.swarm.files(*full);
    if (!files) return done(tl::unexpected(files.error()));
    std::vector<WantedFile> wanted;
    for (const auto& f : *files)
      if (f.wanted) wanted.push_back({f.index, f.path, static_cast<std::uint64_t>(f.size), true});
    t.machine = ReleaseMachine(ReleasePhase::quarantined);
    t.machine.set_files(std::move(wanted));
    t.from_quarantine = true;
    t.save_path = st->save_path;
    t.release_done = std::move(done);
    spdlog::warn("{}: the user releases it from quarantine to {}", *full, t.record.destination);
    release(*full, t);
  });
}

void ReleasePipeline::quarantine_delete(std::string id, base::Done<Status> done) {
  boost::asio::post(m_strand, [this, id = std::move(id), done = std::move(done)]() mutable {
    auto full = resolve(id);
    if (!full) return done(tl::unexpected(full.error()));
    if (!m_held.count(*full))
      return done(tl::unexpected(unknown_item("quarantine item " + full->substr(0, 8) +
                                              " is no longer held (released or deleted)")));
    if (m_tracked.count(*full)) {
      // Deletes the data and the transfer; forget(deleted) resolves the record.
      return m_deps.transfers.remove(*full, true, std::move(done));
    }
    // The transfer itself is gone (it could not be restored): clear what is left.
    const auto folder = m_deps.home.quarantine_dir() / *full;
    boost::asio::post(m_deps.workers, [folder] {
      std::error_code ec;
      fs::remove_all(folder, ec);
    });
    m_held.erase(*full);
    if (auto r = m_deps.quarantine.resolve(*full, "deleted", base::unix_seconds()); !r) return done(r);
    emit(event::QuarantineDeleted{*full});
    done(Status{});
  });
}

}  // namespace kith::app
