// DownloadProgress (docs/sync.md § Download progress; sync/progress.hpp), as Syncthing 1.19's progress
// emitter: while files are pulled, every sync.progress_interval_s (5 s) each connected device that
// shares the folder is told which blocks each file's temporary file holds now (only what it was not told
// yet), and to forget a file once it is done or abandoned. Devices fetch those blocks with Requests
// marked from_temporary (engine_net.cpp). A device's own DownloadProgress is checked and kept, bounded,
// and the puller requests blocks from those temporary files too (engine_pull.cpp, source_pick.hpp).
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <string_view>

#include "base/terminal.hpp"
#include "sync/engine.hpp"

namespace kith::sync {
namespace asio = boost::asio;

namespace {
constexpr int PROGRESS_WARNINGS = 5;  // lines logged about one connection's DownloadProgress
}

void Engine::arm_progress() {
  if (m_progress_armed || m_stopped) return;
  if (!m_progress_timer) m_progress_timer = std::make_unique<asio::steady_timer>(m_strand);
  m_progress_armed = true;
  m_progress_timer->expires_after(std::chrono::seconds(std::max(1, m_deps.progress_interval_s)));
  m_progress_timer->async_wait([this](boost::system::error_code ec) {
    m_progress_armed = false;
    if (ec || m_stopped) return;
    send_progress();
  });
}

void Engine::send_progress() {
  bool again = false;  // files still pulled, or devices still to be told to forget some
  for (auto& [device, d] : m_devices) {
    if (!d.conn) continue;
    // A folder removed or no longer shared (either way): what it was told is forgotten, on both sides.
    for (auto it = d.progress_sent.begin(); it != d.progress_sent.end();) {
      auto f = m_folders.find(it->first);
      auto p = d.folders.find(it->first);
      const bool shared =
          f != m_folders.end() && f->second.devices.count(device) && p != d.folders.end() && p->second.shares;
      if (shared) {
        ++it;
        continue;
      }
      if (auto forget = it->second.forget_all(); !forget.empty())
        d.conn->send(bep::pb::MESSAGE_TYPE_DOWNLOAD_PROGRESS, to_wire(it->first, forget));
      d.progress_received.forget_folder(it->first);
      it = d.progress_sent.erase(it);
    }
  }
  for (auto& [id, f] : m_folders) {
    if (!f.in_temp.empty()) again = true;
    std::optional<std::vector<PullingFile>> now;  // listed once per folder, if some device needs it
    for (auto& [device, d] : m_devices) {
      if (!d.conn || !f.devices.count(device)) continue;
      auto p = d.folders.find(id);
      // Told once the index exchange started (its ClusterConfig came, listing the folder).
      if (p == d.folders.end() || !p->second.shares || !p->second.index_started) continue;
      auto sent = d.progress_sent.find(id);
      if (f.in_temp.empty() && sent == d.progress_sent.end()) continue;
      if (!now) now = pulling_files(f);
      SentProgress& s = d.progress_sent[id];
      auto updates = s.update(*now);
      if (!updates.empty()) d.conn->send(bep::pb::MESSAGE_TYPE_DOWNLOAD_PROGRESS, to_wire(id, updates));
      if (s.empty())
        d.progress_sent.erase(id);
      else
        again = true;
    }
  }
  if (again) arm_progress();
}

void Engine::on_download_progress(Device& d, const bep::Message& msg) {
  auto warn = [&](const std::string& what) {
    if (d.progress_warnings++ < PROGRESS_WARNINGS)
      spdlog::info(
          "sync: {} sent DownloadProgress {}: ignored{}", short_text(d.record.id), what,
          d.progress_warnings == PROGRESS_WARNINGS ? " (no more of these logged for this connection)" : "");
  };
  auto p = bep::parse_body<bep::pb::DownloadProgress>(msg);
  if (!p) return warn("that does not parse");
  auto f = m_folders.find(p->folder());
  if (f == m_folders.end() || !f->second.devices.count(d.record.id))
    return warn("for folder \"" + base::terminal_safe(p->folder().substr(0, 64)) + "\", not shared with it");
  auto received = to_updates(*p);
  if (received.refused > 0)
    warn("for folder " + base::terminal_safe(f->first) + " with " + std::to_string(received.refused) +
         " update(s) refused, " + received.problem);
  // Files it starts telling of (or of another version): one this node needs and could not pull for want
  // of a connected device with it may be pulled from that temporary file now.
  std::vector<const ProgressUpdate*> fresh;
  for (const auto& u : received.updates)
    if (!u.forget && !d.progress_received.blocks(f->first, u.name, u.version)) fresh.push_back(&u);
  if (const auto dropped = d.progress_received.apply(f->first, received.updates); dropped > 0)
    warn("past what is kept of a device's (" + std::to_string(dropped) + " update(s))");
  std::erase_if(fresh, [&](const ProgressUpdate* u) {
    return !d.progress_received.blocks(f->first, u->name, u->version);
  });
  if (!fresh.empty()) pull_for_temporary(f->second, fresh);
}

void Engine::pull_for_temporary(Folder& f, const std::vector<const ProgressUpdate*>& files) {
  // Being pulled already: its next requests see the new source.
  std::map<std::string_view, const ProgressUpdate*> told;
  for (const auto* u : files)
    if (!f.in_temp.count(u->name)) told.emplace(u->name, u);
  if (told.empty()) return;
  // Needed, at exactly that version, by the last plan (which left it out if no device with it was
  // connected). One pass over the needs, however many files the message names.
  for (const auto& n : f.global.needs) {
    auto u = told.find(n.global.name);
    if (u != told.end() && n.global.version == u->second->version)
      return pull(f.record.id);  // or planned again once the running round ends
  }
}

}  // namespace kith::sync
