#include "sync/engine.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <chrono>

#include "base/clock.hpp"
#include "base/hex.hpp"
#include "base/terminal.hpp"
#include "bep/device_id.hpp"
#include "crypto/bep_tls.hpp"
#include "crypto/random.hpp"
#include "sync/case_check.hpp"
#include "sync/errors.hpp"
#include "sync/scanner.hpp"

namespace kith::sync {
namespace asio = boost::asio;

namespace {
// A pull's temporary file older than this is removed by the next scan (as Syncthing's 24 hours).
constexpr std::int64_t STALE_TEMP_AGE_S = 24 * 3600;

Error err(errc e, const std::string& why) { return Error{make_error_code(e), why}; }

bool valid_folder_id(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) return false;
  return true;
}

// Syncthing's folder IDs look like "abcde-fghij" (two groups of five lower-case letters and digits).
std::string random_folder_id() {
  static constexpr char ALPHABET[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  const std::string bytes = crypto::random_bytes(10);
  std::string out;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i == 5) out += '-';
    out += ALPHABET[static_cast<unsigned char>(bytes[i]) % 36];
  }
  return out;
}

std::uint64_t random_index_id() {
  std::uint64_t v = 0;
  const std::string bytes = crypto::random_bytes(8);
  for (char c : bytes) v = (v << 8) | static_cast<unsigned char>(c);
  return v ? v : 1;
}
}  // namespace

Engine::Engine(SyncService::Deps deps)
    : m_deps(std::move(deps)),
      m_strand(asio::make_strand(m_deps.io)),
      m_db(asio::make_strand(m_deps.workers)) {}

Status Engine::start() {
  auto der = crypto::bep_certificate(m_deps.device_key);
  if (!der) return tl::unexpected(der.error());
  const auto id = bep::device_id_of_cert(*der);
  m_device_id = bep::to_string(id);
  m_short_id = bep::short_id(id);
  auto devices = m_deps.store.devices();
  if (!devices) return tl::unexpected(devices.error());
  for (auto& d : *devices) m_devices[d.id].record = std::move(d);
  auto folders = m_deps.store.folders();
  if (!folders) return tl::unexpected(folders.error());
  for (auto& rec : *folders) {
    Folder& f = m_folders[rec.id];
    auto shares = m_deps.store.shares(rec.id);
    if (!shares) return tl::unexpected(shares.error());
    for (const auto& s : *shares) {
      f.devices.insert(s.device);
      f.remote[s.device] = s;
    }
    f.record = std::move(rec);
    f.rescan_timer = std::make_unique<asio::steady_timer>(m_strand);
    f.disk_timer = std::make_unique<asio::steady_timer>(m_strand);
    if (f.record.paused) f.state = "paused";
  }
  restore_held();
  // Entries stored before the store kept blocks hashes get theirs (once; before any pull is planned,
  // which runs on the same strand and tells identical content by that hash).
  asio::post(m_db, [this] {
    if (auto filled = m_deps.store.fill_blocks_hashes(); !filled)
      spdlog::warn("sync: cannot compute the blocks hashes of older index entries: {}",
                   filled.error().message);
    else if (*filled > 0)
      spdlog::info("sync: computed the blocks hash of {} older index entries", *filled);
  });
  if (auto l = listen(); !l) return l;
  start_local_discovery();
  arm_versions_cleanup(60);  // as Syncthing: a first cleanup a minute after the start
  asio::post(m_strand, [this] {
    for (auto& [id, f] : m_folders)
      if (!f.record.paused) scan(id);
    dial_all();
  });
  spdlog::info("sync: device ID {} listening on port {}, {} folder(s), {} device(s)", m_device_id, m_port,
               m_folders.size(), m_devices.size());
  return {};
}

void Engine::watch(Folder& f) {
  if (!m_deps.watch || f.watcher || f.record.paused || m_stopped) return;
  auto w = std::make_shared<Watcher>(m_strand, f.record.path, [this, id = f.record.id] { scan(id); });
  f.watcher = w;  // also when it cannot open: warned once, not at every scan
  if (auto ok = w->open(); !ok) {
    spdlog::warn("sync: folder {} is not watched ({}); the periodic rescans find its changes", f.record.id,
                 ok.error().message);
    return;
  }
  // Adding the watches walks the tree's directories: on the worker pool.
  asio::post(m_deps.workers, [w] { w->add_watches(); });
}

void Engine::unwatch(Folder& f) {
  if (f.watcher) f.watcher->stop();
  f.watcher.reset();
}

void Engine::stop() {
  m_stopped = true;
  boost::system::error_code ignored;
  if (m_acceptor) m_acceptor->close(ignored);
  if (m_dial_timer) m_dial_timer->cancel();
  if (m_local) m_local->stop();
  if (m_versions_timer) m_versions_timer->cancel();
  if (m_progress_timer) m_progress_timer->cancel();
  for (auto& [id, f] : m_folders) {
    if (f.rescan_timer) f.rescan_timer->cancel();
    if (f.disk_timer) f.disk_timer->cancel();
    unwatch(f);
  }
  for (auto& [id, d] : m_devices)
    if (d.conn) d.conn->close("shutting down");
}

void Engine::emit(Event e) const {
  if (m_deps.sink) m_deps.sink(e);
}

void Engine::record_change(Folder& f, const store::SyncFile& file, std::string action, std::string device,
                           std::string reason, std::string runnable) {
  ChangeView c;
  c.time = base::unix_seconds();
  c.name = file.name;
  c.type = file.type == 0 ? "file" : file.type == 1 ? "directory" : "symlink";
  c.action = std::move(action);
  c.device = std::move(device);
  c.reason = std::move(reason);
  c.runnable = std::move(runnable);
  f.changes.add(std::move(c));
}

std::string Engine::changed_by(const store::SyncFile& global, const std::vector<std::string>& sources) const {
  if (global.modified_by != 0) {
    if (global.modified_by == m_short_id) return m_device_id;
    for (const auto& [id, d] : m_devices)
      if (auto parsed = bep::parse_device_id(id); parsed && bep::short_id(*parsed) == global.modified_by)
        return id;
  }
  if (!global.device.empty()) return global.device;
  return sources.empty() ? std::string() : sources.front();
}

void Engine::set_state(Folder& f, std::string state, std::string error) {
  if (f.state == state && f.error == error) return;
  f.state = std::move(state);
  f.error = std::move(error);
  if (!f.error.empty()) spdlog::warn("sync: folder {}: {}", f.record.id, base::terminal_safe(f.error));
  emit(event::FolderChanged{view(f)});
}

FolderView Engine::view(const Folder& f) const {
  FolderView v;
  v.id = f.record.id;
  v.label = f.record.label;
  v.path = f.record.path;
  v.type = f.record.type;
  v.versioning = f.record.versioning;
  v.paused = f.record.paused;
  v.state = f.state;
  v.error = f.error;
  v.disk_full = f.disk_full && f.state == "error" && f.error == f.disk_full->message;
  v.local_files = f.local_files;
  v.local_bytes = f.local_bytes;
  v.global_files = f.global.global_files;
  v.global_bytes = f.global.global_bytes;
  for (const auto& n : f.global.needs) {
    if (n.global.deleted || n.global.type == 1) continue;
    ++v.need_files;
    v.need_bytes += n.global.size;
  }
  v.sequence = f.sequence;
  v.last_scan = f.last_scan;
  v.bytes_fetched = f.bytes_fetched;
  v.bytes_reused = f.bytes_reused;
  v.case_insensitive = f.case_insensitive;
  v.pull_errors = f.pull_errors;
  for (const auto& device : f.devices) {
    FolderDeviceView dv;
    dv.device = device;
    auto d = m_devices.find(device);
    if (d != m_devices.end()) {
      dv.name = d->second.record.name;
      dv.connected = d->second.conn != nullptr;
    }
    auto need = f.global.device_need.find(device);
    if (need != f.global.device_need.end()) {
      dv.need_files = need->second.first;
      dv.need_bytes = need->second.second;
    }
    const double total = static_cast<double>(f.global.global_bytes + f.global.global_files);
    dv.completion =
        total <= 0 ? 100.0 : 100.0 * (1.0 - static_cast<double>(dv.need_bytes + dv.need_files) / total);
    v.devices.push_back(std::move(dv));
  }
  v.held = f.held_items;
  return v;
}

void Engine::add_folder(FolderSpec spec, base::Done<Result<FolderView>> done) {
  if (spec.id.empty()) spec.id = random_folder_id();
  if (!valid_folder_id(spec.id))
    return done(fail(base::make_error_code(base::errc::bad_input),
                     "a folder ID is 1-64 letters, digits, '-', '_' or '.'"));
  if (spec.type != "sendreceive" && spec.type != "sendonly" && spec.type != "receiveonly")
    return done(fail(base::make_error_code(base::errc::bad_input),
                     "a folder's type is sendreceive, sendonly or receiveonly"));
  if (auto ok = check_versioning(spec.versioning); !ok) return done(tl::unexpected(ok.error()));
  std::error_code ec;
  auto path = std::filesystem::weakly_canonical(std::filesystem::absolute(spec.path, ec), ec);
  if (spec.path.empty() || ec)
    return done(
        fail(base::make_error_code(base::errc::bad_input), "the folder's path is not usable: " + spec.path));
  if (m_folders.count(spec.id))
    return done(
        tl::unexpected(err(errc::folder_exists, "a folder with ID " + spec.id + " is already synced")));
  for (const auto& [id, f] : m_folders)
    if (f.record.path == path.string())
      return done(
          tl::unexpected(err(errc::folder_exists, path.string() + " is already synced as folder " + id)));
  for (const auto& device : spec.devices)
    if (!m_devices.count(device))
      return done(tl::unexpected(
          err(errc::unknown_device,
              "device " + device + " is not added: `kith sync device add " + device + "` first")));
  store::SyncFolderRecord rec;
  rec.id = spec.id;
  rec.label = spec.label.empty() ? path.filename().string() : spec.label;
  rec.path = path.string();
  rec.type = spec.type;
  rec.versioning = spec.versioning;
  rec.index_id = random_index_id();
  rec.created_at = base::unix_seconds();
  asio::post(m_db, [this, rec, devices = spec.devices, done = std::move(done)]() mutable {
    Status ok = make_folder_marker(rec.path);
    if (ok) ok = m_deps.store.put_folder(rec);
    for (const auto& d : devices)
      if (ok) ok = m_deps.store.share(rec.id, d);
    asio::post(m_strand, [this, rec, devices, ok, done = std::move(done)]() mutable {
      if (!ok) return done(tl::unexpected(ok.error()));
      Folder& f = m_folders[rec.id];
      f.record = rec;
      f.devices.insert(devices.begin(), devices.end());
      f.rescan_timer = std::make_unique<asio::steady_timer>(m_strand);
      f.disk_timer = std::make_unique<asio::steady_timer>(m_strand);
      m_pending.erase(rec.id);
      spdlog::info("sync: folder {} ({}) added at {}", rec.id, rec.label, rec.path);
      for (const auto& d : devices) {
        auto it = m_devices.find(d);
        if (it == m_devices.end()) continue;
        if (it->second.conn) {
          send_cluster_config(it->second);
          if (it->second.last_cc) on_cluster_config(it->second, *it->second.last_cc);
        } else if (!it->second.dialing && !dial_addresses(it->second).empty()) {
          dial(d);
        }
      }
      scan(rec.id);
      done(view(f));
    });
  });
}

void Engine::remove_folder(const std::string& id, base::Done<Status> done) {
  auto it = m_folders.find(id);
  if (it == m_folders.end()) return done(tl::unexpected(err(errc::unknown_folder, "no folder " + id)));
  if (it->second.rescan_timer) it->second.rescan_timer->cancel();
  if (it->second.disk_timer) it->second.disk_timer->cancel();
  unwatch(it->second);
  fail_releases(it->second, Error{make_error_code(errc::not_releasable),
                                  "folder " + id + " was removed: nothing was placed"});
  const auto devices = it->second.devices;
  m_folders.erase(it);
  for (auto& [did, d] : m_devices) {
    d.folders.erase(id);
    if (d.conn && devices.count(did)) send_cluster_config(d);
  }
  asio::post(m_db, [this, id, done = std::move(done)]() mutable {
    auto ok = m_deps.store.remove_folder(id);
    asio::post(m_strand, [ok, done = std::move(done)]() mutable { done(ok); });
  });
}

void Engine::share(const std::string& folder, const std::string& device, base::Done<Status> done) {
  auto f = m_folders.find(folder);
  if (f == m_folders.end()) return done(tl::unexpected(err(errc::unknown_folder, "no folder " + folder)));
  auto d = m_devices.find(device);
  if (d == m_devices.end())
    return done(tl::unexpected(
        err(errc::unknown_device,
            "device " + device + " is not added: `kith sync device add " + device + "` first")));
  f->second.devices.insert(device);
  if (d->second.conn) {
    send_cluster_config(d->second);
    if (d->second.last_cc) on_cluster_config(d->second, *d->second.last_cc);
  } else if (!d->second.dialing && !dial_addresses(d->second).empty())
    dial(device);
  asio::post(m_db, [this, folder, device, done = std::move(done)]() mutable {
    auto ok = m_deps.store.share(folder, device);
    asio::post(m_strand, [ok, done = std::move(done)]() mutable { done(ok); });
  });
}

void Engine::unshare(const std::string& folder, const std::string& device, base::Done<Status> done) {
  auto f = m_folders.find(folder);
  if (f == m_folders.end()) return done(tl::unexpected(err(errc::unknown_folder, "no folder " + folder)));
  if (!m_devices.count(device)) return done(tl::unexpected(err(errc::unknown_device, "no device " + device)));
  f->second.devices.erase(device);
  auto d = m_devices.find(device);
  if (d != m_devices.end()) {
    d->second.folders.erase(folder);
    if (d->second.conn) send_cluster_config(d->second);
  }
  asio::post(m_db, [this, folder, device, done = std::move(done)]() mutable {
    auto ok = m_deps.store.unshare(folder, device);
    asio::post(m_strand, [this, folder, ok, done = std::move(done)]() mutable {
      done(ok);
      pull(folder);  // the global state lost that device's entries
    });
  });
}

void Engine::pause(const std::string& folder, bool paused, base::Done<Status> done) {
  auto it = m_folders.find(folder);
  if (it == m_folders.end()) return done(tl::unexpected(err(errc::unknown_folder, "no folder " + folder)));
  Folder& f = it->second;
  f.record.paused = paused;
  set_state(f, paused ? "paused" : "idle");
  if (paused) unwatch(f);
  for (const auto& device : f.devices) {
    auto d = m_devices.find(device);
    if (d != m_devices.end() && d->second.conn) send_cluster_config(d->second);
  }
  if (!paused) scan(folder);
  asio::post(m_db, [this, rec = f.record, done = std::move(done)]() mutable {
    auto ok = m_deps.store.put_folder(rec);
    asio::post(m_strand, [ok, done = std::move(done)]() mutable { done(ok); });
  });
}

Result<std::string> Engine::normalise_device(const std::string& id) const {
  auto parsed = bep::parse_device_id(id);
  if (!parsed) return tl::unexpected(parsed.error());
  return bep::to_string(*parsed);
}

void Engine::add_device(const std::string& given, std::vector<std::string> addresses, std::string name,
                        base::Done<Result<DeviceView>> done) {
  auto id = normalise_device(given);
  if (!id) return done(tl::unexpected(id.error()));
  if (*id == m_device_id)
    return done(fail(base::make_error_code(base::errc::bad_input), "that is this node's own device ID"));
  for (auto& a : addresses) {
    if (a.rfind("tcp://", 0) == 0) a = a.substr(6);
    if (a.empty() || a.size() > 255 || a.find(':') == std::string::npos)
      return done(
          fail(base::make_error_code(base::errc::bad_input), "an address is HOST:PORT, not \"" + a + "\""));
  }
  Device& d = m_devices[*id];
  d.record.id = *id;
  d.record.addresses = std::move(addresses);
  if (!name.empty()) d.record.name = std::move(name);
  if (!d.record.added_at) d.record.added_at = base::unix_seconds();
  asio::post(m_db, [this, rec = d.record, done = std::move(done)]() mutable {
    auto ok = m_deps.store.put_device(rec);
    asio::post(m_strand, [this, id = rec.id, ok, done = std::move(done)]() mutable {
      if (!ok) return done(tl::unexpected(ok.error()));
      auto it = m_devices.find(id);
      if (it == m_devices.end()) return done(fail(errc::unknown_device, "device " + id + " was removed"));
      if (!it->second.conn && !it->second.dialing && !dial_addresses(it->second).empty()) dial(id);
      done(view(it->second));
    });
  });
}

void Engine::remove_device(const std::string& given, base::Done<Status> done) {
  auto id = normalise_device(given);
  if (!id) return done(tl::unexpected(id.error()));
  auto it = m_devices.find(*id);
  if (it == m_devices.end()) return done(fail(errc::unknown_device, "no device " + *id));
  if (it->second.conn) it->second.conn->close("removed");
  auto requests = std::move(it->second.requests);
  m_devices.erase(it);
  for (auto& [rid, answer] : requests) answer(fail(errc::unknown_device, "device " + *id + " was removed"));
  for (auto& [fid, f] : m_folders) {
    f.devices.erase(*id);
    f.remote.erase(*id);
  }
  asio::post(m_db, [this, id = *id, done = std::move(done)]() mutable {
    auto ok = m_deps.store.remove_device(id);
    asio::post(m_strand, [ok, done = std::move(done)]() mutable { done(ok); });
  });
}

void Engine::arm_rescan(Folder& f, int seconds) {
  if (!f.rescan_timer || m_stopped) return;
  f.rescan_timer->expires_after(std::chrono::seconds(seconds));
  f.rescan_timer->async_wait([this, id = f.record.id](boost::system::error_code ec) {
    if (!ec) scan(id);
  });
}

void Engine::scan(const std::string& folder) {
  auto it = m_folders.find(folder);
  if (it == m_folders.end() || m_stopped) return;
  Folder& f = it->second;
  if (f.record.paused) return;
  if (f.scanning || f.pulling) {  // a pull writes the folder; scan after it, not during
    f.scan_again = true;
    return;
  }
  f.scanning = true;
  if (f.error.empty()) set_state(f, "scanning");
  ScanOptions options;
  options.short_id = m_short_id;
  options.remove_temps_older_than_s = STALE_TEMP_AGE_S;
  // Hash on the worker pool; store the changes through m_db, in order with the index's other writes.
  asio::post(m_deps.workers, [this, folder, root = f.record.path, type = f.record.type, options]() mutable {
    // .stignore is read at every scan, so an edit takes effect at the next one (the watcher sees it).
    // One that cannot be used stops the scan: ignoring nothing instead would offer what was meant
    // to stay here, and let peers' copies replace it.
    auto ignores = load_ignores(root);
    auto loaded = ignores ? std::make_shared<const Ignores>(std::move(*ignores)) : nullptr;
    if (loaded && !loaded->empty()) {
      options.ignored = [loaded](const std::string& name) { return loaded->ignored(name); };
      options.look_inside_ignored = !loaded->skip_ignored_dirs();
    }
    auto previous = m_deps.store.files(folder, "", store::Blocks::without);  // blocks_hash is enough
    Result<ScanResult> scanned = !ignores   ? tl::unexpected(ignores.error())
                                 : previous ? scan_folder(root, *previous, options)
                                            : tl::unexpected(previous.error());
    // Looked at every scan: the folder may be on another file system after a remount.
    const bool insensitive = case_insensitive(root);
    asio::post(m_db, [this, folder, type, loaded, insensitive, scanned = std::move(scanned)]() mutable {
      Result<std::vector<store::SyncFile>> out = tl::unexpected(Error{});
      bool retry_soon = false;
      if (!scanned) {
        out = tl::unexpected(scanned.error());
      } else {
        // A receive-only folder's own changes stay here, not offered (invalid to everyone else).
        if (type == "receiveonly")
          for (auto& c : scanned->changed) c.invalid = true;
        out = scanned->changed.empty() ? std::vector<store::SyncFile>{}
                                       : m_deps.store.put_local(folder, std::move(scanned->changed));
        if (out && !scanned->refreshed.empty())
          (void)m_deps.store.set_local_inodes(folder, scanned->refreshed);
        for (std::size_t i = 0; i < scanned->errors.size() && i < 5; ++i)
          spdlog::info("sync: folder {}: {}{}", folder, base::terminal_safe(scanned->errors[i].name),
                       scanned->errors[i].name.empty() ? scanned->errors[i].error.message
                                                       : ": " + scanned->errors[i].error.message);
        // A file being written was skipped: look again soon rather than at the next full rescan.
        if (!scanned->errors.empty()) retry_soon = true;
      }
      asio::post(m_strand, [this, folder, retry_soon, loaded, insensitive, out = std::move(out)]() mutable {
        if (auto it = m_folders.find(folder); it != m_folders.end()) {
          if (loaded) it->second.ignores = loaded;
          if (insensitive && !it->second.case_insensitive)
            spdlog::info(
                "sync: folder {} is on a file system that does not tell upper from lower case: "
                "names that differ only in case are refused there",
                folder);
          it->second.case_insensitive = insensitive;
        }
        scan_done(folder, std::move(out), retry_soon);
      });
    });
  });
}

void Engine::scan_done(const std::string& folder, Result<std::vector<store::SyncFile>> changed,
                       bool retry_soon) {
  auto it = m_folders.find(folder);
  if (it == m_folders.end()) return;
  Folder& f = it->second;
  f.scanning = false;
  f.last_scan = base::unix_seconds();
  arm_rescan(f, retry_soon ? 5 : m_deps.rescan_interval_s);
  if (!changed) {
    if (changed.error().code == make_error_code(errc::bad_ignores))
      ignores_failed(f, changed.error());
    else
      set_state(f, "error", changed.error().message);
    return;
  }
  watch(f);
  if (!changed->empty()) {
    spdlog::info("sync: folder {}: {} change(s) found by a scan", folder, changed->size());
    // Made here: into the recent changes as this device's (only the last ones a ring keeps). Before the
    // state changes below, whose sync.folder event makes the web UI read them again.
    const auto first = changed->size() > RecentChanges::MAX ? changed->size() - RecentChanges::MAX : 0;
    for (auto c = changed->begin() + static_cast<std::ptrdiff_t>(first); c != changed->end(); ++c)
      record_change(f, *c, c->deleted ? "deleted" : "updated", m_device_id);
    announce(folder);
  }
  // A scan never clears a full disk's error: only room does (check_disk, which then pulls).
  if (f.disk_full && !f.disk_full->message.empty())
    set_state(f, "error", f.disk_full->message);
  else if (f.state == "scanning" || f.state == "error")
    set_state(f, "idle");
  if (f.scan_again) {
    f.scan_again = false;
    scan(folder);
    return;
  }
  if (f.disk_full) return check_disk(folder);
  pull(folder);
}

}  // namespace kith::sync
