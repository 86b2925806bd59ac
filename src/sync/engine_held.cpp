// Files the puller held back by the safety check (engine_pull.cpp, hold_file): each is a quarantine
// item `sync-<16 hex>` whose record's details carry the folder and the version held, and the folder does
// not fetch that version again. The user decides (docs/sync.md § Pulling, "Held back"):
//   release  the held copy goes into the folder as that version, exactly as a finished pull puts a file
//            there (place_file, then the index through store_placed), without a second scan: the user
//            judged it. Only while that version is still the folder's newest: once a newer version came,
//            that one is pulled and scanned as usual and the held copy can only be deleted. The copy is
//            checked block by block against the version as it is written to the temporary file (it sat
//            in a directory on disk since its pull checked it).
//   delete   the copy goes; the version stays held (the user said no to it), also after a restart.
// A release writes the folder, so it runs like a pull: queued in the folder, started by pull() when the
// folder is neither scanned nor pulled, and the next scan or pull waits for it.
#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

#include "base/clock.hpp"
#include "base/terminal.hpp"
#include "safety/errors.hpp"
#include "safety/runnable.hpp"
#include "sync/case_check.hpp"
#include "sync/engine.hpp"
#include "sync/errors.hpp"
#include "sync/file_ops.hpp"
#include "sync/version.hpp"

namespace kith::sync {
namespace asio = boost::asio;
namespace fs = std::filesystem;

// One release the user asked for, from its queue in the folder to its answer.
struct ReleaseJob {
  std::string id, folder, name;
  std::vector<store::SyncCounter> version;  // the version held back
  base::Done<Result<std::string>> done;     // the path the file is at now
  std::string root;
  Versioning versioning;
  Need need;                  // the held version, as a pull would put it in place
  bool already_here = false;  // the folder has that version already (placed before a crash)
  std::string runnable;       // why the file can run code, else "" (flagged as pulls flag it)
  bool check_case = false;    // the folder is on a case-insensitive file system (case_check.hpp)
};

namespace {

// What a sync item's quarantine record says of the file it holds back.
struct HeldRecord {
  std::string folder, name, state;
  std::vector<store::SyncCounter> version;
};

std::optional<HeldRecord> held_record(const store::QuarantineRecord& rec) {
  if (rec.id.rfind("sync-", 0) != 0) return std::nullopt;
  auto details = nlohmann::json::parse(rec.details, nullptr, false);
  if (!details.is_object() || !details.contains("sync_folder") || !details["sync_folder"].is_string())
    return std::nullopt;
  HeldRecord out{details["sync_folder"].get<std::string>(), rec.name, rec.state, {}};
  const auto version = details.value("sync_version", nlohmann::json::array());
  if (!version.is_array()) return std::nullopt;
  for (const auto& c : version)
    if (c.is_array() && c.size() == 2 && c[0].is_number_unsigned() && c[1].is_number_unsigned())
      out.version.push_back({c[0].get<std::uint64_t>(), c[1].get<std::uint64_t>()});
  return out;
}

Error not_releasable(const std::string& why) { return Error{make_error_code(errc::not_releasable), why}; }

Error no_longer_held(const std::string& id) {
  return Error{safety::make_error_code(safety::errc::unknown_item),
               "quarantine item " + id + " is no longer held (released or deleted)"};
}

// The held sync item `id` as its record says (on m_db).
Result<HeldRecord> read_held(store::QuarantineStore& quarantine, const std::string& id) {
  auto rec = quarantine.get(id);
  if (!rec) return tl::unexpected(rec.error());
  if (!*rec)
    return tl::unexpected(
        Error{safety::make_error_code(safety::errc::unknown_item), "no quarantine item '" + id + "'"});
  auto held = held_record(**rec);
  if (!held)
    return fail(base::make_error_code(base::errc::bad_input),
                "quarantine item " + id + " is not a file held back by folder sync");
  if (held->state != "held") return tl::unexpected(no_longer_held(id));
  return *held;
}

std::string delete_hint(const std::string& id) {
  return "`kith quarantine delete " + id + "` removes the held copy";
}

}  // namespace

void Engine::restore_held() {
  // Newest first: of several records for one name, the newest says which version stays held. A record
  // whose copy the user deleted keeps its version held too (the user said no to it), without an item.
  auto records = m_deps.quarantine.list();
  if (!records) return;
  for (const auto& rec : *records) {
    if (rec.state != "held" && rec.state != "deleted") continue;
    auto held = held_record(rec);
    if (!held) continue;
    auto f = m_folders.find(held->folder);
    if (f == m_folders.end()) continue;
    f->second.held.try_emplace(held->name, std::move(held->version));
    if (rec.state == "held") f->second.held_items.push_back(HeldItem{rec.name, rec.id, rec.reason});
  }
}

void Engine::release_held(const std::string& id, base::Done<Result<std::string>> done) {
  KITH_ASSERT_ON(m_strand);
  if (m_releasing.count(id))
    return done(fail(base::make_error_code(base::errc::unavailable),
                     "quarantine item " + id + " is being released already"));
  m_releasing.insert(id);  // from now on a delete of it waits for this answer
  asio::post(m_db, [this, id, done = std::move(done)]() mutable {
    auto held = read_held(m_deps.quarantine, id);
    asio::post(m_strand, [this, id, done = std::move(done), held = std::move(held)]() mutable {
      auto refuse = [&](Error e) {
        m_releasing.erase(id);
        done(tl::unexpected(std::move(e)));
      };
      if (!held) return refuse(held.error());
      auto it = m_folders.find(held->folder);
      if (it == m_folders.end())
        return refuse(not_releasable("the folder " + held->folder + " that " + held->name +
                                     " was held for is no longer synced here: nothing was placed. " +
                                     delete_hint(id)));
      Folder& f = it->second;
      const std::string safe_name = base::terminal_safe(held->name);
      if (f.record.type == "sendonly")
        return refuse(not_releasable("folder " + f.record.id +
                                     " is send-only now: it takes no file from other devices. " +
                                     delete_hint(id)));
      if (f.ignores->ignored(held->name))
        return refuse(not_releasable(held->name + " is ignored in folder " + f.record.id +
                                     " now (.stignore): nothing is put there. " + delete_hint(id)));
      auto job = std::make_shared<ReleaseJob>();
      job->id = id;
      job->folder = f.record.id;
      job->name = held->name;
      job->version = std::move(held->version);
      job->done = std::move(done);
      spdlog::warn(
          "sync: folder {}: {} (quarantine item {}): the user releases it from quarantine; it goes "
          "into the folder without a new scan",
          f.record.id, safe_name, id);
      f.releases.push_back(std::move(job));
      pull(f.record.id);  // starts it now, or once the scan or pull under way is over
    });
  });
}

void Engine::fail_releases(Folder& f, const Error& why) {
  auto releases = std::exchange(f.releases, {});
  for (auto& job : releases) {
    m_releasing.erase(job->id);
    job->done(tl::unexpected(why));
  }
}

void Engine::release_next(const std::string& folder) {
  Folder& f = m_folders.at(folder);
  auto job = std::move(f.releases.front());
  f.releases.pop_front();
  f.pulling = true;  // no scan and no pull round meanwhile: this writes the folder
  set_state(f, "syncing");
  job->root = f.record.path;
  job->versioning = f.record.versioning;
  job->check_case = f.case_insensitive;
  // However it ends: answered, the folder free again, and what waited for it runs.
  std::function<void(Result<std::string>)> finish = [this, job](Result<std::string> r) {
    m_releasing.erase(job->id);
    job->done(std::move(r));
    auto it = m_folders.find(job->folder);
    if (it == m_folders.end()) return;
    it->second.pulling = false;
    if (it->second.scan_again) {
      it->second.scan_again = false;
      scan(job->folder);
    } else {
      pull(job->folder);  // the next release, or a round (a newer version may have come meanwhile)
    }
  };
  auto fail_on_strand = [this, finish](Error e) {
    asio::post(m_strand, [finish, e = std::move(e)] { finish(tl::unexpected(e)); });
  };
  // On m_db: is the held version still the folder's newest of that name? The same planning as a pull's,
  // for this one name, from the indexes as they are now.
  asio::post(m_db, [this, job, devices = f.devices, receive_only = f.record.type == "receiveonly", finish,
                    fail_on_strand] {
    std::vector<store::SyncFile> local;
    std::map<std::string, std::vector<store::SyncFile>> remote;
    auto mine = m_deps.store.file(job->folder, "", job->name);
    if (!mine) return fail_on_strand(mine.error());
    if (*mine) local.push_back(std::move(**mine));
    for (const auto& d : devices) {
      auto theirs = m_deps.store.file(job->folder, d, job->name);
      if (!theirs) return fail_on_strand(theirs.error());
      if (*theirs) remote[d].push_back(std::move(**theirs));
    }
    if (!local.empty() && !local.front().deleted && local.front().type == 0 &&
        compare(local.front().version, job->version) == Ordering::equal) {
      // In place already: an earlier release placed it and stopped before the record was resolved.
      job->need.global = local.front();
      return asio::post(m_strand, [this, job, finish] { release_done(job, finish); });
    }
    auto global = compute_global(NeedInput{&local, &remote, receive_only, nullptr, {}});
    if (global.needs.size() != 1 || global.needs.front().global.type != 0 ||
        global.needs.front().global.deleted ||
        compare(global.needs.front().global.version, job->version) != Ordering::equal)
      return fail_on_strand(not_releasable(
          job->name +
          " changed since it was held: a newer version (or its deletion) is the folder's now, synced and "
          "scanned as usual. The held copy was not placed; " +
          delete_hint(job->id)));
    job->need = std::move(global.needs.front());
    // On a worker: the held copy into the temporary file (checked block by block), then in place.
    asio::post(m_deps.workers, [this, job, finish, fail_on_strand] {
      const fs::path held = m_deps.quarantine_dir / job->id / fs::path(job->name).filename();
      auto temp = temp_from_held(job->root, job->need.global, held);
      if (!temp) {
        const auto& e = temp.error();
        if (e.code == base::make_error_code(base::errc::bad_input))
          return fail_on_strand(not_releasable(e.message + ": it was changed on disk, so it is not placed. " +
                                               delete_hint(job->id)));
        return fail_on_strand(Error{e.code, e.message + " (nothing was placed)"});
      }
      job->runnable = safety::runnable_kind_named(job->name, *temp).value_or("");
      auto placed = unless_case_conflict(job->check_case, job->root, job->name, [&] {
        return place_file(job->root, job->need, *temp, m_short_id, job->versioning);
      });
      if (!placed) return fail_on_strand(placed.error());
      asio::post(m_db, [this, job, finish, rec = std::move(*placed)]() mutable {
        store_placed(job->folder, std::move(rec), [this, job, finish](Result<store::SyncFile> stored) {
          if (!stored) return finish(tl::unexpected(stored.error()));
          if (auto it = m_folders.find(job->folder); it != m_folders.end()) {
            // As a pull records a file it placed: a recent change, the event, peers told.
            const auto from = changed_by(job->need.global, job->need.sources);
            record_change(it->second, *stored, "updated", from, {}, job->runnable);
            emit(event::ItemChanged{job->folder, job->name, "updated", from, {}, job->runnable});
            if (job->need.conflict) it->second.scan_again = true;  // the losing copy is a new file here
            announce(job->folder);
          }
          release_done(job, finish);
        });
      });
    });
  });
}

void Engine::release_done(std::shared_ptr<ReleaseJob> job, std::function<void(Result<std::string>)> finish) {
  KITH_ASSERT_ON(m_strand);
  // Not held any more: the name is synced as any other from now on.
  if (auto it = m_folders.find(job->folder); it != m_folders.end()) {
    Folder& f = it->second;
    if (auto h = f.held.find(job->name);
        h != f.held.end() && compare(h->second, job->version) == Ordering::equal)
      f.held.erase(h);
    std::erase_if(f.held_items, [&](const HeldItem& i) { return i.quarantine_id == job->id; });
    emit(event::FolderChanged{view(f)});
  }
  const std::string path = (fs::path(job->root) / job->name).string();
  asio::post(m_db, [this, job, finish, path] {
    if (auto r = m_deps.quarantine.resolve(job->id, "released", base::unix_seconds()); !r)
      spdlog::error("sync: quarantine item {} is in its folder but cannot be recorded as released: {}",
                    job->id, r.error().message);
    asio::post(m_deps.workers, [this, job, finish, path] {
      std::error_code ec;
      fs::remove_all(m_deps.quarantine_dir / job->id, ec);
      asio::post(m_strand, [finish, path] { finish(path); });
    });
  });
}

void Engine::delete_held(const std::string& id, base::Done<Status> done) {
  KITH_ASSERT_ON(m_strand);
  if (m_releasing.count(id))
    return done(fail(base::make_error_code(base::errc::unavailable),
                     "quarantine item " + id + " is being released; it cannot be deleted meanwhile"));
  asio::post(m_db, [this, id, done = std::move(done)]() mutable {
    auto held = read_held(m_deps.quarantine, id);
    if (held)
      if (auto r = m_deps.quarantine.resolve(id, "deleted", base::unix_seconds()); !r)
        held = tl::unexpected(r.error());
    if (!held)
      return asio::post(m_strand,
                        [done = std::move(done), e = held.error()]() mutable { done(tl::unexpected(e)); });
    asio::post(m_deps.workers, [this, id, done = std::move(done), held = std::move(*held)]() mutable {
      std::error_code ec;
      fs::remove_all(m_deps.quarantine_dir / id, ec);
      asio::post(m_strand, [this, id, done = std::move(done), held = std::move(held)]() mutable {
        // The item goes from the folder's view; its version stays in `held` (restore_held keeps it
        // after a restart too): the user said no to that version.
        if (auto it = m_folders.find(held.folder); it != m_folders.end()) {
          std::erase_if(it->second.held_items, [&](const HeldItem& i) { return i.quarantine_id == id; });
          emit(event::FolderChanged{view(it->second)});
        }
        spdlog::info("sync: quarantine item {} ({}) deleted by the user", id, base::terminal_safe(held.name));
        done(Status{});
      });
    });
  });
}

}  // namespace kith::sync
