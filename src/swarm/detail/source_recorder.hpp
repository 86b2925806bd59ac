#pragma once
// A libtorrent session plugin that remembers, per transfer, every peer that sent it payload: what
// SessionHost::sources() reports (quarantine records and reports name them).
//
// It replaces libtorrent's block_finished alerts, which kith used to turn on only for this: one alert per
// 16 KiB block crowds the alert queue at full speed (metadata_received could be dropped). Here each peer
// connection notes itself once, at the first block it sends (the peer plugin's on_piece hook); later
// blocks cost one flag test. Like the alerts it names a peer whether or not its data later passes the
// hash check, and a peer gone by the time the download finishes is still named.
//
// Threading: the hooks run on libtorrent's network thread; sources()/forget() from any thread.
#include <libtorrent/extensions.hpp>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "swarm/types.hpp"

namespace kith::swarm::detail {

class SourceRecorder : public lt::plugin {
 public:
  // The peers of one transfer, one per endpoint, first seen first. Shared by the transfer's plugin
  // parts, so that a peer noted after forget() lands in a list nobody reads.
  class Log {
   public:
    void record(PeerStatus peer);
    std::vector<PeerStatus> peers() const;

   private:
    mutable std::mutex m_mutex;
    std::vector<PeerStatus> m_peers;
  };

  // Every peer that sent transfer `id` payload since it was added in this session.
  std::vector<PeerStatus> sources(const std::string& id) const;
  // The transfer left the session.
  void forget(const std::string& id);

  // A new transfer (libtorrent calls this while adding it): a fresh log under its id.
  std::shared_ptr<lt::torrent_plugin> new_torrent(const lt::torrent_handle&, lt::client_data_t) override;

 private:
  mutable std::mutex m_mutex;
  std::map<std::string, std::shared_ptr<Log>> m_logs;  // transfer id -> its log
};

}  // namespace kith::swarm::detail
