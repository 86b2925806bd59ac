#pragma once
// A libtorrent session plugin that closes connections to peers whose peer ID is blocked.
//
// The peer ID is known only after the BitTorrent handshake, so the check runs in the peer plugin's
// on_handshake() (libtorrent sets the ID just before calling it) and again once a second for
// established peers after the rules change. A refused peer is also marked banned in the torrent's
// peer list, so libtorrent does not dial it again in this session.
//
// Threading: the plugin callbacks run on libtorrent's network thread; set_rules() may be called from
// any thread (the rules are swapped under a mutex and read as an immutable snapshot).
#include <atomic>
#include <libtorrent/extensions.hpp>
#include <memory>
#include <mutex>
#include <vector>

#include "swarm/types.hpp"

namespace kith::swarm::detail {

class PeerIdFilter : public lt::plugin, public std::enable_shared_from_this<PeerIdFilter> {
 public:
  using Rules = std::vector<PeerIdRule>;

  void set_rules(Rules rules);
  // The current rules and their generation (bumped by every set_rules()).
  std::shared_ptr<const Rules> rules(int* generation = nullptr) const;
  static bool matches(const Rules& rules, const lt::peer_id& id);

  std::int64_t refused() const { return m_refused; }
  void count_refusal() { ++m_refused; }

  std::shared_ptr<lt::torrent_plugin> new_torrent(const lt::torrent_handle&, lt::client_data_t) override;

 private:
  mutable std::mutex m_mutex;
  std::shared_ptr<const Rules> m_rules = std::make_shared<Rules>();
  int m_generation = 0;
  std::atomic<std::int64_t> m_refused{0};
};

}  // namespace kith::swarm::detail
