// Node: the path every download takes out of staging (scan, then release or quarantine), the
// quarantine commands, and reports. The rest of Node is in node.cpp.
//
// A finished download is scanned on m_workers while libtorrent keeps it in HOME/staging/<id>/. Clean:
// move_storage to its destination. Anything else: the transfer is paused (so it does not spread what
// it holds), recorded in the quarantine table, and moved to HOME/quarantine/<id>/. A "scanning:<id>"
// key in the kv table marks a scan in progress: if the node finds one at start, the scan crashed or
// was killed, and the download goes to quarantine instead of being scanned again (fail closed).
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/post.hpp>

#include "app/node.hpp"
#include "base/clock.hpp"
#include "base/fs.hpp"
#include "crypto/hash.hpp"
#include "safety/errors.hpp"
#include "safety/report.hpp"

namespace kith::app {
namespace {

std::string scan_marker(const std::string& id) { return "scanning:" + id; }

nlohmann::json parse_or(const std::string& text, nlohmann::json fallback) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  return j.is_discarded() ? fallback : j;
}

nlohmann::json quarantine_json(const store::QuarantineRecord& q) {
  return {{"id", q.id},
          {"name", q.name},
          {"source", q.source},
          {"outcome", q.outcome},
          {"signature", q.signature},
          {"reason", q.reason},
          {"details", parse_or(q.details, nlohmann::json::object())},
          {"peers", parse_or(q.peers, nlohmann::json::array())},
          {"destination", q.destination},
          {"quarantined_at", q.quarantined_at},
          {"state", q.state},
          {"resolved_at", q.resolved_at}};
}

nlohmann::json peer_json(const swarm::PeerStatus& p) {
  return {{"endpoint", p.endpoint}, {"client", p.client}, {"peer_id", p.peer_id}};
}

}  // namespace

void Node::start_scanner() {
  m_inspector = std::make_shared<safety::Inspector>(
      safety::InspectorOptions{.hold_runnable = m_settings.get_bool("safety.hold_runnable")});
  safety::ScannerOptions options;
  if (m_settings.get_bool("safety.system_signatures"))
    options.databases.push_back(safety::system_database_dir());
  for (const auto& p : m_settings.get_list("safety.signatures")) options.databases.emplace_back(p);
  const auto limit = static_cast<std::uint64_t>(m_settings.get_int("safety.scan_limit")) << 20;
  options.max_file_size = options.max_scan_size = limit;
  // Loading the official databases takes seconds: do it off the io thread. Scans wait for it.
  boost::asio::post(m_workers, [inspector = m_inspector, options] {
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

void Node::maybe_release(const std::string& id) {
  {
    std::lock_guard lock(m_mutex);
    auto it = m_records.find(id);
    if (it == m_records.end() || it->second.kind != "get" || it->second.released) return;
    if (m_scanning.count(id) || m_moving.count(id) || m_release_errors.count(id) || m_held.count(id)) return;
  }
  // Every wanted piece has passed libtorrent's hash check: that is the "verified" step.
  auto st = m_swarm->status(id);
  if (!st || (st->state != "finished" && st->state != "seeding") || st->total_done < st->total_wanted) return;
  std::vector<std::filesystem::path> files;
  if (auto all = m_swarm->files(id)) {
    for (const auto& f : *all) {
      if (f.wanted) files.emplace_back(f.path);
    }
  }
  {
    std::lock_guard lock(m_mutex);
    if (!m_scanning.insert(id).second) return;
  }
  auto marker = m_store->get_kv(scan_marker(id));
  if (marker && *marker) {
    safety::Decision d;
    d.outcome = safety::Outcome::incomplete;
    d.reason = "the scan never finished (the node was stopped or the scanner crashed while scanning it)";
    spdlog::warn("{}: {}", id, d.reason);
    finish_check(id, d);
    return;
  }
  (void)m_store->put_kv(scan_marker(id), {'1'});
  publish("transfer.scanning", {{"id", id}, {"files", files.size()}});
  boost::asio::post(m_workers, [this, id, root = std::filesystem::path(st->save_path),
                                files = std::move(files), inspector = m_inspector] {
    safety::Decision d;
    try {
      d = inspector->inspect(root, files, [this, &id](std::uint64_t done, std::uint64_t total) {
        std::lock_guard lock(m_mutex);
        m_scan_progress[id] = {done, total};
      });
    } catch (const std::exception& ex) {
      d = {};
      d.outcome = safety::Outcome::incomplete;
      d.reason = std::string("scanner error: ") + ex.what();
    }
    finish_check(id, d);
  });
}

void Node::finish_check(const std::string& id, const safety::Decision& d) {
  const auto runnable = nlohmann::json(d.runnable).dump();
  std::filesystem::path destination;
  {
    std::lock_guard lock(m_mutex);
    m_scanning.erase(id);
    m_scan_progress.erase(id);
    auto it = m_records.find(id);
    if (it == m_records.end()) {  // removed while scanning
      (void)m_store->remove_kv(scan_marker(id));
      return;
    }
    it->second.runnable = runnable;
    destination = it->second.destination;
  }
  (void)m_store->set_runnable(id, runnable);
  publish("transfer.scanned", {{"id", id},
                               {"outcome", safety::to_string(d.outcome)},
                               {"reason", d.reason},
                               {"runnable", d.runnable},
                               {"bytes_scanned", d.bytes_scanned}});
  if (!d.release()) {
    quarantine(id, d);
    (void)m_store->remove_kv(scan_marker(id));
    return;
  }
  (void)m_store->remove_kv(scan_marker(id));
  spdlog::info("{}: scanned clean ({} bytes{})", id, d.bytes_scanned,
               d.runnable.empty() ? "" : ", can run code: " + d.runnable.front());
  if (auto r = base::ensure_dir(destination); !r) {
    {
      std::lock_guard lock(m_mutex);
      m_release_errors[id] = r.error().message;
    }
    publish("transfer.error", {{"id", id}, {"message", r.error().message}});
    return;
  }
  {
    std::lock_guard lock(m_mutex);
    m_moving[id] = Move::release;
  }
  (void)m_swarm->move_storage(id, destination.string());  // completes with a storage_moved event
}

void Node::quarantine(const std::string& id, const safety::Decision& d) {
  // Stop sharing it first: a node must not seed what it would not release to its own user.
  (void)m_swarm->pause(id);
  store::QuarantineRecord q;
  nlohmann::json peers = nlohmann::json::array();
  {
    std::lock_guard lock(m_mutex);
    auto& rec = m_records[id];
    rec.paused = true;
    q.name = rec.name;
    q.source = rec.source;
    q.destination = rec.destination;
  }
  (void)m_store->set_paused(id, true);
  for (const auto& p : m_swarm->sources(id)) peers.push_back(peer_json(p));
  q.id = id;
  q.outcome = safety::to_string(d.outcome);
  q.signature = d.signature;
  q.reason = d.reason;
  q.details = safety::to_json(d).dump();
  q.peers = peers.dump();
  q.quarantined_at = base::unix_seconds();
  if (auto r = m_quarantine->put(q); !r)
    spdlog::error("{}: cannot record the quarantine: {}", id, r.error().message);
  const auto folder = m_home.quarantine_dir() / id;
  {
    std::lock_guard lock(m_mutex);
    m_held.insert(id);
    m_moving[id] = Move::quarantine;
  }
  spdlog::warn("{}: quarantined ({}): {}", id, q.outcome, q.reason);
  publish("quarantine.added", quarantine_json(q));
  if (auto r = base::ensure_dir(folder, 0700); !r) {
    std::lock_guard lock(m_mutex);
    m_moving.erase(id);  // stays quarantined in staging, where it is equally out of the user's way
    return;
  }
  (void)m_swarm->move_storage(id, folder.string());
}

void Node::on_storage_moved(const std::string& id, const std::string& path) {
  Move kind;
  std::string name;
  bool from_quarantine = false;
  {
    std::lock_guard lock(m_mutex);
    auto it = m_moving.find(id);
    if (it == m_moving.end()) return;
    kind = it->second;
    m_moving.erase(it);
    auto& rec = m_records[id];
    name = rec.name;
    if (kind == Move::release) {
      rec.released = true;
      rec.completed_at = base::unix_seconds();
      (void)m_store->mark_released(id, rec.completed_at);
      from_quarantine = m_held.erase(id) > 0;
    }
  }
  std::error_code ec;
  std::filesystem::remove(m_home.staging_dir() / id, ec);  // now empty
  if (kind == Move::quarantine) return;
  std::filesystem::remove(m_home.quarantine_dir() / id, ec);
  auto released_path = (std::filesystem::path(path) / name).string();
  if (from_quarantine) {
    (void)m_quarantine->resolve(id, "released", base::unix_seconds());
    (void)resume(id);  // seed again, as any released download does
    spdlog::warn("{}: released from quarantine by the user to {}", id, released_path);
    publish("quarantine.released", {{"id", id}, {"path", released_path}});
  } else {
    spdlog::info("{}: released to {}", id, released_path);
  }
  publish("transfer.completed", {{"id", id}, {"name", name}, {"path", released_path}});
}

void Node::on_storage_move_failed(const std::string& id, const std::string& message) {
  Move kind;
  {
    std::lock_guard lock(m_mutex);
    auto it = m_moving.find(id);
    if (it == m_moving.end()) return;
    kind = it->second;
    m_moving.erase(it);
    if (kind == Move::release) {
      m_release_errors[id] = "could not move the finished download into place: " + message +
                             " (free the name or space there, then `kith resume " + id.substr(0, 8) + "`)";
    }
  }
  if (kind == Move::quarantine) {
    // Still quarantined (paused, recorded), only in staging instead of HOME/quarantine.
    spdlog::error("{}: could not move into the quarantine folder: {}", id, message);
    return;
  }
  spdlog::error("{}: {}", id, message);
  publish("transfer.error", {{"id", id}, {"message", message}});
}

Result<std::string> Node::resolve_quarantine(const std::string& prefix) {
  auto all = m_quarantine->list();
  if (!all) return tl::unexpected(all.error());
  std::string found;
  for (const auto& q : *all) {
    if (q.id.rfind(prefix, 0) != 0) continue;
    if (!found.empty()) {
      return fail(safety::make_error_code(safety::errc::unknown_item),
                  "'" + prefix + "' matches several quarantine items; give more digits");
    }
    found = q.id;
  }
  if (found.empty() || prefix.empty()) {
    return fail(safety::make_error_code(safety::errc::unknown_item),
                "no quarantine item '" + prefix + "' (see `kith quarantine list --all`)");
  }
  return found;
}

nlohmann::json Node::quarantine_list(bool include_resolved) {
  auto out = nlohmann::json::array();
  auto items = m_quarantine->list(include_resolved ? "" : "held");
  if (!items) return out;
  for (const auto& q : *items) out.push_back(quarantine_json(q));
  return out;
}

Result<nlohmann::json> Node::quarantine_show(const std::string& id) {
  auto full = resolve_quarantine(id);
  if (!full) return tl::unexpected(full.error());
  auto q = m_quarantine->get(*full);
  if (!q) return tl::unexpected(q.error());
  auto j = quarantine_json(**q);
  if (auto st = m_swarm->status(*full)) j["location"] = st->save_path;
  return j;
}

Status Node::quarantine_release(const std::string& id) {
  auto full = resolve_quarantine(id);
  if (!full) return tl::unexpected(full.error());
  std::filesystem::path destination;
  {
    std::lock_guard lock(m_mutex);
    if (!m_held.count(*full)) {
      return fail(safety::make_error_code(safety::errc::unknown_item),
                  "quarantine item " + full->substr(0, 8) + " is no longer held (released or deleted)");
    }
    if (m_moving.count(*full)) {
      return fail(base::make_error_code(base::errc::unavailable),
                  "quarantine item " + full->substr(0, 8) + " is being moved; try again in a moment");
    }
    destination = m_records[*full].destination;
  }
  if (!m_swarm->status(*full)) {
    return fail(base::make_error_code(base::errc::not_found),
                "the data of " + full->substr(0, 8) + " is gone (the transfer was removed)");
  }
  if (auto r = base::ensure_dir(destination); !r) return r;
  {
    std::lock_guard lock(m_mutex);
    m_release_errors.erase(*full);
    m_moving[*full] = Move::release;
  }
  spdlog::warn("{}: the user releases it from quarantine to {}", *full, destination.string());
  return m_swarm->move_storage(*full, destination.string());
}

Status Node::quarantine_delete(const std::string& id) {
  auto full = resolve_quarantine(id);
  if (!full) return tl::unexpected(full.error());
  {
    std::lock_guard lock(m_mutex);
    if (!m_held.count(*full)) {
      return fail(safety::make_error_code(safety::errc::unknown_item),
                  "quarantine item " + full->substr(0, 8) + " is no longer held (released or deleted)");
    }
  }
  if (m_swarm->status(*full)) return remove(*full, true);  // deletes the data and resolves the record
  // The transfer itself is gone (it could not be restored): clear what is left.
  std::error_code ec;
  std::filesystem::remove_all(m_home.quarantine_dir() / *full, ec);
  {
    std::lock_guard lock(m_mutex);
    m_held.erase(*full);
  }
  (void)m_quarantine->resolve(*full, "deleted", base::unix_seconds());
  publish("quarantine.deleted", {{"id", *full}});
  return {};
}

Result<nlohmann::json> Node::report(const std::string& id, const std::string& reason) {
  // A quarantine item (also one already deleted), else any transfer the node has.
  std::optional<store::QuarantineRecord> q;
  std::string full;
  if (auto qid = resolve_quarantine(id)) {
    full = *qid;
    if (auto rec = m_quarantine->get(full); rec && *rec) q = **rec;
  } else if (auto tid = m_swarm->resolve(id)) {
    full = *tid;
  } else {
    return tl::unexpected(tid.error());
  }

  safety::Report r;
  const auto now = base::unix_seconds();
  r.id = base::compact_utc(now) + "-" + full.substr(0, 8);
  r.created_at = base::rfc3339_utc(now);
  r.reason = reason;
  r.transfer_id = full;
  r.reporter_node = m_node_id;
  store::TransferRecord rec;
  nlohmann::json live_peers = nlohmann::json::array();
  for (const auto& p : m_swarm->sources(full)) live_peers.push_back(peer_json(p));
  {
    std::lock_guard lock(m_mutex);
    if (auto it = m_records.find(full); it != m_records.end()) rec = it->second;
  }
  r.name = q ? q->name : rec.name;
  r.link = q ? q->source : rec.source;
  r.outcome = q ? q->outcome : (rec.kind == "get" && rec.released ? "clean" : "not_scanned");
  r.signature = q ? q->signature : "";
  for (const auto& p : q ? parse_or(q->peers, nlohmann::json::array()) : live_peers) {
    if (p.is_object()) r.peers.push_back(p.value("endpoint", "") + " (" + p.value("client", "") + ")");
  }
  if (auto st = m_swarm->status(full)) {
    if (!st->hashes.v1.empty()) r.info_hashes.push_back("v1:" + st->hashes.v1);
    if (!st->hashes.v2.empty()) r.info_hashes.push_back("v2:" + st->hashes.v2);
    if (auto files = m_swarm->files(full)) {
      for (const auto& f : *files) {
        if (!f.wanted) continue;
        auto sha = crypto::sha256_file(std::filesystem::path(st->save_path) / f.path);
        if (!sha) continue;  // not on disk (yet): nothing to hash
        r.files.push_back({f.path, static_cast<std::uint64_t>(f.size), *sha});
      }
    }
  } else {
    r.info_hashes.push_back((full.size() == 40 ? "v1:" : "v2:") + full);
  }
  auto path = safety::write_report(r, m_home.reports_dir());
  if (!path) return tl::unexpected(path.error());
  if (m_settings.get_bool("safety.report_syslog")) safety::send_to_syslog(r);
  spdlog::warn("{}: reported: {} ({})", full, reason, path->string());
  publish("report.created", {{"id", r.id}, {"transfer_id", full}, {"path", path->string()}});
  return nlohmann::json{{"path", path->string()}, {"report", safety::to_json(r)}};
}

nlohmann::json Node::reports() {
  auto out = nlohmann::json::array();
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(m_home.reports_dir(), ec)) {
    if (entry.path().extension() != ".json") continue;
    auto text = base::read_file(entry.path(), 4u << 20);
    auto r = text ? safety::parse_report(*text) : Result<safety::Report>(tl::unexpected(text.error()));
    if (!r) {
      spdlog::warn("skipping {}: {}", entry.path().string(), r.error().message);
      continue;
    }
    auto j = safety::to_json(*r);
    j["path"] = entry.path().string();
    out.push_back(j);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a["id"] > b["id"]; });
  return out;
}

}  // namespace kith::app
