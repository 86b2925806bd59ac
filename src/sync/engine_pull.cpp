// The engine's pulling half: what the global state says this node needs is fetched, checked and put in
// place, one file at a time per slot (docs/sync.md § Pulling). A file's blocks are copied from local
// files that hold the same hash (renames and moves cost no transfer) or requested from devices that
// have exactly the global version, or that say their temporary file has that block of it (DownloadProgress,
// source_pick.hpp); each block's SHA-256 is checked before it is written to a temporary
// file beside the target. The complete temporary file is scanned for malware; only a clean verdict
// renames it into place. Anything else moves it to the quarantine, and that version is not fetched again.
// A file is started only when the folder's file system has room for it (docs/sync.md § A full disk).
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <cstring>
#include <deque>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "base/clock.hpp"
#include "base/hex.hpp"
#include "base/terminal.hpp"
#include "crypto/hash.hpp"
#include "crypto/random.hpp"
#include "safety/runnable.hpp"
#include "sync/case_check.hpp"
#include "sync/disk_space.hpp"
#include "sync/engine.hpp"
#include "sync/errors.hpp"
#include "sync/file_ops.hpp"
#include "sync/names.hpp"
#include "sync/version.hpp"

namespace kith::sync {
namespace asio = boost::asio;
namespace fs = std::filesystem;

namespace {
constexpr int FILES_AT_ONCE = 8;                      // files being pulled at once per folder
constexpr std::size_t MAX_PULL_ERRORS = 1000;         // failed items a folder lists (its view stays small)
constexpr int FIRST_RETRY_S = 10, MAX_RETRY_S = 600;  // after a pull round in which items only failed
constexpr std::size_t BLOCKS_AT_ONCE = 16;            // block requests in flight per file

// What a file's pull ends with when the safety check held it back: not a failure to retry.
const Error HELD_BACK{base::make_error_code(base::errc::not_found), "held back by the safety check"};
bool held_back(const Error& e) { return e.code == HELD_BACK.code && e.message == HELD_BACK.message; }

// The block list of the file `need` says to put in place, which planning did not read: this node's own
// entry's when the content is the same here (a metadata-only change), else that of a device whose index
// has exactly the global version. Fails when none has it any more (an index changed since the round was
// planned): the next round plans again.
Result<std::vector<store::SyncBlock>> load_blocks(store::SyncStore& store, const std::string& folder,
                                                  const Need& need) {
  const store::SyncFile& g = need.global;
  std::vector<std::string> from;
  if (need.metadata_only)
    from.push_back("");
  else
    from = need.sources;
  for (const auto& device : from) {
    auto f = store.file(folder, device, g.name);
    if (!f) return tl::unexpected(f.error());
    if (!*f || (*f)->deleted || (*f)->invalid || (*f)->type != 0 || (*f)->size != g.size ||
        (*f)->blocks_hash != g.blocks_hash)
      continue;
    if (!device.empty() && compare((*f)->version, g.version) != Ordering::equal) continue;
    return std::move((*f)->blocks);
  }
  return fail(base::make_error_code(base::errc::unavailable),
              g.name + ": its index entry changed since this round was planned (planned again next round)");
}
// What a file's pull ends with when the disk was full before it began: neither done nor failed.
const Error NOT_STARTED{base::make_error_code(base::errc::unavailable), "not started: the disk is full"};
bool not_started(const Error& e) { return e.code == NOT_STARTED.code && e.message == NOT_STARTED.message; }
bool is_disk_full(const Error& e) { return e.code == make_error_code(errc::disk_full); }

// Items that write file data (the others need next to no room: deletions even make some).
bool writes_data(const Need& n) {
  return !(n.global.deleted || n.global.type != 0 || n.metadata_only || n.global.size == 0);
}

std::string mib(std::uint64_t bytes) { return std::to_string(bytes / (1024 * 1024)); }
}  // namespace

struct Engine::Pull {
  std::deque<Need> queue;
  int running = 0;
  int failed = 0;
  int done = 0;
  std::vector<PullError> errors;  // the first MAX_PULL_ERRORS failures, for the folder's view
  // Bytes the files being pulled still have to write: a file is started only if the free space less
  // this holds it (so eight files started at once do not each count the same free space).
  std::int64_t reserved = 0;
};

// One file's fetch: which blocks are still missing and where the bytes go.
struct FileJob {
  std::string folder, root;
  Versioning versioning;  // the folder's, as the pull started
  Need need;
  fs::path temp;  // absolute
  std::vector<store::SyncBlock> missing;
  std::size_t next = 0, in_flight = 0, written = 0;
  std::string error;
  bool disk_full = false;   // a write failed with ENOSPC or EDQUOT
  std::string runnable;     // the scan's judgement: why the file can run code, else ""
  bool check_case = false;  // the folder is on a case-insensitive file system (case_check.hpp)
  int fd = -1;
  std::shared_ptr<Engine::Pull> pull;
  std::int64_t reserved = 0;  // this file's share of pull->reserved
  // What its temporary file holds (each block checked by SHA-256 as it got there), for DownloadProgress
  // and Requests with from_temporary: by index into need.global.blocks, and the indexes in the order
  // they came (what devices are told, only ever appended to).
  std::uint64_t serial = 0;
  std::vector<bool> have;
  std::vector<std::int32_t> available;
  // Devices whose temporary file failed a block of this file (an error, the wrong bytes): not asked for
  // its temporary blocks again in this pull. And how many blocks came from temporary files (logged).
  std::set<std::string> temp_refused;
  std::size_t from_temporary = 0;
  ~FileJob() {
    if (fd >= 0) ::close(fd);
  }
};

namespace {
// The index of `block` in the file's block list (blocks follow each other: found by offset).
std::optional<std::size_t> block_index(const std::vector<store::SyncBlock>& blocks, std::int64_t offset) {
  auto it = std::lower_bound(blocks.begin(), blocks.end(), offset,
                             [](const store::SyncBlock& b, std::int64_t o) { return b.offset < o; });
  if (it == blocks.end() || it->offset != offset) return std::nullopt;
  return static_cast<std::size_t>(it - blocks.begin());
}

void now_in_temp(FileJob& job, std::size_t index) {
  if (index >= job.have.size() || job.have[index]) return;
  job.have[index] = true;
  job.available.push_back(static_cast<std::int32_t>(index));
}

// What the file still has to write is now `bytes` (on the strand).
void reserve(FileJob& job, std::int64_t bytes) {
  bytes = std::max<std::int64_t>(bytes, 0);
  if (job.pull) job.pull->reserved += bytes - job.reserved;
  job.reserved = bytes;
}
}  // namespace

void Engine::pull(const std::string& folder) {
  auto it = m_folders.find(folder);
  if (it == m_folders.end() || m_stopped) return;
  Folder& f = it->second;
  if (f.record.paused || f.state == "error" || f.disk_full) {  // a full disk: check_disk pulls again
    // The user's releases of held files cannot wait for that: they are answered, saying why.
    if (!f.releases.empty())
      fail_releases(f, Error{make_error_code(errc::not_releasable),
                             "folder " + folder + " takes no files now (" +
                                 (f.record.paused   ? "paused: `kith sync resume " + folder + "`"
                                  : f.error.empty() ? std::string("its disk is full")
                                                    : f.error) +
                                 "); release the file again once it does"});
    return;
  }
  if (f.scanning || f.pulling) {
    f.pull_again = true;
    return;
  }
  if (!f.releases.empty()) return release_next(folder);  // the user's releases first (engine_held.cpp)
  f.pulling = true;
  f.pull_again = false;
  auto held = std::make_shared<std::map<std::string, std::vector<store::SyncCounter>>>(f.held);
  asio::post(m_db, [this, folder, devices = f.devices, type = f.record.type, held, root = f.record.path] {
    // .stignore again, as Syncthing loads it before each pull: a name ignored since the last scan is
    // not pulled, and an unusable file stops the pull (never "ignore nothing").
    auto loaded = load_ignores(root);
    if (!loaded)
      return asio::post(m_strand, [this, folder, e = loaded.error()] {
        auto it = m_folders.find(folder);
        if (it == m_folders.end()) return;
        it->second.pulling = false;
        ignores_failed(it->second, e);
        if (it->second.scan_again) {  // asked for during the attempt
          it->second.scan_again = false;
          scan(folder);
        }
      });
    auto ignores = std::make_shared<const Ignores>(std::move(*loaded));
    // Names, versions and metadata only: a file's block list is read when its pull starts (pull_next),
    // so planning's memory goes with the number of entries, not the size of the files.
    auto local = m_deps.store.files(folder, "", store::Blocks::without);
    std::map<std::string, std::vector<store::SyncFile>> remote;
    for (const auto& d : devices)
      if (auto r = m_deps.store.files(folder, d, store::Blocks::without)) remote[d] = std::move(*r);
    GlobalState global;
    std::int64_t files = 0, bytes = 0, sequence = 0;
    if (local) {
      NeedInput in{&*local, &remote, type == "receiveonly", held.get(), {}};
      if (!ignores->empty())
        in.ignored = [ignores](const std::string& name) { return ignores->ignored(name); };
      global = compute_global(in);
      for (const auto& l : *local) {
        sequence = std::max(sequence, l.sequence);
        if (l.deleted || l.type == 1) continue;  // files and symlinks, as global_files counts them
        ++files;
        bytes += l.size;
      }
    }
    if (type == "sendonly") global.needs.clear();  // a send-only folder never takes others' changes
    asio::post(m_strand,
               [this, folder, global = std::move(global), files, bytes, sequence, ignores]() mutable {
                 auto it = m_folders.find(folder);
                 if (it == m_folders.end()) return;
                 it->second.ignores = ignores;  // what deletions of directories go by
                 it->second.local_files = files;
                 it->second.local_bytes = bytes;
                 it->second.sequence = sequence;
                 planned(folder, std::move(global));
               });
  });
}

void Engine::planned(const std::string& folder, GlobalState global) {
  auto found = m_folders.find(folder);
  if (found == m_folders.end()) return;  // removed meanwhile
  Folder& f = found->second;
  // Only names some connected device can give us now (the rest wait for a connection and a new plan).
  auto pull = std::make_shared<Pull>();
  // A name below something this round turns into a file, a symlink or nothing waits for the next
  // round: items run in parallel, and a file must never be created under a path that is at the same
  // moment becoming a symlink (it would be written through it, out of the folder).
  std::set<std::string> not_dirs;
  for (const auto& n : global.needs)
    if (n.global.deleted || n.global.type != 1) not_dirs.insert(n.global.name);
  auto below_changing = [&](const std::string& name) {
    for (auto slash = name.rfind('/'); slash != std::string::npos && slash > 0;
         slash = name.rfind('/', slash - 1))
      if (not_dirs.count(name.substr(0, slash))) return true;
    return false;
  };
  for (auto& n : global.needs) {
    if (!n.global.deleted && below_changing(n.global.name)) continue;  // deleting below is safe
    const bool local_only = n.global.deleted || n.global.type != 0 || n.metadata_only || n.global.size == 0;
    bool reachable = local_only;
    for (const auto& s : n.sources) {
      auto d = m_devices.find(s);
      if (d != m_devices.end() && d->second.conn) reachable = true;
    }
    // Or a device pulling that very version has some of it in its temporary file: a start (the rest may
    // come from it later, or from another).
    if (!reachable && !temp_holders(folder, n.global.name, n.global.version).empty()) reachable = true;
    if (reachable) pull->queue.push_back(n);
  }
  f.global = std::move(global);
  if (pull->queue.empty()) {
    f.pulling = false;
    f.pull_errors.clear();  // nothing left to fail
    set_state(f, "idle");
    emit(event::FolderChanged{view(f)});
    if (f.scan_again) {
      f.scan_again = false;
      scan(folder);
    } else if (f.pull_again) {
      this->pull(folder);
    }
    return;
  }
  spdlog::info("sync: folder {}: pulling {} item(s)", folder, pull->queue.size());
  f.pull = pull;
  set_state(f, "syncing");
  for (int i = 0; i < FILES_AT_ONCE; ++i) pull_next(folder);
}

void Engine::pull_next(const std::string& folder) {
  auto it = m_folders.find(folder);
  if (it == m_folders.end() || !it->second.pull) return;
  Folder& f = it->second;
  auto pull = f.pull;
  if (pull->queue.empty() || m_stopped) {
    if (pull->running > 0) return;
    // This round is over: tell the others what changed, then plan again (new entries may have come).
    f.pull.reset();
    f.pulling = false;
    f.pull_errors = std::move(pull->errors);
    if (pull->done > 0) announce(folder);
    if (pull->failed > 0)
      spdlog::info("sync: folder {}: {} item(s) failed this round; retried later", folder, pull->failed);
    if (f.scan_again) {
      f.scan_again = false;
      scan(folder);
    } else if (f.disk_full) {
      // Stays in error: check_disk pulls again when there is room.
    } else if (pull->done > 0 || f.pull_again) {
      this->pull(folder);
    } else {
      set_state(f, "idle");
      // Only failures: look again later (a rescan, then a pull), 10 s, then twice as long each time
      // up to 10 min; a round without failures starts over.
      if (pull->failed > 0) {
        f.retry_s = std::clamp(f.retry_s * 2, FIRST_RETRY_S, MAX_RETRY_S);
        arm_rescan(f, f.retry_s);
      }
    }
    if (pull->failed == 0) f.retry_s = 0;
    return;
  }
  // Deletions come last and one at a time: a file being pulled may still copy blocks from a file that
  // is going (a rename), and a directory goes only after what was in it.
  if (pull->queue.front().global.deleted && pull->running > 0) return;
  Need need = std::move(pull->queue.front());
  pull->queue.pop_front();
  ++pull->running;
  std::function<void(Result<store::SyncFile>)> finish =
      [this, folder, pull, name = need.global.name, size = need.global.size,
       from = changed_by(need.global, need.sources)](Result<store::SyncFile> r) {
        --pull->running;
        if (r) {
          ++pull->done;
          const std::string action = r->deleted ? "deleted" : "updated";
          std::string runnable;  // a file that can run code is flagged, as downloads flag them
          if (auto f = m_folders.find(folder); f != m_folders.end()) {
            if (auto k = f->second.placed_runnable.find(r->name); k != f->second.placed_runnable.end()) {
              runnable = std::move(k->second);
              f->second.placed_runnable.erase(k);
              spdlog::info("sync: folder {}: {} arrived and can run code ({}); scanned clean", folder,
                           base::terminal_safe(r->name), runnable);
            }
            record_change(f->second, *r, action, from, {}, runnable);
          }
          emit(event::ItemChanged{folder, r->name, action, from, {}, runnable});
        } else if (is_disk_full(r.error())) {
          if (auto f = m_folders.find(folder); f != m_folders.end())
            disk_full_on_write(f->second, name, size, r.error().message);
        } else if (!held_back(r.error()) && !not_started(r.error())) {
          ++pull->failed;
          if (pull->errors.size() < MAX_PULL_ERRORS) pull->errors.push_back({name, r.error().message});
          spdlog::warn("sync: folder {}: {}", folder, base::terminal_safe(r.error().message));
        }
        pull_next(folder);
      };
  if (f.case_insensitive) {
    // Two names that differ only in case are one file here: never pulled at once (both would pass
    // the check against the disk while neither is there yet).
    auto folded = fold_case(need.global.name);
    auto [other, added] = f.pulling_folded.emplace(folded, need.global.name);
    if (!added) return finish(tl::unexpected(case_conflict(need.global.name, other->second, "being pulled")));
    finish = [this, folder, folded, finish = std::move(finish)](Result<store::SyncFile> r) mutable {
      if (auto f = m_folders.find(folder); f != m_folders.end()) f->second.pulling_folded.erase(folded);
      finish(std::move(r));
    };
  }
  if (!need.global.deleted && need.global.type == 0) {
    // Planning read no block lists: this file's is read now, and kept only while it is pulled.
    asio::post(m_db, [this, folder, need = std::move(need), finish = std::move(finish)]() mutable {
      auto blocks = load_blocks(m_deps.store, folder, need);
      asio::post(m_strand, [this, folder, need = std::move(need), finish = std::move(finish),
                            blocks = std::move(blocks)]() mutable {
        if (!blocks) return finish(tl::unexpected(blocks.error()));
        need.global.blocks = std::move(*blocks);
        pull_item(folder, std::move(need), std::move(finish));
      });
    });
    return;
  }
  pull_item(folder, std::move(need), std::move(finish));
}

void Engine::pull_item(const std::string& folder, Need need,
                       std::function<void(Result<store::SyncFile>)> finish) {
  auto it = m_folders.find(folder);
  if (it == m_folders.end())
    return finish(fail(base::make_error_code(base::errc::not_found), "folder " + folder + " was removed"));
  Folder& f = it->second;
  auto pull = f.pull;
  const std::string root = f.record.path;
  if (!writes_data(need)) {
    // No blocks to fetch: apply on the worker pool, then record.
    asio::post(m_deps.workers, [this, folder, root, need = std::move(need), finish, short_id = m_short_id,
                                versioning = f.record.versioning, ignores = f.ignores,
                                check = f.case_insensitive]() mutable {
      // On a case-insensitive file system a deletion of "a" must not delete "A".
      auto applied = unless_case_conflict(check, root, need.global.name, [&] {
        return apply_without_data(root, need, short_id, versioning, ignores.get());
      });
      if (!applied)
        return asio::post(m_strand, [finish, e = applied.error()]() mutable { finish(tl::unexpected(e)); });
      asio::post(m_db, [this, folder, rec = std::move(*applied), finish]() mutable {
        store_placed(folder, std::move(rec), std::move(finish));
      });
    });
    return;
  }
  auto job = std::make_shared<FileJob>();
  job->folder = folder;
  job->root = root;
  job->versioning = f.record.versioning;
  job->check_case = f.case_insensitive;
  job->need = std::move(need);
  job->pull = pull;
  // However the file ends, what it had reserved of the free space is released, and devices are no
  // longer told about its temporary file (the next DownloadProgress says FORGET).
  auto done = [this, job, finish](Result<store::SyncFile> r) mutable {
    reserve(*job, 0);
    if (auto f = m_folders.find(job->folder); f != m_folders.end()) {
      auto t = f->second.in_temp.find(job->need.global.name);
      if (t != f->second.in_temp.end() && t->second == job) f->second.in_temp.erase(t);
    }
    finish(std::move(r));
  };
  // Room for it first: the free space (statvfs, on the worker pool) less what the files being pulled
  // still have to write must hold what this one still has to write (a temporary file from an earlier
  // try already holds some) and Syncthing's minDiskFree margin. Else nothing of it is started.
  asio::post(m_deps.workers, [this, job, done = std::move(done)]() mutable {
    auto space = disk_space(job->root, m_deps.min_disk_free_percent);
    const auto left = still_to_write(static_cast<std::uint64_t>(job->need.global.size),
                                     temp_allocated(job->root, job->need.global.name));
    asio::post(m_strand, [this, job, done = std::move(done), space = std::move(space), left]() mutable {
      auto it = m_folders.find(job->folder);
      if (it == m_folders.end() || it->second.disk_full) return done(tl::unexpected(NOT_STARTED));
      Folder& f = it->second;
      const auto reserved = static_cast<std::uint64_t>(std::max<std::int64_t>(job->pull->reserved, 0));
      // (A statvfs that fails says nothing: the writes themselves would tell a full disk.)
      if (space && !fits(*space, left, reserved)) {
        disk_full(f, left, disk_full_message(f.record.path, job->need.global.name, *space, left, reserved));
        return done(tl::unexpected(NOT_STARTED));
      }
      reserve(*job, static_cast<std::int64_t>(left));
      fetch_file(job, std::move(done));
    });
  });
}

void Engine::fetch_file(std::shared_ptr<FileJob> job, std::function<void(Result<store::SyncFile>)> finish) {
  // Prepare on the worker pool: the temporary file, and every block some local file already holds.
  asio::post(m_deps.workers, [this, job, finish]() mutable {
    auto find = [this, folder = job->folder](const store::SyncBlock& b) {
      return m_deps.store.find_block(folder, b.hash);
    };
    auto prepared = unless_case_conflict(job->check_case, job->root, job->need.global.name,
                                         [&] { return prepare_temp(job->root, job->need.global, find); });
    asio::post(m_strand, [this, job, finish, prepared = std::move(prepared)]() mutable {
      if (!prepared) return finish(tl::unexpected(prepared.error()));
      job->temp = prepared->temp;
      job->fd = prepared->fd;
      prepared->fd = -1;
      job->missing = std::move(prepared->missing);
      std::int64_t missing = 0;
      for (const auto& b : job->missing) missing += b.size;
      reserve(*job, missing);  // the rest is written
      // Every block not missing is in the temporary file now (kept from an earlier try or copied from
      // a local file, each checked by SHA-256): what devices may be told about and fetch from it.
      const auto& blocks = job->need.global.blocks;
      job->have.assign(blocks.size(), true);
      for (const auto& b : job->missing)
        if (auto i = block_index(blocks, b.offset)) job->have[*i] = false;
      for (std::size_t i = 0; i < blocks.size(); ++i)
        if (job->have[i]) job->available.push_back(static_cast<std::int32_t>(i));
      job->serial = m_next_pull_serial++;
      if (auto f = m_folders.find(job->folder); f != m_folders.end()) {
        f->second.bytes_reused += job->need.global.size - missing;
        f->second.in_temp[job->need.global.name] = job;
        arm_progress();
      }
      auto step = std::make_shared<std::function<void()>>();
      // `step` refers to itself (each answer calls it again); the cycle is broken when the file is
      // done. Clearing it destroys this very closure, so what comes after uses copies on the stack.
      *step = [this, job, finish, step]() mutable {
        if (!job->error.empty() && job->in_flight == 0) {
          auto j = job;
          auto done = std::move(finish);
          *step = nullptr;
          // The temporary file stays: its verified blocks are kept by the next try (prepare_temp).
          ::close(std::exchange(j->fd, -1));
          return done(fail(
              j->disk_full ? make_error_code(errc::disk_full) : base::make_error_code(base::errc::io_error),
              j->need.global.name + ": " + j->error));
        }
        if (job->error.empty() && job->written == job->missing.size()) {
          auto j = job;
          auto done = std::move(finish);
          Engine* self = this;  // `this` is a capture too
          *step = nullptr;
          if (j->from_temporary > 0)
            spdlog::info(
                "sync: folder {}: {}: {} of its {} missing block(s) came from other devices' "
                "temporary files",
                j->folder, base::terminal_safe(j->need.global.name), j->from_temporary, j->missing.size());
          return self->finish_file(std::move(j), std::move(done));
        }
        // A request that fails at once (no device has the block) calls `step` from here, and may end
        // the file, clearing it: the loop uses copies.
        auto j = job;
        auto s = step;
        Engine* self = this;
        while (j->error.empty() && j->in_flight < BLOCKS_AT_ONCE && j->next < j->missing.size()) {
          ++j->in_flight;
          self->fetch_block(j, j->missing[j->next++], s);
        }
      };
      (*step)();
    });
  });
}

std::vector<PullingFile> Engine::pulling_files(const Folder& f) const {
  std::vector<PullingFile> out;
  for (const auto& [name, job] : f.in_temp) {
    const auto& g = job->need.global;
    if (g.blocks.size() <= TEMP_INDEX_MIN_BLOCKS) continue;  // Syncthing's tempIndexMinBlocks
    const std::int32_t block_size = g.block_size > 0 ? g.block_size : g.blocks.front().size;
    out.push_back(PullingFile{name, g.version, block_size, job->serial, job->available});
  }
  return out;
}

std::optional<std::string> Engine::temp_block(const Folder& f, const std::string& name, std::int64_t offset,
                                              std::int32_t size, const std::string& hash) const {
  auto t = f.in_temp.find(name);
  if (t == f.in_temp.end()) return std::nullopt;
  const FileJob& job = *t->second;
  auto i = block_index(job.need.global.blocks, offset);
  if (!i || *i >= job.have.size() || !job.have[*i]) return std::nullopt;
  const store::SyncBlock& b = job.need.global.blocks[*i];
  if (b.size != size || hash.size() != b.hash.size() ||
      std::memcmp(hash.data(), b.hash.data(), b.hash.size()) != 0)
    return std::nullopt;
  const fs::path rel(name);
  return (rel.parent_path() / temp_name(rel.filename().string())).generic_string();
}

void Engine::fetch_block(std::shared_ptr<FileJob> job, store::SyncBlock block,
                         std::shared_ptr<std::function<void()>> step) {
  const auto index =
      static_cast<std::int32_t>(block_index(job->need.global.blocks, block.offset).value_or(0));
  // A temporary file that fails is a device's word that turned out wrong (it went, or it lied): the
  // block is asked again from another source, and that device's temporary file is left alone.
  auto again = [this, job, block, step](const BlockSource& from, const std::string& why) {
    if (!from.temporary || !job->error.empty()) return false;
    job->temp_refused.insert(from.device);
    spdlog::info("sync: folder {}: {}: a block from the temporary file of {} failed ({}); asking elsewhere",
                 job->folder, base::terminal_safe(job->need.global.name), short_text(from.device), why);
    fetch_block(job, block, step);
    return true;
  };
  request_block(job->folder, job->need, block, index, job->temp_refused,
                [this, job, block, step, again](Result<std::string> data, BlockSource from) {
                  if (!data) {
                    if (again(from, data.error().message)) return;
                    --job->in_flight;
                    if (job->error.empty()) job->error = data.error().message;
                    if (*step) (*step)();
                    return;
                  }
                  // Checked by SHA-256 and written on a worker; the bookkeeping back on the strand.
                  asio::post(m_deps.workers, [this, job, block, step, again, from, data = std::move(*data)] {
                    auto ok = write_block(job->fd, block, data);
                    asio::post(m_strand, [this, job, block, step, again, from, ok] {
                      // The wrong bytes (write_block's bad_input; a write that failed is an io_error).
                      if (!ok && ok.error().code == base::make_error_code(base::errc::bad_input) &&
                          again(from, ok.error().message))
                        return;
                      --job->in_flight;
                      if (ok) {
                        ++job->written;
                        if (from.temporary) ++job->from_temporary;
                        if (auto i = block_index(job->need.global.blocks, block.offset))
                          now_in_temp(*job, *i);
                        reserve(*job, job->reserved - block.size);
                        if (auto f = m_folders.find(job->folder); f != m_folders.end())
                          f->second.bytes_fetched += block.size;
                      } else if (job->error.empty()) {
                        job->error = ok.error().message;
                        job->disk_full = is_disk_full(ok.error());
                      }
                      if (*step) (*step)();
                    });
                  });
                });
}

std::vector<Holder> Engine::temp_holders(const std::string& folder, const std::string& name,
                                         const std::vector<store::SyncCounter>& version) const {
  std::vector<Holder> out;
  auto f = m_folders.find(folder);
  if (f == m_folders.end()) return out;
  for (const auto& id : f->second.devices) {
    auto d = m_devices.find(id);
    if (d == m_devices.end() || !d->second.conn) continue;
    auto p = d->second.folders.find(folder);
    if (p == d->second.folders.end() || !p->second.shares) continue;
    // The same version exactly (ReceivedProgress forgets a file on FORGET, on another version, and with
    // the connection).
    const auto* blocks = d->second.progress_received.blocks(folder, name, version);
    if (blocks && !blocks->empty()) out.push_back(Holder{id, d->second.requests.size(), blocks});
  }
  return out;
}

void Engine::request_block(const std::string& folder, const Need& need, const store::SyncBlock& block,
                           std::int32_t index, const std::set<std::string>& temp_refused,
                           std::function<void(Result<std::string>, BlockSource)> done) {
  const std::string& name = need.global.name;
  std::vector<Holder> holders;
  for (const auto& s : need.sources) {
    auto d = m_devices.find(s);
    if (d == m_devices.end() || !d->second.conn) continue;
    auto p = d->second.folders.find(folder);
    if (p != d->second.folders.end() && p->second.shares)
      holders.push_back(Holder{s, d->second.requests.size()});
  }
  for (auto& h : temp_holders(folder, name, need.global.version)) holders.push_back(std::move(h));
  auto from = pick_source(index, holders, temp_refused);
  if (!from)
    return done(
        fail(base::make_error_code(base::errc::unavailable), "no connected device has " + name + " now"),
        BlockSource{});
  Device& d = m_devices.at(from->device);
  bep::pb::Request r;
  const std::int32_t id = d.next_request++;
  if (d.next_request == INT32_MAX) d.next_request = 1;
  r.set_id(id);
  r.set_folder(folder);
  r.set_name(name);
  r.set_offset(block.offset);
  r.set_size(block.size);
  r.set_hash(std::string(reinterpret_cast<const char*>(block.hash.data()), block.hash.size()));
  r.set_block_no(index);
  r.set_from_temporary(from->temporary);
  d.requests[id] = [done = std::move(done), from = *from](Result<std::string> data) {
    done(std::move(data), from);
  };
  d.conn->send(bep::pb::MESSAGE_TYPE_REQUEST, r);
}

void Engine::finish_file(std::shared_ptr<FileJob> job, std::function<void(Result<store::SyncFile>)> finish) {
  // Flush, then scan the complete temporary file; only a clean verdict puts it in place.
  asio::post(m_deps.workers, [this, job, finish]() mutable {
    if (::fsync(job->fd) != 0) {
      // ENOSPC, EDQUOT: disk full (the temporary file stays; its blocks are checked again next time).
      const int err = errno;
      const std::string why = std::string("cannot flush ") + job->temp.string() + ": " + std::strerror(err);
      return asio::post(m_strand, [finish, why, code = io_code(err)]() mutable { finish(fail(code, why)); });
    }
    ::close(std::exchange(job->fd, -1));
    asio::post(m_deps.scans, [this, job, finish]() mutable {
      // The file is scanned under its temporary name but judged under its own: "runs code" goes by
      // the real name's extension (and the first bytes), and the reason names the file people know.
      auto verdict = m_deps.inspector->inspect_file(job->temp.parent_path(), job->temp.filename());
      const fs::path name = job->need.global.name;
      verdict.finding.path = name.generic_string();
      const auto runnable = safety::runnable_kind_named(name, job->temp);
      verdict.finding.runnable = runnable.value_or("");
      job->runnable = verdict.finding.runnable;
      auto decision = m_deps.inspector->decide({name}, {verdict});
      asio::post(m_deps.workers, [this, job, finish, decision = std::move(decision)]() mutable {
        if (!decision.release()) return hold_file(job, decision, finish);
        // Checked again: the disk may have changed while the file was fetched and scanned.
        auto placed = unless_case_conflict(job->check_case, job->root, job->need.global.name, [&] {
          return place_file(job->root, job->need, job->temp, m_short_id, job->versioning);
        });
        if (!placed)
          return asio::post(m_strand, [finish, e = placed.error()]() mutable { finish(tl::unexpected(e)); });
        asio::post(m_db, [this, job, finish, rec = std::move(*placed)]() mutable {
          store_placed(job->folder, std::move(rec),
                       [this, job, finish](Result<store::SyncFile> stored) mutable {
                         // The losing copy of a conflict is a new file here: the scan after this round offers
                         // it.
                         if (auto f = m_folders.find(job->folder); f != m_folders.end() && stored) {
                           if (job->need.conflict) f->second.scan_again = true;
                           if (!job->runnable.empty())
                             f->second.placed_runnable[stored->name] = job->runnable;
                         }
                         finish(std::move(stored));
                       });
        });
      });
    });
  });
}

void Engine::hold_file(std::shared_ptr<FileJob> job, const safety::Decision& decision,
                       std::function<void(Result<store::SyncFile>)> finish) {
  // On a worker: the file goes to HOME/quarantine/<id>/, recorded; the folder never sees it.
  const std::string qid = "sync-" + base::to_hex(crypto::random_bytes(8));
  const fs::path base_name = fs::path(job->need.global.name).filename();
  const fs::path dir = m_deps.quarantine_dir / qid;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (!ec) fs::rename(job->temp, dir / base_name, ec);
  if (ec) {
    fs::remove(job->temp, ec);  // not in the folder either way
  }
  store::QuarantineRecord rec;
  rec.id = qid;
  rec.name = job->need.global.name;
  rec.source =
      "sync:" + job->folder + (job->need.sources.empty() ? "" : " from " + job->need.sources.front());
  rec.outcome = safety::to_string(decision.outcome);
  rec.signature = decision.signature;
  rec.reason = decision.reason;
  // The version held back goes with the record: after a restart it is still not fetched again.
  auto details = safety::to_json(decision);
  details["sync_version"] = nlohmann::json::array();
  for (const auto& c : job->need.global.version) details["sync_version"].push_back({c.id, c.value});
  details["sync_folder"] = job->folder;
  rec.details = details.dump();
  rec.destination = (fs::path(job->root) / job->need.global.name).string();
  rec.quarantined_at = base::unix_seconds();
  (void)m_deps.quarantine.put(rec);
  spdlog::warn("sync: folder {}: {} held back ({}); quarantine item {}", job->folder,
               base::terminal_safe(job->need.global.name), base::terminal_safe(decision.reason), qid);
  asio::post(m_strand, [this, job, finish, qid, reason = decision.reason]() mutable {
    auto it = m_folders.find(job->folder);
    if (it != m_folders.end()) {
      it->second.held[job->need.global.name] = job->need.global.version;
      it->second.held_items.push_back(HeldItem{job->need.global.name, qid, reason});
      const auto from = changed_by(job->need.global, job->need.sources);
      record_change(it->second, job->need.global, "held", from, reason);
      emit(event::ItemChanged{job->folder, job->need.global.name, "held", from, reason});
    }
    finish(tl::unexpected(HELD_BACK));  // neither done nor failed
  });
}

// --- a full disk (docs/sync.md § A full disk) ---

void Engine::disk_full(Folder& f, std::uint64_t need, std::string message) {
  if (f.disk_full && !f.disk_full->message.empty()) return;  // stopped already: said once
  f.disk_full = Folder::DiskFull{need, message};
  // Nothing more that writes data starts; the round's deletions and directories still run (deletions
  // make room). What is being written ends by itself: its temporary file stays for the next try.
  if (f.pull) std::erase_if(f.pull->queue, writes_data);
  set_state(f, "error", std::move(message));  // logged once, FolderChanged emitted
  arm_disk_check(f);
}

void Engine::disk_full_on_write(Folder& f, const std::string& name, std::int64_t size,
                                const std::string& why) {
  if (f.disk_full) return;
  // Stop at once (no other file starts meanwhile); the message, with the numbers, once measured.
  f.disk_full = Folder::DiskFull{static_cast<std::uint64_t>(std::max<std::int64_t>(size, 0)), {}};
  if (f.pull) std::erase_if(f.pull->queue, writes_data);
  asio::post(m_deps.workers, [this, folder = f.record.id, root = f.record.path, name, size, why] {
    auto space = disk_space(root, m_deps.min_disk_free_percent);
    const auto left = still_to_write(static_cast<std::uint64_t>(std::max<std::int64_t>(size, 0)),
                                     temp_allocated(root, name));
    asio::post(m_strand, [this, folder, root, name, why, space = std::move(space), left] {
      auto it = m_folders.find(folder);
      if (it == m_folders.end() || !it->second.disk_full || !it->second.disk_full->message.empty())
        return;  // room again meanwhile, or said already
      it->second.disk_full.reset();
      disk_full(it->second, left,
                space ? disk_full_message(root, name, *space, left, 0, why)
                      : "disk full: " + why + "; free some space there, kith retries by itself");
    });
  });
}

void Engine::arm_disk_check(Folder& f) {
  if (!f.disk_timer || m_stopped) return;
  f.disk_timer->expires_after(std::chrono::seconds(DISK_RECHECK_INTERVAL_S));
  f.disk_timer->async_wait([this, id = f.record.id](boost::system::error_code ec) {
    if (!ec) check_disk(id);
  });
}

void Engine::check_disk(const std::string& folder) {
  auto it = m_folders.find(folder);
  if (it == m_folders.end() || m_stopped) return;
  Folder& f = it->second;
  // Paused: looked at again when resumed (its scan checks).
  if (!f.disk_full || f.checking_disk || f.record.paused) return;
  f.checking_disk = true;
  asio::post(m_deps.workers, [this, folder, root = f.record.path] {
    auto space = disk_space(root, m_deps.min_disk_free_percent);
    asio::post(m_strand, [this, folder, space = std::move(space)] {
      auto it = m_folders.find(folder);
      if (it == m_folders.end()) return;
      Folder& f = it->second;
      f.checking_disk = false;
      if (!f.disk_full) return;
      if (!space || !fits(*space, f.disk_full->need)) return arm_disk_check(f);
      spdlog::info("sync: folder {}: {} MiB free now, pulling again", folder, mib(space->free));
      const bool other_error = f.state == "error" && f.error != f.disk_full->message;
      f.disk_full.reset();
      f.disk_timer->cancel();
      if (other_error) return;  // an error of another cause stays until that is fixed (its scan pulls then)
      if (f.state == "error") set_state(f, f.pulling ? "syncing" : "idle");
      pull(folder);
    });
  });
}

}  // namespace kith::sync
