#include "swarm/detail/source_recorder.hpp"

#include <libtorrent/peer_connection_handle.hpp>
#include <libtorrent/torrent_handle.hpp>
#include <libtorrent/torrent_info.hpp>

#include "base/hex.hpp"
#include "swarm/detail/source_data.hpp"
#include "swarm/detail/status.hpp"

namespace kith::swarm::detail {
namespace {

class PeerPart : public lt::peer_plugin {
 public:
  PeerPart(std::shared_ptr<SourceRecorder::Log> log, lt::peer_connection_handle peer)
      : m_log(std::move(log)), m_peer(std::move(peer)) {}

  lt::string_view type() const override { return "kith_source_recorder"; }

  bool on_piece(lt::peer_request const&, lt::span<char const>) override {
    if (m_recorded) return false;
    m_recorded = true;
    PeerStatus peer;
    peer.endpoint = endpoint_text(m_peer.remote());
    const auto& pid = m_peer.pid();
    peer.peer_id = base::to_hex(std::string_view(pid.data(), static_cast<std::size_t>(pid.size())));
    m_log->record(std::move(peer));
    return false;  // only watching: libtorrent handles the block as usual
  }

 private:
  std::shared_ptr<SourceRecorder::Log> m_log;
  lt::peer_connection_handle m_peer;
  bool m_recorded = false;
};

class TorrentPart : public lt::torrent_plugin {
 public:
  explicit TorrentPart(std::shared_ptr<SourceRecorder::Log> log) : m_log(std::move(log)) {}
  std::shared_ptr<lt::peer_plugin> new_connection(const lt::peer_connection_handle& h) override {
    return std::make_shared<PeerPart>(m_log, h);  // web seeds too: they send payload
  }

 private:
  std::shared_ptr<SourceRecorder::Log> m_log;
};

}  // namespace

void SourceRecorder::Log::record(PeerStatus peer) {
  std::lock_guard lock(m_mutex);
  for (const auto& p : m_peers) {
    if (p.endpoint == peer.endpoint) return;  // first seen wins (a reconnect from the same endpoint)
  }
  m_peers.push_back(std::move(peer));
}

std::vector<PeerStatus> SourceRecorder::Log::peers() const {
  std::lock_guard lock(m_mutex);
  return m_peers;
}

std::vector<PeerStatus> SourceRecorder::sources(const std::string& id) const {
  std::shared_ptr<Log> log;
  {
    std::lock_guard lock(m_mutex);
    auto it = m_logs.find(id);
    if (it == m_logs.end()) return {};
    log = it->second;
  }
  return log->peers();
}

void SourceRecorder::forget(const std::string& id) {
  std::lock_guard lock(m_mutex);
  m_logs.erase(id);
}

std::shared_ptr<lt::torrent_plugin> SourceRecorder::new_torrent(const lt::torrent_handle& h,
                                                                lt::client_data_t) {
  // The id SessionHost files the transfer under: the one its add-time hashes give (info_hashes() reads
  // the torrent directly, no call into the network thread this runs on).
  auto log = std::make_shared<Log>();
  {
    std::lock_guard lock(m_mutex);
    m_logs[to_hashes(h.info_hashes()).id()] = log;
  }
  return std::make_shared<TorrentPart>(std::move(log));
}

}  // namespace kith::swarm::detail
