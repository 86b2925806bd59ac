// TransferService: adding downloads (get), hashing and adding shares (share), and restoring the
// stored transfers at start. Parsing and hashing run on the worker pool; libtorrent's adds on its own
// thread; everything else on the service's strand.
#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <cstdlib>
#include <filesystem>

#include "app/errors.hpp"
#include "app/release_pipeline.hpp"
#include "app/transfer_service.hpp"
#include "app/transfer_view.hpp"
#include "base/clock.hpp"
#include "base/fs.hpp"
#include "base/hex.hpp"
#include "crypto/random.hpp"
#include "identity/link_signature.hpp"
#include "swarm/source.hpp"

namespace kith::app {

std::filesystem::path TransferService::destination_for(const std::string& to) const {
  if (!to.empty()) return std::filesystem::absolute(to).lexically_normal();
  if (const auto dir = m_deps.settings.current()->get_string("download.dir"); !dir.empty())
    return std::filesystem::absolute(dir);
  if (const char* xdg = std::getenv("XDG_DOWNLOAD_DIR"); xdg && *xdg) return xdg;
  const char* home = std::getenv("HOME");
  return std::filesystem::path(home && *home ? home : ".") / "Downloads";
}

Result<std::string> TransferService::check_publisher(const std::string& link,
                                                     const swarm::Source& src) const {
  if (link.rfind("magnet:", 0) != 0) return std::string();  // .torrent files carry no signature
  auto sig = identity::parse_link_signature(link);
  if (!sig) return tl::unexpected(Error{swarm::make_error_code(swarm::errc::bad_link), sig.error().message});
  if (!*sig) {
    if (m_deps.settings.current()->get_bool("safety.require_signed")) {
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

swarm::AddOptions TransferService::ssl_options(const store::TransferRecord& rec) {
  swarm::AddOptions add{.only_glob = rec.only_glob,
                        .sequential = rec.sequential,
                        .paused = rec.paused,
                        .wanted_files = rec.wanted_files.value_or(std::vector<int>{}),
                        .has_wanted_files = rec.wanted_files.has_value(),
                        .whole_pieces_only = rec.kind == "get" && rec.released};
  // A file sent to or from a contact: its certificate, and the sender's address (without DHT or
  // tracker, never used for these, it is the only way back).
  auto offer = m_deps.offers.by_transfer(rec.id, rec.kind == "get" ? "in" : "out");
  if (!offer || !*offer) return add;
  add.ssl_cert = (*offer)->cert;
  add.ssl_key = (*offer)->key;
  auto peers = nlohmann::json::parse((*offer)->peers, nullptr, false);
  if (peers.is_array())
    for (const auto& p : peers)
      if (p.is_string()) add.peers.push_back(p.get<std::string>());
  return add;
}

void TransferService::get(GetRequest request, base::Done<Result<Added>> done) {
  // Reading and parsing a .torrent (up to 32 MiB) is slow work: the pool, then back here.
  boost::asio::post(m_deps.workers, [this, request = std::move(request), done = std::move(done)]() mutable {
    auto src = request.torrent_bytes.empty() ? swarm::parse_link_or_file(request.link)
                                             : swarm::parse_torrent(request.torrent_bytes);
    boost::asio::post(m_strand, [this, request = std::move(request), src = std::move(src),
                                 done = std::move(done)]() mutable {
      if (!src) return done(tl::unexpected(src.error()));
      add_download(std::move(request), std::move(*src), std::move(done));
    });
  });
}

void TransferService::add_download(GetRequest request, swarm::Source src, base::Done<Result<Added>> done) {
  KITH_ASSERT_ON(m_strand);
  if (m_deps.check_allowed)
    if (auto r = m_deps.check_allowed(src.hashes); !r) return done(tl::unexpected(r.error()));
  const auto id = src.hashes.id();
  auto signature = check_publisher(request.link, src);
  if (!signature) return done(tl::unexpected(signature.error()));
  // Asking again for something the node already has is not an error: show where it is.
  if (m_entries.count(id) && !m_adding.count(id)) {
    auto shown = detailed(id);
    if (!shown) return done(tl::unexpected(shown.error()));
    return done(Added{std::move(*shown), true});
  }
  if (m_adding.count(id))
    return done(fail(swarm::make_error_code(swarm::errc::duplicate), id + " is being added already"));
  auto destination = destination_for(request.to);
  // What the transfer came from, for `show` and as a fallback to restore from. Restores normally use
  // the resume data (saved right after the add, metadata included), not this.
  std::string source = !request.source_label.empty() ? request.source_label
                       : request.link.empty()        ? std::string("(torrent from API)")
                                                     : request.link;
  store::TransferRecord rec{.id = id,
                            .name = src.name.empty() ? id : src.name,
                            .kind = "get",
                            .source = source,
                            .destination = destination.string(),
                            .only_glob = request.only_glob,
                            .sequential = request.sequential,
                            .added_at = base::unix_seconds(),
                            .link_signature = *signature};
  auto staging = m_deps.home.staging_dir() / id;
  if (auto r = base::ensure_dir(staging, 0700); !r) return done(tl::unexpected(r.error()));
  // The record goes first, so that the resume data libtorrent sends right after the add finds it.
  if (auto r = m_deps.store.put(rec); !r) return done(tl::unexpected(r.error()));
  Entry entry;
  entry.record = rec;
  entry.status.id = id;
  entry.status.hashes = src.hashes;
  entry.status.name = rec.name;
  entry.status.state = src.has_metadata ? "checking" : "metadata";
  entry.status.save_path = staging.string();
  entry.release = ReleaseView{};
  m_entries[id] = std::move(entry);
  m_adding.insert(id);
  swarm::AddOptions options{.save_path = staging.string(),
                            .only_glob = request.only_glob,
                            .sequential = request.sequential,
                            .peers = request.peers,
                            .ssl_cert = request.ssl_cert,
                            .ssl_key = request.ssl_key};
  m_deps.swarm.add_async(
      src, options,
      base::post_to(
          m_strand, base::Done<Result<swarm::InfoHashes>>([this, id, staging, done = std::move(done)](
                                                              Result<swarm::InfoHashes> added) {
            m_adding.erase(id);
            auto it = m_entries.find(id);
            if (!added || it == m_entries.end()) {
              if (auto r = m_deps.store.remove(id); !r) spdlog::error("{}: {}", id, r.error().message);
              m_entries.erase(id);
              delete_unreleased_data(id);
              if (!added) return done(tl::unexpected(added.error()));
              return done(tl::unexpected(Error{swarm::make_error_code(swarm::errc::unknown_transfer),
                                               id + " was removed while it was being added"}));
            }
            it->second.attached = true;
            if (auto st = m_deps.swarm.status(id)) it->second.status = *st;
            emit(event::TransferAdded{id, it->second.record.name, "get"});
            if (m_pipeline) m_pipeline->track(it->second.record);
            auto shown = detailed(id);
            if (!shown) return done(tl::unexpected(shown.error()));
            done(Added{std::move(*shown), false});
          })));
}

void TransferService::share(ShareRequest request, base::Done<Result<Transfer>> done) {
  boost::asio::post(m_strand, [this, request = std::move(request), done = std::move(done)]() mutable {
    std::error_code ec;
    auto path = std::filesystem::absolute(request.path, ec).lexically_normal();
    if (!path.has_filename()) path = path.parent_path();
    if (ec || !std::filesystem::exists(path, ec))
      return done(fail(make_error_code(errc::bad_path), request.path + " does not exist"));
    HashJob job;
    const auto random = crypto::random_bytes(8);
    job.id = "h-" + base::to_hex(random);
    job.path = path.string();
    job.name = path.filename().string();
    job.started = std::chrono::steady_clock::now();
    job.done = std::make_shared<std::atomic<std::uint64_t>>(0);
    job.total = std::make_shared<std::atomic<std::uint64_t>>(0);
    job.cancel = std::make_shared<std::atomic<bool>>(m_stopped);
    m_jobs[job.id] = job;
    emit(event::TransferAdded{job.id, job.name, "share"});
    done(job_view(job));
    run_hash_job(std::move(job), std::move(request));
  });
}

void TransferService::run_hash_job(HashJob job, ShareRequest request) {
  boost::asio::post(m_deps.workers, [this, job = std::move(job), request = std::move(request)]() mutable {
    swarm::MakeProgress progress;
    progress.cancel = job.cancel.get();
    progress.on_progress = [done = job.done, total = job.total](std::uint64_t d, std::uint64_t t) {
      done->store(d);
      total->store(t);
    };
    auto made = swarm::make_torrent(job.path,
                                    {.format = request.format,
                                     .trackers = request.trackers,
                                     .comment = request.comment,
                                     .root_cert = request.root_cert,
                                     .max_pieces = request.max_pieces},
                                    progress);
    boost::asio::post(m_strand, [this, job = std::move(job), request = std::move(request),
                                 made = std::move(made)]() mutable {
      hashed(std::move(job), std::move(request), std::move(made));
    });
  });
}

void TransferService::hashed(HashJob job, ShareRequest request, Result<swarm::MadeTorrent> made) {
  KITH_ASSERT_ON(m_strand);
  // The job stays listed (as "hashing") until the transfer it became is in libtorrent, so whoever
  // follows it by its id sees it go straight from hashing to the transfer, or to the error.
  auto finish = [&](Result<Transfer> r) {
    m_jobs.erase(job.id);
    if (r)
      m_job_outcome[job.id] = r->status.id;
    else
      m_job_outcome[job.id] = tl::unexpected(r.error());
    if (request.on_hashed) request.on_hashed(std::move(r));
  };
  if (made && m_deps.check_allowed)
    if (auto r = m_deps.check_allowed(made->source.hashes); !r) made = tl::unexpected(r.error());
  if (!made) {
    if (made.error().code == swarm::make_error_code(swarm::errc::cancelled)) {
      spdlog::info("{}: hashing {} cancelled", job.id, job.path);
      emit(event::TransferRemoved{job.id});
    } else {
      spdlog::error("{}: {}", job.id, made.error().message);
      emit(event::TransferError{job.id, made.error().message, false, false});
    }
    return finish(tl::unexpected(made.error()));
  }
  const auto id = made->source.hashes.id();
  std::string signature;
  if (request.sign)
    signature = identity::signature_params(m_deps.user_key, made->source.hashes.v1, made->source.hashes.v2);
  if (auto it = m_entries.find(id); it != m_entries.end() && !m_adding.count(id)) {
    // Sharing the same data again returns the existing transfer (and signs it, if asked).
    if (request.sign && it->second.record.link_signature != signature) {
      it->second.record.link_signature = signature;
      if (auto r = m_deps.store.put(it->second.record); !r) return finish(tl::unexpected(r.error()));
    }
    emit(event::TransferHashed{job.id, id});
    return finish(detailed(id));
  }
  const auto parent = std::filesystem::path(job.path).parent_path().string();
  store::TransferRecord rec{.id = id,
                            .name = made->source.name,
                            .kind = "share",
                            .source = job.path,
                            .destination = parent,
                            .released = true,
                            .added_at = base::unix_seconds(),
                            .completed_at = base::unix_seconds(),
                            .link_signature = signature};
  if (auto r = m_deps.store.put(rec); !r) {
    emit(event::TransferError{job.id, r.error().message, false, false});
    return finish(tl::unexpected(r.error()));
  }
  Entry entry;
  entry.record = rec;
  entry.status.id = id;
  entry.status.hashes = made->source.hashes;
  entry.status.name = rec.name;
  entry.status.state = "checking";
  entry.status.save_path = parent;
  m_entries[id] = std::move(entry);
  m_adding.insert(id);
  swarm::AddOptions options{
      .save_path = parent, .seed_mode = true, .ssl_cert = request.ssl_cert, .ssl_key = request.ssl_key};
  m_deps.swarm.add_async(
      made->source, options,
      base::post_to(m_strand, base::Done<Result<swarm::InfoHashes>>(
                                  [this, id, job = std::move(job),
                                   request = std::move(request)](Result<swarm::InfoHashes> added) mutable {
                                    m_adding.erase(id);
                                    auto it = m_entries.find(id);
                                    if (!added || it == m_entries.end()) {
                                      if (auto r = m_deps.store.remove(id); !r)
                                        spdlog::error("{}: {}", id, r.error().message);
                                      m_entries.erase(id);
                                      Error e =
                                          added ? Error{swarm::make_error_code(swarm::errc::unknown_transfer),
                                                        id + " was removed while it was being added"}
                                                : added.error();
                                      emit(event::TransferError{job.id, e.message, false, false});
                                      m_jobs.erase(job.id);
                                      m_job_outcome[job.id] = tl::unexpected(e);
                                      if (request.on_hashed) request.on_hashed(tl::unexpected(e));
                                      return;
                                    }
                                    it->second.attached = true;
                                    if (auto st = m_deps.swarm.status(id)) it->second.status = *st;
                                    m_jobs.erase(job.id);
                                    m_job_outcome[job.id] = id;
                                    emit(event::TransferAdded{id, it->second.record.name, "share"});
                                    emit(event::TransferHashed{job.id, id});
                                    if (request.on_hashed) request.on_hashed(detailed(id));
                                  })));
}

void TransferService::restore_all(base::Done<Status> done) {
  KITH_ASSERT_ON(m_strand);
  auto records = m_deps.store.list();
  if (!records) return done(tl::unexpected(records.error()));
  auto left = std::make_shared<std::size_t>(records->size());
  auto finished = std::make_shared<base::Done<Status>>(std::move(done));
  if (records->empty()) return (*finished)(Status{});
  for (auto& rec : *records) {
    auto options = ssl_options(rec);
    Entry entry;
    entry.record = rec;
    entry.status.id = rec.id;
    entry.status.name = rec.name;
    entry.status.state = "checking";
    if (rec.kind == "get" && !rec.released) entry.release = ReleaseView{};
    const auto id = rec.id;
    m_entries[id] = std::move(entry);
    m_adding.insert(id);
    auto answer = base::post_to(
        m_strand,
        base::Done<Result<swarm::InfoHashes>>([this, id, left, finished](Result<swarm::InfoHashes> added) {
          m_adding.erase(id);
          auto it = m_entries.find(id);
          if (!added) {
            spdlog::error("cannot restore transfer {}: {}", id, added.error().message);
            m_entries.erase(id);
          } else if (it != m_entries.end()) {
            it->second.attached = true;
            if (auto st = m_deps.swarm.status(id)) it->second.status = *st;
            if (m_pipeline && it->second.record.kind == "get" && !it->second.record.released)
              m_pipeline->track(it->second.record);
          }
          if (--*left == 0) (*finished)(Status{});
        }));
    if (!rec.resume.empty()) {
      options.resume = rec.resume;
      auto hints =
          rec.source.rfind("magnet:", 0) == 0 ? swarm::parse_magnet(rec.source) : Result<swarm::Source>{};
      m_deps.swarm.restore_async(options, hints && hints->data ? &*hints : nullptr, std::move(answer));
      continue;
    }
    // Killed before the first resume save: start over from the link (pieces already in staging are
    // found again by libtorrent's check of the files).
    auto src = swarm::parse_link_or_file(rec.source);
    if (!src) {
      answer(tl::unexpected(src.error()));
      continue;
    }
    options.save_path = rec.kind == "get" ? (m_deps.home.staging_dir() / rec.id).string() : rec.destination;
    m_deps.swarm.add_async(*src, options, std::move(answer));
  }
}

}  // namespace kith::app
